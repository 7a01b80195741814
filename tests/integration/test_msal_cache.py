"""msal's token cache file shared by `mailroom auth login` and the daemon: who wins, what is shown, what is refused."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from mailroom.adapters.signin.msalcache import CacheFile
from mailroom.errors import SignInError
from tests.harness.devicecode import ACCOUNT, user_answer
from tests.harness.tokens import CLIENT_ID, DEVICE_CODE

AUTHORITY = "https://login.example.test/contoso.example"


def _signed_in(cache: CacheFile, access_token: str, lifetime: int = 3600) -> None:
    """A user's tokens as msal adds them to its cache after a sign-in."""
    response = {"access_token": access_token, "refresh_token": "rt-" + access_token, "expires_in": lifetime,
                "token_type": "Bearer", **user_answer(AUTHORITY)}
    cache.cache.add({"client_id": CLIENT_ID, "scope": response["scope"].split(), "grant_type": DEVICE_CODE,
                     "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token", "response": response})


def _access_tokens(cache: CacheFile) -> set[str]:
    return {e["secret"] for e in cache.cache.search(cache.cache.CredentialType.ACCESS_TOKEN, now=0)}


def test_a_sign_in_written_by_another_process_is_read_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signin" / "cache.json"
    daemon, login = CacheFile("mailbox.oauth2", path), CacheFile("mailbox.oauth2", path)
    daemon.refresh()
    assert daemon.signed_in() is None
    _signed_in(login, "first")
    login.write()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    daemon.refresh()
    assert _access_tokens(daemon) == {"first"}

    login.forget()
    _signed_in(login, "second")
    login.write()  # a new `mailroom auth login` while the daemon runs
    _signed_in(daemon, "renewed-from-first")  # the daemon renews from what it read before
    daemon.save()
    after = CacheFile("mailbox.oauth2", path)
    after.refresh()
    assert _access_tokens(after) == {"second"}  # the newer sign-in stands
    daemon.refresh()
    assert _access_tokens(daemon) == {"second"}
    _signed_in(daemon, "renewed-from-second")
    daemon.save()  # nobody wrote meanwhile: the renewal is kept
    after.refresh()
    assert "renewed-from-second" in _access_tokens(after)
    assert [p.name for p in path.parent.iterdir()] == ["cache.json"]  # no file left half-written


def test_the_account_and_its_token_expiry_are_shown_never_a_token(tmp_path: Path) -> None:
    cache = CacheFile("mailbox.oauth2", tmp_path / "cache.json")
    _signed_in(cache, "at-secret-value", lifetime=1)
    shown = cache.signed_in()
    assert shown is not None and shown.account == ACCOUNT
    assert shown.expires_at is not None and abs(shown.expires_at.timestamp() - (time.time() + 1)) < 120
    assert "at-secret-value" not in repr(shown)


def test_a_damaged_cache_file_is_one_line_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    path.write_text("{not json")
    with pytest.raises(SignInError) as caught:
        CacheFile("mailbox.oauth2", path).refresh()
    assert str(caught.value) == (f'mailbox.oauth2.flow: cannot read the sign-in cache "{path}" (not msal\'s cache): '
                                 "run `mailroom auth login`")
