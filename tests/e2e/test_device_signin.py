"""A user's device-code sign-in (`mailroom auth login|status`) and the daemon on it, against Dovecot and a local Entra ID."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from mailroom.demo.opsgenie import OpsgenieServer
from tests.harness.devicecode import ACCOUNT
from tests.harness.tokens import TokenServer

from .conftest import CUSTOMER, Mailroom, no_secret_in, wait_until
from .mails import mail

AUTH_ALERT = "mailroom-health-auth"
NOBODY = "mailroom: mailbox.oauth2.flow: nobody is signed in: run `mailroom auth login`"


def _cache(room: Mailroom) -> Path:
    return room.folder / "data" / "signin" / "mailbox-oauth2-msal-cache.json"


class Login:
    """`mailroom auth login` as a process, its output read line by line as it comes."""

    def __init__(self, room: Mailroom, *args: str) -> None:
        self.proc = room.popen("auth", "login", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def finish(self) -> tuple[int, str, str]:
        """Wait for the process: (exit code, stdout, stderr)."""
        code = self.proc.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=10)
        return code, "\n".join(self.out), "\n".join(self.err)


def _sign_in(room: Mailroom, idp: TokenServer, *args: str, refusal: str = "") -> tuple[int, str, str]:
    """Run `auth login ARGS`, wait for its code on screen, and have the user sign in with it."""
    login = Login(room, *args)
    screen = login.err if "--json" in args else login.out  # with --json, stdout is the answer alone
    code = idp.devices.wait_for_code()
    shown = wait_until(lambda: [x for x in screen if code.user_code in x], 60, "the code on screen")
    assert f"{idp.url}/devicelogin" in shown[0] and shown[0].startswith("mailbox.oauth2: To sign in")
    assert login.proc.poll() is None  # waiting for the user
    idp.devices.approve(code.user_code, refusal)
    return login.finish()


def test_auth_login_keeps_the_sign_in_and_the_daemon_reads_mail_with_it(
    oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room("microsoft-device")
    code, out, err = _sign_in(room, idp)
    assert code == 0, err
    assert re.search(rf"^mailbox\.oauth2: signed in as {re.escape(ACCOUNT)}, token until \S+Z$", out, re.M), out
    cache = _cache(room)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600 and stat.S_IMODE(cache.parent.stat().st_mode) == 0o700

    status = room.cli("auth", "status", "--json").stdout
    rows = {row["connection"]: row for row in json.loads(status)["connections"]}
    assert set(rows) == {"imap", "smtp"}  # SMTP signs in on the mailbox's table
    for row in rows.values():
        assert (row["provider"], row["flow"], row["account"], row["signed_in"]) == ("microsoft", "device_code", ACCOUNT, True)
        assert row["expires_at"].endswith("Z")
    text = room.cli("auth", "status").stdout
    assert f"imap (mailbox.oauth2): microsoft device_code, signed in as {ACCOUNT}, token until" in text

    for n in (1, 2):
        room.dovecot.append("support", mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>",
                                            sender=f"Customer {n} <customer{n}@example.org>"))
        run = room.cli("run", "--once")
        assert room.dovecot.count("support", "Processed") == n
        no_secret_in(idp, run.stdout, run.stderr)
    # Each run renewed the token with the refresh token the one before it wrote back (each is good once).
    assert idp.devices.refreshes >= 2 and stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert idp.introspections >= 2  # Dovecot checked the tokens IMAP signed in with
    assert {m.auth_user for m in room.smtp.messages} == {"support"}  # the acknowledgements went out over XOAUTH2
    no_secret_in(idp, out, err, status, text)


def test_auth_login_json_answers_on_stdout_and_shows_the_code_on_stderr(
    oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room("microsoft-device")
    code, out, err = _sign_in(room, idp, "--json")
    assert code == 0, err
    [row] = json.loads(out)["connections"]
    assert (row["connection"], row["key"], row["account"], row["signed_in"]) == ("imap", "mailbox.oauth2", ACCOUNT, True)
    assert row["expires_at"].endswith("Z")
    no_secret_in(idp, out, err)


def test_without_a_sign_in_run_says_so_in_one_line_and_status_says_not_signed_in(
    oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room("microsoft-device")
    room.dovecot.append("support", mail())
    result = room.cli("run", "--once", check=False)
    assert result.returncode == 1
    assert [x for x in result.stderr.splitlines() if x.startswith("mailroom:")] == [NOBODY]
    assert room.dovecot.count("support") == 1  # the mail waits for the sign-in
    [row, _] = json.loads(room.cli("auth", "status", "--json").stdout)["connections"]
    assert (row["signed_in"], row["account"], row["expires_at"]) == (False, None, None)
    assert "not signed in: run `mailroom auth login`" in room.cli("auth", "status").stdout


def test_the_daemon_pages_without_a_sign_in_and_takes_up_one_made_while_it_runs(
    oauth_room: Callable[..., Mailroom], idp: TokenServer, opsgenie: OpsgenieServer
) -> None:
    room = oauth_room("microsoft-device", extra='[health]\nstale_after = "3s"\n\n'
                      f'[opsgenie]\napi_url = "{opsgenie.url}"\napi_key_env = "OPSGENIE_API_KEY"\n')
    room.env["OPSGENIE_API_KEY"] = "test-key"
    room.dovecot.append("support", mail())
    log_path = room.folder / "daemon.log"
    with log_path.open("w") as log:
        proc = room.popen("run", stdout=log, stderr=subprocess.STDOUT)
        try:
            [alert] = wait_until(lambda: opsgenie.creates(AUTH_ALERT), 90, "the sign-in alert")
            assert NOBODY.removeprefix("mailroom: ") in alert.json["description"]
            code, _, err = _sign_in(room, idp)
            assert code == 0, err
            wait_until(lambda: room.smtp.by_recipient(CUSTOMER), 90, "the acknowledgement after the sign-in")
            wait_until(lambda: opsgenie.closes(AUTH_ALERT), 90, "the sign-in alert to close")
        finally:
            proc.send_signal(signal.SIGTERM)
            exit_code = proc.wait(timeout=30)
    assert exit_code == 0
    assert room.dovecot.count("support", "Processed") == 1
    no_secret_in(idp, log_path.read_text(), json.dumps([r.json for r in opsgenie.requests if r.json is not None]))


def test_missing_consent_is_one_line_naming_the_client_id_and_keeps_no_cache(
    oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room("microsoft-device")
    code, _, err = _sign_in(room, idp, refusal="AADSTS65001")
    assert code == 1
    assert [x for x in err.splitlines() if x.startswith("mailroom:")] == [
        "mailroom: mailbox.oauth2.client_id: the application has no admin consent for the mail permissions (invalid_grant: AADSTS65001)"]
    assert not _cache(room).exists()


def test_an_unknown_tenant_is_one_line_naming_the_tenant(oauth_room: Callable[..., Mailroom], idp: TokenServer) -> None:
    room = oauth_room("microsoft-device")
    room.config.write_text(room.config.read_text().replace('tenant = "contoso.example"', 'tenant = "unknown.example"'))
    line = "mailroom: mailbox.oauth2.tenant: the tenant is not known (invalid_tenant: AADSTS90002)"
    for command in (("auth", "login"), ("run", "--once")):
        result = room.cli(*command, check=False)
        assert result.returncode == 1
        assert [x for x in result.stderr.splitlines() if x.startswith("mailroom:")] == [line], result.stderr
    assert idp.devices.codes == {}  # no code was asked of an unknown tenant


def test_auth_login_skips_a_connection_that_signs_in_without_a_user(oauth_room: Callable[..., Mailroom]) -> None:
    room = oauth_room("microsoft")
    result = room.cli("auth", "login", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'mailbox.oauth2: flow = "client_credentials" signs in without a user; skipped',
        'mailroom: mailbox.oauth2.flow: no connection signs in with flow = "device_code"; nothing to sign in',
    ]


def test_auth_status_shows_an_application_sign_in_as_the_daemon_last_saw_it(
    oauth_room: Callable[..., Mailroom], idp: TokenServer
) -> None:
    room = oauth_room("microsoft")
    [before, _] = json.loads(room.cli("auth", "status", "--json").stdout)["connections"]
    assert (before["flow"], before["signed_in"], before["expires_at"]) == ("client_credentials", False, None)
    room.dovecot.append("support", mail())
    room.cli("run", "--once")
    status = room.cli("auth", "status", "--json").stdout
    [imap, smtp] = json.loads(status)["connections"]
    assert (imap["connection"], imap["account"], imap["signed_in"]) == ("imap", "support", True)
    assert imap["expires_at"].endswith("Z") and smtp["connection"] == "smtp"
    no_secret_in(idp, status)
