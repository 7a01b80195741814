"""What the team promises and to whom it falls: SLA policies, their calendars, teams; defaults and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from mailroom.rules.yamlmarks import Mark, MarkedList, MarkedMap, Problems, kind, suggest
from mailroom.sla.calendar import WEEKDAYS, Calendar, Duration, Ranges
from mailroom.sla.policies import (
    METRICS,
    POLICY_KEYS,
    Policy,
    default_policies,
    policy_fields,
)

RESPONDER_TYPES = ("team", "user", "escalation", "schedule")


@dataclass(frozen=True)
class Team:
    """Who hears of a team's tickets, who belongs to it, whom OpsGenie pages for it."""

    name: str
    notify: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    opsgenie_responders: tuple[dict[str, str], ...] = ()


def read_policy_keys(problems: Problems, mapping: MarkedMap, calendars: set[str], where: str) -> dict[str, Any]:
    """Validate the keys of a policy (or an inline override); answer them JSON-ready, as written."""
    problems.known_keys(mapping, POLICY_KEYS, f"{where} key")
    raw: dict[str, Any] = {}
    for key, value in mapping.items():
        mark = mapping.at(key)
        if key in METRICS or key == "warn_before":
            if value is None and key != "warn_before":
                raw[key] = None  # a metric this policy does not track
            elif isinstance(value, str) and _duration_ok(problems, value, mark, key):
                raw[key] = value.strip()
            elif not isinstance(value, str):
                problems.add(mark, f'{key}: expected a duration like "4h" or "1d", got {kind(value)}')
        elif key == "calendar":
            name = problems.text(value, mark, key)
            if name is not None and name not in calendars:
                problems.add(mark, f"unknown calendar '{name}'{suggest(name, calendars)}")
            elif name is not None:
                raw[key] = name
        elif key == "escalate":
            if problems.flag(value, mark, key) is not None:
                raw[key] = value
        elif key == "min_words":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                raw[key] = value
            else:
                problems.add(mark, f"min_words: expected a whole number of words, got {kind(value)}")
        elif key == "holding_replies":
            found = problems.texts(value, mark, key)
            patterns = [text for text, at in found if compiles(problems, text, at)]
            if len(patterns) == len(found):
                raw[key] = patterns
    return raw


def _duration_ok(problems: Problems, text: str, mark: Mark, key: str) -> bool:
    try:
        duration = Duration.parse(text)
    except ValueError as exc:
        problems.add(mark, f"{key}: {exc}")
        return False
    if duration.amount <= 0:
        problems.add(mark, f'{key}: expected a duration above zero, got "{text}"')
        return False
    return True


def compiles(problems: Problems, pattern: str, mark: Mark) -> bool:
    """True when `pattern` is a valid regular expression; else the error is recorded."""
    try:
        re.compile(pattern)
    except re.error as exc:
        problems.add(mark, f"bad regular expression '{pattern}': {exc}")
        return False
    return True


def read_policies(problems: Problems, section: Any, mark: Mark, calendars: set[str]) -> dict[str, Policy]:
    """The `sla:` section, with the built-in P1..P5 filling what it leaves out."""
    business = "business" if "business" in calendars else "always"
    builtin = default_policies(business)
    policies = dict(builtin)
    mapping = problems.mapping(section, mark, "sla")
    if mapping is None:
        return policies
    for name, value in mapping.items():
        if not isinstance(name, str) or not name.strip():
            problems.add(mapping.key_at(name), f"sla: a policy name must be text, got {kind(name)}")
            continue
        base = builtin.get(name, Policy(name, calendar=business))
        body = problems.mapping(value, mapping.at(name), f"sla policy '{name}'")
        raw = read_policy_keys(problems, body, calendars, "sla") if body is not None else {}
        policies[name] = replace(base, **policy_fields(raw))
    return policies


def read_calendars(problems: Problems, section: Any, mark: Mark) -> dict[str, Calendar]:
    """The `calendars:` section; `always` (24x7, UTC) exists unless the file defines it."""
    calendars = {"always": Calendar.always()}
    mapping = problems.mapping(section, mark, "calendars")
    if mapping is None:
        return calendars
    for name, value in mapping.items():
        at = mapping.at(name)
        if not isinstance(name, str):
            problems.add(mapping.key_at(name), f"calendars: a calendar name must be text, got {kind(name)}")
        elif value == "24x7":
            calendars[name] = Calendar.always(name)
        elif isinstance(value, MarkedMap):
            # A calendar with errors still counts as defined, so policies naming it raise no second error.
            calendars[name] = _read_calendar(problems, name, value) or Calendar.always(name)
        else:
            problems.add(at, f'calendar \'{name}\': expected "24x7" or a mapping with timezone and hours, got {kind(value)}')
            calendars[name] = Calendar.always(name)
    return calendars


