"""How each connection signs in, as the daemon last saw it: method, token expiry, and since when it fails."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from mailroom.clock import as_utc
from mailroom.store.models import Setting, database

PREFIX = "signin:"


@dataclass(frozen=True)
class SignInState:
    """One connection's sign-in: never a secret, only what status and the health check need."""

    connection: str  # imap or smtp
    method: str  # password, or oauth2 (provider)
    key: str  # the config key the sign-in reads
    token_expires_at: str | None  # ISO 8601 UTC, oauth2 only
    failing_since: str | None  # ISO 8601 UTC of the first failure in a row, None while sign-in works
    error: str | None  # the one line of the last failure
    recovered_at: str | None = None  # ISO 8601 UTC of the last sign-in that worked after failures


def save(states: list[SignInState]) -> None:
    """Record each connection's state (one row each, replaced)."""
    with database.atomic():
        for state in states:
            value = json.dumps(asdict(state))
            key = f"{PREFIX}{state.connection}"
            if not Setting.update(value=value).where(Setting.key == key).execute():
                # ON CONFLICT … DO UPDATE: both SQLite and PostgreSQL speak it (REPLACE is SQLite's alone).
                Setting.insert(key=key, value=value).on_conflict(
                    conflict_target=[Setting.key], update={Setting.value: value}
                ).execute()


def load() -> list[SignInState]:
    """Every connection's recorded state, by connection name."""
    states = []
    for row in Setting.select().where(Setting.key.startswith(PREFIX)).order_by(Setting.key):
        try:
            states.append(SignInState(**json.loads(row.value)))
        except (ValueError, TypeError):
            continue  # written by another version: ignored, the next save replaces it
    return states


def recovered(states: list[SignInState]) -> dict[str, datetime]:
    """For each connection of `states` whose sign-in worked again after failing, when."""
    return {state.connection: as_utc(datetime.fromisoformat(state.recovered_at))
            for state in states if state.recovered_at and not state.failing_since}


def failing(limit: datetime, states: list[SignInState]) -> dict[str, str]:
    """For each connection of `states` whose sign-in has failed since before `limit`, why."""
    return {
        state.connection: f"{state.connection} sign-in failing since {state.failing_since}: {state.error}"
        for state in states
        if state.failing_since and as_utc(datetime.fromisoformat(state.failing_since)) < limit
    }
