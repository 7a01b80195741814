"""OAuth2 sign-in end to end: Dovecot's oauth2 passdb, SMTP AUTH XOAUTH2, tokens from a local HTTPS identity provider."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailroom.demo.dovecot import Dovecot
from mailroom.demo.opsgenie import OpsgenieServer
from mailroom.demo.smtp import SmtpServer
from tests.harness.tokens import TokenServer

from .conftest import CUSTOMER, ROOT, TEAM, Mailroom, no_secret_in, wait_until, write_config
from .mails import mail

KINDS = ("microsoft", "microsoft-certificate", "google-service-account", "google-authorized-user", "generic")
AUTH_ALERT = "mailroom-health-auth"
STALE_AFTER = 3  # seconds of failed sign-in before the health alert


def _acks(room: Mailroom) -> list[Any]:
    return [m for m in list(room.smtp.messages) if any(r.endswith("@example.org") for r in m.rcpt_tos)]


@pytest.mark.parametrize("kind", KINDS)
def test_the_daemon_reads_and_sends_across_token_renewals(kind: str, oauth_room: Callable[..., Mailroom], idp: TokenServer) -> None:
    room = oauth_room(kind)
    log_path = room.folder / "daemon.log"
    with log_path.open("w") as log:
        proc = room.popen("run", stdout=log, stderr=subprocess.STDOUT)
        try:
            for i in range(4):
                before = len(idp.tokens())
                # One customer each: a sender gets three automatic mails an hour at most.
                room.dovecot.append("support", mail(subject=f"Question {i}", message_id=f"<q{i}@example.org>",
                                                    sender=f"Customer {i} <customer{i}@example.org>"))
                wait_until(lambda n=i: len(_acks(room)) >= n + 1, 60, f"the acknowledgement of mail {i}")
                idp.wait_for_tokens(before + 1)  # the token is renewed before the next mail
            status = room.cli("status", "--json").stdout
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code == 0
    acks = _acks(room)
    for i in range(4):  # nothing lost, nothing doubled
        assert sum(f"Question {i}" in m.subject for m in acks) == 1, [m.subject for m in acks]
    assert len(room.smtp.by_recipient(TEAM)) == 4
    assert {m.auth_user for m in room.smtp.messages} == {"support"}  # every mail sent over XOAUTH2
    assert len(idp.tokens()) >= 4  # at least three renewals
    assert idp.introspections >= 2  # Dovecot checked the tokens IMAP signed in with
    assert room.dovecot.count("support", "Processed") == 4 and room.dovecot.count("support") == 0
    signin = {s["connection"]: s for s in json.loads(status)["signin"]}
    assert signin["imap"]["method"].startswith("oauth2") and signin["imap"]["token_expires_at"]
    assert signin["smtp"]["method"].startswith("oauth2")
    no_secret_in(idp, log_path.read_text(), status)


FAILURES = [
    ("microsoft", "invalid_client", r"^mailroom: mailbox\.oauth2\.client_secret_env: the token endpoint refused the client \(invalid_client: AADSTS7000215\)$"),
    ("microsoft", "invalid_grant", r"^mailroom: mailbox\.oauth2\.client_secret_env: the token endpoint refused the grant \(invalid_grant: AADSTS70000\)$"),
    ("generic", "invalid_grant", r"^mailroom: mailbox\.oauth2\.refresh_token_file: the token endpoint refused the grant \(invalid_grant\)$"),
    ("google-service-account", "invalid_client", r"^mailroom: mailbox\.oauth2\.service_account_file: the token endpoint refused the client \(invalid_client\)$"),
    ("microsoft", "5xx", r"^mailroom: mailbox\.oauth2\.authority: the token endpoint 127\.0\.0\.1:\d+ answered 503$"),
    ("generic", "hang", r"^mailroom: mailbox\.oauth2\.token_url: the token endpoint 127\.0\.0\.1:\d+ did not answer within 2s$"),
]


@pytest.mark.parametrize(("kind", "mode", "line"), FAILURES, ids=[f"{k}-{m}" for k, m, _ in FAILURES])
def test_a_refused_or_absent_token_endpoint_is_one_line_and_exit_1(
    kind: str, mode: str, line: str, oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room(kind)
    room.dovecot.append("support", mail())
    idp.set_mode(mode)
    result = room.cli("run", "--once", check=False)
    assert result.returncode == 1
    [said] = [x for x in result.stderr.splitlines() if x.startswith("mailroom:")]  # log lines aside
    assert __import__("re").match(line, said), result.stderr
    assert room.dovecot.count("support") == 1  # the mail waits for the next run
    no_secret_in(idp, result.stdout, result.stderr)


def test_the_daemon_pages_when_sign_in_fails_and_stands_down_when_it_works(
    oauth_room: Callable[..., Mailroom], idp: TokenServer, opsgenie: OpsgenieServer
) -> None:
    room = oauth_room("microsoft", extra=f'[health]\nstale_after = "{STALE_AFTER}s"\n\n'
                      f'[opsgenie]\napi_url = "{opsgenie.url}"\napi_key_env = "OPSGENIE_API_KEY"\n')
    room.env["OPSGENIE_API_KEY"] = "test-key"
    log_path = room.folder / "daemon.log"
    with log_path.open("w") as log:
        proc = room.popen("run", stdout=log, stderr=subprocess.STDOUT)
        try:
            room.dovecot.append("support", mail(subject="Before"))
            wait_until(lambda: room.smtp.by_recipient(CUSTOMER), 60, "the first acknowledgement")
            for n, mode in enumerate(("invalid_client", "invalid_grant", "5xx", "hang"), start=1):
                idp.set_mode(mode)  # the next renewal fails, and every one after it
                wait_until(lambda n=n: len(opsgenie.creates(AUTH_ALERT)) >= n, 90, f"the alert for {mode}")
                idp.set_mode("ok")
                wait_until(lambda n=n: len(opsgenie.closes(AUTH_ALERT)) >= n, 120, f"the alert for {mode} to close")
            room.dovecot.append("support", mail(subject="After"))
            wait_until(lambda: len(room.smtp.by_recipient(CUSTOMER)) >= 2, 60, "the acknowledgement after recovery")
        finally:
            idp.set_mode("ok")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code == 0
    creates = opsgenie.creates(AUTH_ALERT)
    assert len(creates) == 4 and len(opsgenie.closes(AUTH_ALERT)) == 4
    descriptions = [c.json["description"] for c in creates]
    assert "invalid_client: AADSTS7000215" in descriptions[0] and "mailbox.oauth2.client_secret_env" in descriptions[0]
    assert "invalid_grant" in descriptions[1] and "answered 503" in descriptions[2] and "did not answer" in descriptions[3]
    # One cause, one page: the mailbox not polled for want of a token is not paged again as polling.
    assert opsgenie.creates("mailroom-health-poll") == []
    payloads = json.dumps([r.json for r in opsgenie.requests if r.json is not None])
    no_secret_in(idp, log_path.read_text(), payloads)


def test_a_password_imap_refuses_pages_and_recovers_once_it_is_fixed(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer, opsgenie: OpsgenieServer
) -> None:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    config = write_config(tmp_path, dovecot, smtp_server, f'[health]\nstale_after = "{STALE_AFTER}s"\n\n'
                          f'[opsgenie]\napi_url = "{opsgenie.url}"\napi_key_env = "OPSGENIE_API_KEY"\n')
    config.write_text(config.read_text().replace('password_env = "MAILROOM_IMAP_PASSWORD"', 'password_file = "imap-password"'))
    password = tmp_path / "imap-password"
    password.write_text("wrong-password\n")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MAILROOM_")}
    env.update(MAILROOM_SECRET="test-secret", OPSGENIE_API_KEY="test-key")
    room = Mailroom(tmp_path, config, dovecot, smtp_server, env)
    once = room.cli("run", "--once", check=False)
    assert once.returncode == 1
    errors = [line for line in once.stderr.splitlines() if line.startswith("mailroom: ")]
    assert len(errors) == 1 and errors[0].startswith("mailroom: mailbox.password_file: IMAP 127.0.0.1:")
    assert "refused the password for support" in errors[0]
    with (tmp_path / "daemon.log").open("w") as log:
        proc = room.popen("run", stdout=log, stderr=subprocess.STDOUT)
        try:
            [alert] = wait_until(lambda: opsgenie.creates(AUTH_ALERT), 90, "the sign-in alert")
            assert "mailbox.password_file" in alert.json["description"]
            password.write_text(Dovecot.PASSWORD + "\n")  # the admin fixes it; no restart
            wait_until(lambda: opsgenie.closes(AUTH_ALERT), 120, "the sign-in alert to close")
            dovecot.append("support", mail())
            wait_until(lambda: smtp_server.by_recipient(CUSTOMER), 60, "the acknowledgement")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code == 0
    text = (tmp_path / "daemon.log").read_text()
    assert "wrong-password" not in text
