"""SLA clocks in the database: started, met, paused, breached; the alerts and pages they raise.

Every function runs inside the caller's transaction; alerts are outbox rows written in that same
transaction, so a breach and its alert are committed together or not at all.

A reopened ticket (solved or closed → open) gets a fresh `resolution` clock from the reopening:
the first one stays as it ended (met or breached), so reports keep the solve that really happened,
and the customer's renewed request gets the policy's full resolution time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from mailroom.app import alerting, outbound
from mailroom.app.context import Context
from mailroom.config.units import iso
from mailroom.sla import deadlines as sla
from mailroom.sla.calendar import Calendar
from mailroom.sla.policies import Policy
from mailroom.store import queries as store
from mailroom.store.models import Clock, Event, Page, Ticket

OPEN = ("running", "paused")
RESPONSES = ("first_response", "next_response")
BATCH = 1000  # clocks per check; the rest waits for the next cycle, keeping one transaction short
CLOSE_SOLVED_AFTER = timedelta(days=4)


# --- the ticket's policy ----------------------------------------------------------------------


def policy_of(ctx: Context, ticket: Ticket) -> tuple[Policy, Calendar]:
    """The ticket's SLA policy (priority, a rule's named policy, inline overrides) and its calendar."""
    policy = ticket.decision.policy(ctx.rules, ticket.priority)
    return policy, ctx.rules.calendar_for(policy)


def escalation_configured(settings: Any) -> bool:
    """False when breaches are mailed to the team: OpsGenie is the backend but not configured."""
    backend = getattr(getattr(settings, "escalation", None), "backend", "opsgenie")
    return backend != "opsgenie" or getattr(settings, "opsgenie", None) is not None


def _start(ticket: Ticket, metric: str, at: datetime, policy: Policy, calendar: Calendar) -> Clock | None:
    due = sla.due_at(policy, calendar, metric, at)
    if due is None:
        return None
    return Clock.create(ticket=ticket.id, metric=metric, started_at=at, due_at=due,
                        warn_at=sla.warn_at(policy, due), escalate=policy.escalate)


def _owed(ticket: Ticket) -> pw.ModelSelect:
    """Response clocks still waiting for an answer: running, paused, or breached and unanswered."""
    return Clock.select().where(
        (Clock.ticket == ticket.id)
        & Clock.metric.in_(RESPONSES)
        & (Clock.state.in_(OPEN) | ((Clock.state == "breached") & Clock.met_at.is_null()))
    )


def _open_clocks(ticket: Ticket, metrics: tuple[str, ...] | None = None) -> list[Clock]:
    query = Clock.select().where((Clock.ticket == ticket.id) & Clock.state.in_(OPEN))
    if metrics:
        query = query.where(Clock.metric.in_(metrics))
    return list(query.order_by(Clock.id))


# --- the ticket's life ------------------------------------------------------------------------


def ticket_opened(ctx: Context, ticket: Ticket, at: datetime) -> None:
    """Start `first_response` and `resolution` (those the policy tracks), due in its calendar."""
    policy, calendar = policy_of(ctx, ticket)
    for metric in ("first_response", "resolution"):
        _start(ticket, metric, at, policy, calendar)


def customer_message(ctx: Context, ticket: Ticket, at: datetime) -> None:
    """A customer's later mail starts `next_response`, unless a response is already owed."""
    policy, calendar = policy_of(ctx, ticket)
    if policy.next_response is None or _owed(ticket).exists():
        return  # a first response still owed covers this mail too
    clock = _start(ticket, "next_response", at, policy, calendar)
    if clock is not None and ticket.status == "pending":
        Clock.update(state="paused", paused_at=at).where(Clock.id == clock.id).execute()


def agent_response(ctx: Context, ticket: Ticket, at: datetime, text: str, holding: bool) -> bool:
    """Meet the response clocks when the reply is substantive; True when it counted."""
    policy, _ = policy_of(ctx, ticket)
    if not sla.counts_as_response(text, holding, policy):
        return False
    for clock in _owed(ticket):
        # A breach already recorded (and maybe paged) stays one; met_at still tells when the answer came.
        clock.met_at = at
        if clock.state == "running" and clock.due_at is not None and at > clock.due_at:
            # Late, though no check saw it yet: a breach, but paging for an answered ticket helps no one.
            clock.state, clock.breached_at = "breached", clock.due_at
            store.record_event(ticket.id, ctx.now, "sla", "breached",
                               f"{clock.metric.replace('_', ' ')} was due {iso(clock.due_at)}; answered late")
        elif clock.state != "breached":
            clock.state, clock.paused_at = "met", None
        clock.save()
        if clock.alert_alias:
            alerting.queue_close(ctx, ticket.id, clock.alert_alias, f"{clock.metric.replace('_', ' ')} met")
    return True


