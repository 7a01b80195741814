"""msal's token cache in a file (0600): read again when it changed on disk, written back when msal changed it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msal

from mailroom.adapters.signin.private import write_private
from mailroom.errors import SignInError

_Stamp = tuple[int, int, int]  # inode, size, mtime: a replaced file has a new inode


@dataclass(frozen=True)
class SignedIn:
    """Who signed in with `mailroom auth login`, and until when the access token held for them is good."""

    account: str
    expires_at: datetime | None


class CacheFile:
    """One connection's msal cache, shared by `mailroom auth login` and the daemon through the file."""

    def __init__(self, key: str, path: Path) -> None:
        self.key = key  # the oauth2 table, for the one line when the file is unreadable
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self._seen: _Stamp | None = None  # the file as last read or written here

    def refresh(self) -> None:
        """Read the file again when it changed since it was last read or written here."""
        try:
            stamp = _stamp(self.path)
            if stamp == self._seen:
                return
            text = self.path.read_text(encoding="utf-8") if stamp is not None else None
            self.cache.deserialize(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or "not msal's cache"
            raise SignInError(f'{self.key}.flow: cannot read the sign-in cache "{self.path}" ({reason}): '
                              "run `mailroom auth login`") from None
        self._seen = stamp

    def forget(self) -> None:
        """Start empty in memory (a new sign-in replaces whoever signed in before); the file is untouched."""
        self.cache.deserialize(None)

    def save(self) -> None:
        """Write msal's changes back, unless another process wrote the file meanwhile: its sign-in is newer."""
        if self.cache.has_state_changed and _stamp(self.path) == self._seen:
            self.write()

    def write(self) -> None:
        """Replace the file with the cache, atomically, readable by this user alone: it holds the refresh token."""
        write_private(self.path, self.cache.serialize())
        self._seen = _stamp(self.path)

    def signed_in(self) -> SignedIn | None:
        """The account in the cache and its access token's expiry; None when nobody signed in. Never a token."""
        kinds = msal.TokenCache.CredentialType
        accounts = list(self.cache.search(kinds.ACCOUNT))
        if not accounts:
            return None
        account = accounts[0]
        # now=0: only look; msal's search would otherwise drop expired tokens from the cache.
        tokens = self.cache.search(kinds.ACCESS_TOKEN, query={"home_account_id": account.get("home_account_id")}, now=0)
        expiries = [int(entry["expires_on"]) for entry in tokens if str(entry.get("expires_on", "")).isdigit()]
        until = datetime.fromtimestamp(max(expiries), UTC) if expiries else None
        return SignedIn(str(account.get("username") or account.get("local_account_id") or ""), until)


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns
