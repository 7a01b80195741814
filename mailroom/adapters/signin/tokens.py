"""Credentials the IMAP and SMTP adapters sign in with: a password, or tokens renewed ahead of expiry."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from mailroom import clock
from mailroom.config.secrets import Secret
from mailroom.errors import ConfigError, SignInError

log = logging.getLogger("mailroom.signin")

RENEW_AHEAD = timedelta(minutes=5)  # ahead of expiry; a tenth of the lifetime when that is shorter


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working; never shown by repr."""

    access_token: str = field(repr=False)
    expires_at: datetime
    issued_at: datetime
    who: str = ""  # the account it signs in as, when the provider says

    def renew_at(self) -> datetime:
        """When to fetch the next one: a few minutes ahead, or a tenth of the lifetime when shorter."""
        lifetime = self.expires_at - self.issued_at
        return self.expires_at - min(RENEW_AHEAD, lifetime / 10)


class Provider(Protocol):
    """Where tokens come from: one call to the token endpoint per fetch."""

    name: str  # microsoft, google, generic

    def fetch(self, force: bool) -> Token:
        """A new token; SignInError with the one line naming the key and the provider's code."""
        ...


class Credentials:
    """What a connection signs in with; remembers whether the last sign-in worked, and since when it fails."""

    method = "password"

    def __init__(self, key: str) -> None:
        self.key = key  # the config key errors name: mailbox.password_env, mailbox.oauth2, …
        self.failing_since: datetime | None = None
        self.last_error: str | None = None
        self.recovered_at: datetime | None = None  # when a sign-in last worked after failing
        self._state = threading.Lock()

    def secret(self, force: bool = False) -> str:
        """The password, or a token good for a while (`force`: a new one)."""
        raise NotImplementedError

    @property
    def expires_at(self) -> datetime | None:
        """When the token signed in with stops working; None for a password."""
        return None

    def renewal_due(self) -> bool:
        """True when a connection signed in now should sign in again (its token is about to expire)."""
        return False

    def failed(self, line: str) -> None:
        """Note a failed sign-in (kept until one works)."""
        with self._state:
            if self.failing_since is None:
                self.failing_since = clock.now()
            self.last_error = line

    def worked(self) -> None:
        """Note a sign-in the server accepted."""
        with self._state:
            if self.failing_since is not None:
                self.recovered_at = clock.now()
            self.failing_since = None
            self.last_error = None

    def describe(self) -> str:
        """The sign-in method as status shows it."""
        return self.method


class Password(Credentials):
    """A password from the environment or a file, read at each sign-in: a fixed file needs no restart."""

    def __init__(self, key: str, password: str | Secret) -> None:
        super().__init__(key)
        self._password = password

    def secret(self, force: bool = False) -> str:
        """The password."""
        try:
            return self._password if isinstance(self._password, str) else self._password.reveal()
        except ConfigError as exc:  # a file removed or emptied since the start: retried like a refusal
            self.failed(str(exc))
            raise SignInError(str(exc)) from None

    def __repr__(self) -> str:
        return f"Password({self.key})"


class TokenCache:
    """One provider's current token, fetched when first needed and renewed ahead of expiry; thread-safe."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.token: Token | None = None
        self._fetching = threading.Lock()

    def get(self, key: str, force: bool) -> Token:
        """The cached token, or a new one when due (or forced)."""
        with self._fetching:
            token = self.token
            if force or token is None or clock.now() >= token.renew_at():
                try:
                    token = self.provider.fetch(force)
                except ConfigError as exc:  # a credentials file unreadable now: retried, and paged
                    raise SignInError(str(exc)) from None
                self.token = token
                log.info("action=token-renewed key=%s provider=%s expires_at=%s", key,
                         self.provider.name, token.expires_at.isoformat())
            return token


class Tokens(Credentials):
    """OAuth2 access tokens from a TokenCache, which the IMAP and SMTP connections may share."""

    method = "oauth2"

    def __init__(self, key: str, provider: Provider | TokenCache) -> None:
        super().__init__(key)
        self.cache = provider if isinstance(provider, TokenCache) else TokenCache(provider)
        self.provider = self.cache.provider

    def __repr__(self) -> str:
        return f"Tokens({self.key}, {self.provider.name})"

    def describe(self) -> str:
        """`oauth2 (microsoft)`."""
        return f"oauth2 ({self.provider.name})"

    @property
    def expires_at(self) -> datetime | None:
        """When the current token expires."""
        return self.cache.token.expires_at if self.cache.token else None

    @property
    def who(self) -> str:
        """The account the provider says the token is for, when it says."""
        return self.cache.token.who if self.cache.token else ""

    def renewal_due(self) -> bool:
        """The current token is within its renewal margin."""
        token = self.cache.token
        return token is not None and clock.now() >= token.renew_at()

    def secret(self, force: bool = False) -> str:
        """A token good for a while: the cached one, or a new one when due (or forced)."""
        try:
            return self.cache.get(self.key, force).access_token
        except SignInError as exc:
            self.failed(str(exc))
            raise
