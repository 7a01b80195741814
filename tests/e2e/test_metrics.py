"""The metrics endpoint of `mailroom run`: Prometheus text whose counters move as mail arrives."""

from __future__ import annotations

import re
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from .conftest import CUSTOMER, TEAM, Mailroom
from .conftest import wait_until as _wait
from .mails import header, mail, reply
from .test_daemon import Daemon


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> dict[str, float]:
    """Every sample of the endpoint, by its name and labels as written."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    samples = {}
    for line in text.splitlines():
        found = re.fullmatch(r"([a-z_]+(?:\{[^}]*\})?) ([-+0-9.eE]+|NaN|[+-]Inf)", line)
        if found:
            samples[found.group(1)] = float(found.group(2))
    return samples


def _value(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for key, v in samples.items() if key.split("{")[0] == name and all(w in key for w in wanted))


@pytest.fixture
def port(mailroom: Mailroom) -> Iterator[int]:
    chosen = _free_port()
    mailroom.config.write_text(mailroom.config.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{chosen}"\n')
    yield chosen


def test_the_counters_move_as_mail_arrives_and_is_answered(mailroom: Mailroom, port: int) -> None:
    run = Daemon(mailroom)
    try:
        before = _wait(lambda: _scrape(port), 120, "the metrics endpoint")
        assert _value(before, "mailroom_messages_ingested_total") == 0
        assert "mailroom_outbox_depth" in {k.split("{")[0] for k in before}

        mailroom.dovecot.append("support", mail(subject="Export fails", sender=f"Jane <{CUSTOMER}>"))
        after = _wait(lambda: (s := _scrape(port)) and _value(s, "mailroom_mail_sent_total", kind="ack") >= 1 and s,
                      120, "an acknowledgement counted")
        assert _value(after, "mailroom_messages_ingested_total") == 1
        assert _value(after, "mailroom_mail_sent_total", kind="notification") >= 1
        assert _value(after, "mailroom_ingest_pass_seconds_count") >= 1
        mailbox = next(k for k in after if k.startswith("mailroom_messages_ingested_total{"))
        assert 'mailbox="support@127.0.0.1/INBOX"' in mailbox

        notice = _wait(lambda: [m for m in mailroom.dovecot.messages("engineer") if TEAM in (header(m, "To") or "")],
                       120, "the team's notification")[0]
        answer = ("Hi Jane, the export stopped at the plan's row limit; I raised it for your account and "
                  "ran the export again, so the PDF is in your downloads now. Eve")
        mailroom.dovecot.append("support", reply(notice, answer))
        answered = _wait(lambda: (s := _scrape(port)) and _value(s, "mailroom_mail_sent_total", kind="relay") >= 1 and s,
                         120, "the relay counted")
        assert _value(answered, "mailroom_first_response_seconds_count") == 1
        assert _value(answered, "mailroom_messages_ingested_total") == 2
    finally:
        assert run.stop()[0] == 0


def test_a_listen_address_that_is_not_host_and_port_is_refused_with_its_key(mailroom: Mailroom) -> None:
    mailroom.config.write_text(mailroom.config.read_text() + '\n[metrics]\nlisten = "9464"\n')
    result = mailroom.cli("run", "--once", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == 'mailroom: metrics.listen: expected HOST:PORT, like "127.0.0.1:9464", got "9464"'


def test_the_grafana_dashboard_shows_only_metrics_the_endpoint_serves(mailroom: Mailroom, port: int) -> None:
    import json

    from .conftest import ROOT

    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    shown = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"mailroom_[a-z_]+", target["expr"])}
    run = Daemon(mailroom)
    try:
        _wait(lambda: _scrape(port), 120, "the metrics endpoint")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        run.stop()
    suffixes = {"counter": ("",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names = {name + suffix for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
             for suffix in suffixes.get(kind, ("",))}
    assert shown and shown <= names, shown - names
