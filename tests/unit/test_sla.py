"""SLA arithmetic without a database: due times, warnings, holding replies, pauses, re-planning."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mailroom.sla import deadlines as sla
from mailroom.sla.calendar import Calendar, Duration
from mailroom.sla.policies import Policy

ALWAYS = Calendar.always()
# 09:00-17:00 Monday to Friday in UTC keeps the expected instants easy to read.
BUSINESS = Calendar.business("business", "UTC", {d: ((540, 1020),) for d in ("mon", "tue", "wed", "thu", "fri")})
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FRIDAY_16 = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)

P1 = Policy(
    "P1", Duration(1, "h"), Duration(2, "h"), Duration(1, "d"), calendar="always", escalate=True,
    warn_before=Duration(15, "m"), min_words=25,
    holding_replies=(re.compile("(?i)we are on it"), re.compile("(?i)looking into (it|this)")),
)
P2 = Policy("P2", Duration(4, "h"), None, Duration(3, "d"), calendar="business", escalate=True)


def test_due_in_a_24x7_calendar_is_wall_clock() -> None:
    assert sla.due_at(P1, ALWAYS, "first_response", MONDAY_10) == MONDAY_10 + timedelta(hours=1)
    assert sla.due_at(P1, ALWAYS, "resolution", MONDAY_10) == MONDAY_10 + timedelta(days=1)


def test_due_in_business_hours_skips_the_weekend() -> None:
    # Friday 16:00 + 4 working hours: one hour on Friday, three on Monday.
    assert sla.due_at(P2, BUSINESS, "first_response", FRIDAY_16) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    # `d` is one working day (8h): Friday 16:00 + 3d ends Wednesday 16:00.
    assert sla.due_at(P2, BUSINESS, "resolution", FRIDAY_16) == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


def test_metric_the_policy_lacks_has_no_due() -> None:
    assert sla.due_at(P2, BUSINESS, "next_response", MONDAY_10) is None


def test_warning_comes_warn_before_the_due_time() -> None:
    due = MONDAY_10 + timedelta(hours=1)
    assert sla.warn_at(P1, due) == due - timedelta(minutes=15)
    assert sla.warn_at(P2, due) is None
    assert sla.warn_at(P1, None) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [("", 0), ("We are on it!", 4), ("It's fixed — restart the service.", 5), ("a_b c", 3), ("  \n ", 0)],
)
def test_word_count(text: str, words: int) -> None:
    assert sla.word_count(text) == words


def test_short_holding_phrase_is_holding() -> None:
    assert sla.is_holding("We are on it!", P1)
    assert sla.is_holding("Thanks, looking into this now.\n-- \nAlice", P1)


def test_holding_phrase_in_a_long_answer_is_an_answer() -> None:
    text = "We are on it. " + "The certificate expired overnight; we renewed it and restarted the proxy. " * 3
    assert sla.word_count(text) >= 25
    assert not sla.is_holding(text, P1)


def test_short_real_answer_is_not_holding() -> None:
    assert not sla.is_holding("Restart the router, then it works.", P1)


def test_min_words_is_the_policy_s() -> None:
    strict = replace(P1, min_words=3)
    assert not sla.is_holding("We are on it, restarting the database now", strict)


def test_built_in_phrases_apply_by_default() -> None:
    default = Policy("P3", Duration(1, "d"))
    assert sla.is_holding("Thanks for reaching out, we'll get back to you shortly.", default)
    assert not sla.is_holding("Your invoice is attached.", default)


def test_counts_as_response() -> None:
    assert sla.counts_as_response("Restart the router, then it works.", False, P1)
    assert not sla.counts_as_response("Restart the router, then it works.", True, P1)  # #holding
    assert not sla.counts_as_response("We are on it!", False, P1)
    assert not sla.counts_as_response("   ", False, P1)


def test_resume_keeps_the_working_time_left() -> None:
    due = MONDAY_10 + timedelta(hours=5)
    paused_at = MONDAY_10 + timedelta(hours=1)
    resumed = paused_at + timedelta(hours=2)
    assert sla.resumed_due(ALWAYS, due, paused_at, resumed) == due + timedelta(hours=2)
    assert sla.paused_working(ALWAYS, paused_at, resumed) == timedelta(hours=2)


def test_resume_in_business_hours_counts_working_time_only() -> None:
    # Paused Friday 16:00 with 30 working minutes left, resumed Monday 10:00: due Monday 10:30.
    due = FRIDAY_16 + timedelta(minutes=30)
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert sla.resumed_due(BUSINESS, due, FRIDAY_16, monday) == monday + timedelta(minutes=30)
    assert sla.paused_working(BUSINESS, FRIDAY_16, monday) == timedelta(hours=2)


def test_resume_of_an_overdue_clock_is_due_at_once() -> None:
    due = MONDAY_10
    assert sla.resumed_due(ALWAYS, due, due + timedelta(hours=1), due + timedelta(hours=3)) == due + timedelta(hours=3)


def test_replan_from_the_start_keeps_past_pauses() -> None:
    assert sla.replanned_due(P1, ALWAYS, "first_response", MONDAY_10) == MONDAY_10 + timedelta(hours=1)
    assert sla.replanned_due(P1, ALWAYS, "first_response", MONDAY_10, timedelta(minutes=30)) == (
        MONDAY_10 + timedelta(minutes=90)
    )
    assert sla.replanned_due(P2, BUSINESS, "next_response", MONDAY_10) is None


def test_policy_name_follows_the_priority_unless_a_rule_named_one() -> None:
    assert sla.policy_name("P1", "P3") == "P1"
    assert sla.policy_name("P1", "") == "P1"
    assert sla.policy_name("P1", None) == "P1"
    assert sla.policy_name("P1", "enterprise") == "enterprise"


def test_alert_alias() -> None:
    assert sla.alert_alias(12, "first_response") == "mailroom-ticket-12-first_response"
    assert sla.alert_alias(12, "page-security") == "mailroom-ticket-12-page-security"