def status_changed(ctx: Context, ticket: Ticket, old: str, new: str, at: datetime) -> None:
    """Pause on pending, resume after it; stop everything on solved/closed; a new resolution on reopen."""
    if old == new:
        return
    if new in ("solved", "closed"):
        _stop_all(ctx, ticket, at, new)
        return
    if old in ("solved", "closed"):
        _reopened(ctx, ticket, at)
    if new == "pending":
        Clock.update(state="paused", paused_at=at).where(
            (Clock.ticket == ticket.id) & (Clock.state == "running")
        ).execute()
    elif old == "pending":
        _resume(ctx, ticket, at)


def _stop_all(ctx: Context, ticket: Ticket, at: datetime, new: str) -> None:
    unsolved = (Clock.metric == "resolution") & (Clock.state == "breached") & Clock.met_at.is_null()
    for clock in Clock.select().where((Clock.ticket == ticket.id) & (Clock.state.in_(OPEN) | unsolved)):
        if clock.metric == "resolution":
            clock.met_at = at
            clock.state = "breached" if clock.state == "breached" else "met"
        else:
            clock.state = "stopped"
        clock.paused_at = None
        clock.save()
    raised = Clock.select(Clock.alert_alias).where(
        (Clock.ticket == ticket.id) & Clock.alert_alias.is_null(False) & Clock.alert_state.in_(("none", "open"))
    ).distinct()
    for alias in sorted({c.alert_alias for c in raised}):
        alerting.queue_close(ctx, ticket.id, alias, f"ticket {new}")
    for page_row in Page.select().where((Page.ticket == ticket.id) & (Page.state == "open")):
        alerting.queue_close(ctx, ticket.id, page_row.alias, f"ticket {new}")


def merged(ctx: Context, source: Ticket, target: Ticket) -> None:
    """Keep the earliest due time of each open clock on the survivor; stop the merged ticket's others."""
    kept = {c.metric: c for c in _open_clocks(target)}
    answered = {c.metric for c in Clock.select(Clock.metric).where((Clock.ticket == target.id) & (Clock.state == "met"))}
    for clock in _open_clocks(source):
        mine = kept.get(clock.metric)
        if clock.metric in answered and mine is None:
            continue  # the survivor's customer already had this answer: nothing more is owed
        if mine is None or (clock.due_at is not None and (mine.due_at is None or clock.due_at < mine.due_at)):
            if mine is not None:
                _stop(ctx, target, mine, f"merged: #{source.id} was due earlier")
            clock.ticket = target.id
            clock.save()
            kept[clock.metric] = clock
    for clock in _open_clocks(source):
        _stop(ctx, source, clock, f"merged into #{target.id}")
    for page_row in Page.select().where((Page.ticket == source.id) & (Page.state == "open")):
        alerting.queue_close(ctx, source.id, page_row.alias, f"merged into #{target.id}")


def _stop(ctx: Context, ticket: Ticket, clock: Clock, why: str) -> None:
    clock.state, clock.paused_at = "stopped", None
    clock.save()
    if clock.alert_alias and clock.alert_state in ("none", "open"):
        alerting.queue_close(ctx, ticket.id, clock.alert_alias, why)


def _reopened(ctx: Context, ticket: Ticket, at: datetime) -> None:
    if _open_clocks(ticket, ("resolution",)):
        return
    policy, calendar = policy_of(ctx, ticket)
    if _start(ticket, "resolution", at, policy, calendar) is not None:
        store.record_event(ticket.id, ctx.now, "sla", "clock started", "resolution restarted on reopening")


def _resume(ctx: Context, ticket: Ticket, at: datetime) -> None:
    _, calendar = policy_of(ctx, ticket)
    paused: dict[str, float] = {}
    for clock in Clock.select().where((Clock.ticket == ticket.id) & (Clock.state == "paused")):
        since = clock.paused_at or at
        if clock.due_at is not None:
            due = sla.resumed_due(calendar, clock.due_at, since, at)
            if clock.warn_at is not None and clock.warned_at is None:
                clock.warn_at = due - (clock.due_at - clock.warn_at)  # the same lead before the deadline
            clock.due_at = due
        paused[str(clock.id)] = sla.paused_working(calendar, since, at).total_seconds()
        clock.state, clock.paused_at = "running", None
        clock.save()
    if paused:
        # Kept so a later re-plan from the clock's start still honours the time spent paused.
        store.record_event(ticket.id, ctx.now, "sla", "clocks resumed",
                           f"deadlines moved by the working time paused ({len(paused)} clock(s))",
                           {"paused": paused})


def _paused_so_far(ticket: Ticket) -> dict[int, timedelta]:
    totals: dict[int, timedelta] = {}
    for event in Event.select(Event.data).where((Event.ticket == ticket.id) & (Event.action == "clocks resumed")):
        for clock_id, seconds in ((event.data or {}).get("paused") or {}).items():
            totals[int(clock_id)] = totals.get(int(clock_id), timedelta(0)) + timedelta(seconds=seconds)
    return totals


