"""mailroom's own health: a stuck poller pages OpsGenie once and stands down; `status` tells the state."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from mailroom.demo.opsgenie import OpsgenieServer

from .conftest import Mailroom, page_when_stuck, status_of
from .conftest import wait_until as _wait
from .mails import mail

STALE_AFTER = 4  # seconds; the mailbox is polled every second
POLL = "mailroom-health-poll"




@pytest.fixture
def watched(mailroom: Mailroom, opsgenie: OpsgenieServer) -> Iterator[Mailroom]:
    """mailroom paging the OpsGenie test server when it is stuck for STALE_AFTER seconds."""
    page_when_stuck(mailroom, opsgenie.url, STALE_AFTER)
    yield mailroom


def test_stuck_polling_pages_once_and_closes_when_the_mailbox_is_back(
    watched: Mailroom, opsgenie: OpsgenieServer
) -> None:
    room = watched
    log = (room.folder / "daemon.log").open("w")
    proc = room.popen("run", stdout=subprocess.DEVNULL, stderr=log)
    try:
        room.dovecot.append("support", mail(subject="Cannot export reports"))
        room.dovecot.append("support", b"\r\n")  # nothing usable: quarantined
        # Both sent (acknowledgement, notification): no stuck outbox muddles what follows.
        room.smtp.wait_for(2, timeout=120)
        _wait(lambda: room.dovecot.count("support", "Quarantine") == 1, 120, "the quarantined mail")
        status = status_of(room)
        [box] = status["mailboxes"]
        assert box["last_poll_at"] is not None and box["last_error"] is None
        assert status["waiting"] == 0
        assert status["outbox"]["queued"] == 0 and status["outbox"]["failed"] == 0
        assert status["quarantine"] == 1
        assert status["rules"]["state"] == "good" and status["rules"]["error"] is None
        assert status["health_alerts"] == {"poll": "closed", "outbox": "closed", "auth": "closed"}
        assert opsgenie.requests == []

        room.dovecot.stop()
        [alert] = _wait(lambda: opsgenie.creates(POLL), 120, "the health alert")
        down = status_of(room)
        # Not before the poll is stale: the alert was decided STALE_AFTER after the last good poll.
        last_poll = datetime.fromisoformat(down["mailboxes"][0]["last_poll_at"])
        assert datetime.fromisoformat(alert.json["details"]["since"]) - last_poll >= timedelta(seconds=STALE_AFTER)
        assert down["health_alerts"]["poll"] == "open"
        assert down["waiting"] is None and down["mailbox_error"]
        assert down["mailboxes"][0]["last_error"]
        time.sleep(STALE_AFTER)  # still stuck for several health checks: no second alert
        room.dovecot.start()
        _wait(lambda: opsgenie.closes(POLL), 120, "the health alert to close")

        up = status_of(room)
        assert up["health_alerts"]["poll"] == "closed"
        assert up["mailboxes"][0]["last_error"] is None
        # A broken rules file shows in status with its place.
        (room.folder / "rules.yaml").write_text("version: 1\nrules: [\n")
        broken = status_of(room)["rules"]
        assert broken["state"] == "error" and broken["error"].startswith("rules.yaml:")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    assert code == 0

    [create] = opsgenie.creates(POLL)
    assert create.json["priority"] == "P1" and "poll" in create.json["message"]
    assert len(opsgenie.closes(POLL)) == 1
    assert [r.alias for r in opsgenie.creates()] == [POLL]  # the outbox never looked stuck