def _read_calendar(problems: Problems, name: str, mapping: MarkedMap) -> Calendar | None:
    problems.known_keys(mapping, ("timezone", "hours", "holidays"), "calendar key")
    zone_name = "UTC"
    if "timezone" in mapping:
        zone_name = problems.text(mapping["timezone"], mapping.at("timezone"), "timezone") or "UTC"
    elif mapping.get("hours") != "24x7":
        problems.add(mapping.mark, f"calendar '{name}' needs a timezone (e.g. \"America/Los_Angeles\")")
    try:
        Calendar.always(name, zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(mapping.at("timezone"), f"unknown timezone '{zone_name}'")
        zone_name = "UTC"
    holidays = _read_holidays(problems, mapping)
    hours = mapping.get("hours")
    if hours == "24x7":
        return Calendar.always(name, zone_name)
    if "hours" not in mapping:
        problems.add(mapping.mark, f"calendar '{name}' needs hours, e.g. {{mon-fri: \"09:00-17:00\"}}, or \"24x7\"")
        return None
    before = len(problems.found)
    week = _read_hours(problems, hours, mapping.at("hours"))
    if week is None or len(problems.found) > before:
        return None
    if not any(week):
        problems.add(mapping.at("hours"), f"calendar '{name}' has no working hours")
        return None
    return Calendar.business(name, zone_name, week, holidays)


def _read_holidays(problems: Problems, mapping: MarkedMap) -> set[date]:
    if "holidays" not in mapping or mapping["holidays"] is None:
        return set()
    found = problems.items(mapping["holidays"], mapping.at("holidays"), "holidays")
    days: set[date] = set()
    if found is None:
        return days
    for index, value in enumerate(found):
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            days.add(value)
            continue
        try:
            days.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            problems.add(found.at(index), f"bad holiday {kind(value)}: expected a date like 2026-12-25")
    return days


_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _read_hours(problems: Problems, value: Any, mark: Mark) -> tuple[Ranges, ...] | None:
    mapping = problems.mapping(value, mark, "hours")
    if mapping is None:
        return None
    week: list[list[tuple[int, int]] | None] = [None] * 7
    for key, ranges_text in mapping.items():
        days = _days(str(key))
        if days is None:
            problems.add(mapping.key_at(key), f"bad day '{key}': expected names like mon-fri, sat or mon,wed")
            continue
        ranges = _ranges(problems, ranges_text, mapping.at(key))
        if ranges is None:
            continue
        for day in days:
            if week[day] is not None:
                problems.add(mapping.key_at(key), f"{WEEKDAYS[day]} is given hours twice")
            week[day] = ranges
    return tuple(tuple(day or ()) for day in week)


def _days(key: str) -> list[int] | None:
    days: list[int] = []
    for part in key.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            return None
        start = WEEKDAYS.index(first)
        stop = WEEKDAYS.index(last) if last else start
        days += [(start + step) % 7 for step in range((stop - start) % 7 + 1)]
    return days


def _ranges(problems: Problems, value: Any, mark: Mark) -> list[tuple[int, int]] | None:
    usage = 'expected ranges like "09:00-17:00" or "09:00-12:00,13:00-17:00"'
    if not isinstance(value, str):
        problems.add(mark, f"bad hours {kind(value)}: {usage}")
        return None
    ranges = []
    for part in value.split(","):
        match = _RANGE.match(part)
        if not match:
            problems.add(mark, f'bad hours "{value}": {usage}')
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start > 1440 or end > 1440:
            problems.add(mark, f'bad hours "{value}": times run from 00:00 to 24:00')
            return None
        if end <= start:
            problems.add(mark, f'bad hours "{value}": {part.strip()} ends before it starts')
            return None
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            problems.add(mark, f'bad hours "{value}": the ranges overlap')
            return None
    return ranges


def read_teams(problems: Problems, value: Any, mark: Mark) -> dict[str, Team]:
    """The `teams:` section."""
    teams: dict[str, Team] = {}
    mapping = problems.mapping(value, mark, "teams")
    if mapping is None:
        return teams
    for name, body in mapping.items():
        if not isinstance(name, str):
            problems.add(mapping.key_at(name), f"teams: a team name must be text, got {kind(name)}")
            continue
        team = problems.mapping(body, mapping.at(name), f"team '{name}'")
        if team is None:
            teams[name] = Team(name)
            continue
        problems.known_keys(team, ("notify", "members", "opsgenie_responders"), "team key")
        notify = problems.addresses(team["notify"], team.at("notify"), "notify") if "notify" in team else []
        members = problems.patterns(team["members"], team.at("members"), "members") if "members" in team else []
        responders = _responders(problems, team.get("opsgenie_responders"), team.at("opsgenie_responders"))
        teams[name] = Team(name, tuple(notify), tuple(members), responders)
    return teams


def _responders(problems: Problems, value: Any, mark: Mark) -> tuple[dict[str, str], ...]:
    if value is None:
        return ()
    found = problems.items(value, mark, "opsgenie_responders") or MarkedList()
    result = []
    for index, item in enumerate(found):
        what = "opsgenie_responders"
        entry = problems.mapping(item, found.at(index), what)
        if entry is None:
            continue
        problems.known_keys(entry, ("type", "name", "id", "username"), "responder key")
        kind_ = entry.get("type")
        if kind_ not in RESPONDER_TYPES:
            choices = ", ".join(RESPONDER_TYPES)
            problems.add(entry.at("type"), f"{what}: type must be one of {choices}, got {kind(kind_)}")
        elif not any(isinstance(entry.get(k), str) for k in ("name", "id", "username")):
            problems.add(entry.mark, f"{what}: a responder needs a name, id or username")
        else:
            result.append({str(k): str(v) for k, v in entry.items()})
    return tuple(result)