def priority_changed(ctx: Context, ticket: Ticket) -> None:
    """Re-plan the running and paused clocks from their start under the new priority's policy."""
    if ticket.decision.policy_name != ticket.priority:
        # An engineer's priority outranks the policy the routing rules chose.
        ticket.decision = ticket.decision.with_policy(ticket.priority)
        ticket.save()
    policy, calendar = policy_of(ctx, ticket)
    paused = _paused_so_far(ticket)
    planned: list[str] = []
    for clock in _open_clocks(ticket):
        due = sla.replanned_due(policy, calendar, clock.metric, clock.started_at, paused.get(clock.id, timedelta(0)))
        if due is None:
            clock.state, clock.paused_at = "stopped", None
            planned.append(f"{clock.metric} not tracked")
        else:
            clock.due_at, clock.escalate = due, policy.escalate
            if clock.warned_at is None:
                clock.warn_at = sla.warn_at(policy, due)
            planned.append(f"{clock.metric} due {iso(due)}")
        clock.save()
    if ticket.status not in ("solved", "closed"):
        planned += _start_missing(ticket, policy, calendar)
    if planned:
        store.record_event(ticket.id, ctx.now, "sla", "re-planned", f"{policy.name}: " + "; ".join(planned))


def _start_missing(ticket: Ticket, policy: Policy, calendar: Calendar) -> list[str]:
    """Metrics the new policy tracks that the old one did not, counted from the ticket's creation."""
    have = {c.metric for c in Clock.select(Clock.metric).where(Clock.ticket == ticket.id)}
    wanted = [m for m in ("first_response", "resolution") if m not in have]
    if ticket.first_response_at is not None and "first_response" in wanted:
        wanted.remove("first_response")
    started = []
    for metric in wanted:
        clock = _start(ticket, metric, ticket.created_at, policy, calendar)
        if clock is None:
            continue
        if ticket.status == "pending":
            Clock.update(state="paused", paused_at=ticket.updated_at).where(Clock.id == clock.id).execute()
        started.append(f"{metric} started, due {iso(clock.due_at)}")
    return started


# --- alerts -----------------------------------------------------------------------------------


def page(ctx: Context, ticket: Ticket, team: str, alias_suffix: str, description: str) -> None:
    """Page a team at once for the ticket; the page closes when the ticket is solved or closed."""
    alias = sla.alert_alias(ticket.id, alias_suffix)
    if not escalation_configured(ctx.settings):
        store.record_event(ticket.id, ctx.now, "sla", "page not sent",
                           f"{alias}: no escalation backend configured; the team is told by mail")
        outbound.forward(ctx, ticket, None, None, f"paged {team}: {description}")
        return
    due = min((c.due_at for c in _open_clocks(ticket) if c.due_at is not None), default=None)
    alert = alerting.page_alert(ctx, ticket, team, alias, description, due)
    # A second page of the same team reopens its row (the alias is unique); OpsGenie counts it.
    Page.insert(ticket=ticket.id, alias=alias, team=team, state="open", created_at=ctx.now).on_conflict(
        conflict_target=[Page.alias], update={Page.state: "open", Page.team: team, Page.last_error: None}
    ).execute()
    store.queue(kind="alert", now=ctx.now, ticket_id=ticket.id, action="open", alias=alias,
                payload=alerting.payload(alert))
    store.record_event(ticket.id, ctx.now, "sla", "alert", f"page {alias} raised")


# --- the view ---------------------------------------------------------------------------------



def clock_view(ticket: Ticket) -> dict[str, Any]:
    """The `sla` object of `tickets show --json` (CONTRACT section 4), with the ticket's pages."""
    clocks = list(Clock.select().where(Clock.ticket == ticket.id).order_by(Clock.id))
    first = [c for c in clocks if c.metric == "first_response"]
    # After a merge the survivor may hold a stopped clock of its own beside the one that runs.
    first = [c for c in first if c.state in OPEN] or first
    return {
        "first_response_due": iso(first[-1].due_at) if first else None,
        "breached": any(c.state == "breached" for c in clocks),
        "clocks": [
            {
                "metric": c.metric,
                "due": iso(c.due_at),
                "state": c.state,
                "met_at": iso(c.met_at),
                "breached_at": iso(c.breached_at),
                "alert": {
                    "alias": c.alert_alias or sla.alert_alias(ticket.id, c.metric),
                    "state": c.alert_state,
                    "last_error": c.alert_error,
                },
            }
            for c in clocks
        ],
        "pages": [
            {"alias": p.alias, "team": p.team, "state": p.state, "last_error": p.last_error}
            for p in Page.select().where(Page.ticket == ticket.id).order_by(Page.id)
        ],
    }
