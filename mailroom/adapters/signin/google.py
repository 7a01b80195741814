"""Google Workspace through google-auth: a service account with domain-wide delegation, or a user's refresh token."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport
import google.oauth2.credentials
from google.oauth2 import service_account

from mailroom import clock
from mailroom.adapters.signin.endpoint import TokenEndpoint
from mailroom.adapters.signin.refusals import refused
from mailroom.adapters.signin.saved import SavedRefreshToken
from mailroom.adapters.signin.tokens import Token
from mailroom.config.settings import OAuth2Settings
from mailroom.errors import ConfigError

MAIL_SCOPE = "https://mail.google.com/"


class _Response(google.auth.transport.Response):
    def __init__(self, status: int, headers: Any, data: bytes) -> None:
        self._status, self._headers, self._data = status, headers, data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Any:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class _Transport(google.auth.transport.Request):
    """google-auth's HTTP seam over TokenEndpoint: the configured CA and timeout; 5xx and away as SignInError."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> _Response:
        response = self.endpoint.request(method, url, content=body, headers=headers)
        return _Response(response.status_code, response.headers, response.content)


class GoogleProvider:
    """Tokens for `https://mail.google.com/` at the `token_uri` the credentials file names."""

    name = "google"

    def __init__(self, cfg: OAuth2Settings, endpoint: TokenEndpoint, subject: str, saved_path: Path) -> None:
        self.cfg = cfg
        self.transport = _Transport(endpoint)
        self.subject = subject  # the mailbox a service account signs in as
        self.saved_path = saved_path
        self._saved: SavedRefreshToken | None = None
        self._credentials: Any = None

    def fetch(self, force: bool) -> Token:
        """Refresh the credentials; a rotated refresh token is saved for the next start."""
        creds = self._load()
        try:
            creds.refresh(self.transport)
        except google.auth.exceptions.RefreshError as exc:
            answer = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
            if not answer and exc.args:
                error = str(exc.args[0]).split(":", 1)[0].strip()
                answer = {"error": error if error.replace("_", "").isalpha() else ""}
            raise refused(self.cfg, answer) from None
        if self._saved is not None and creds.refresh_token:
            self._saved.save(creds.refresh_token)
        now = clock.now()
        expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else now
        return Token(str(creds.token), max(expiry, now), now, self.subject if self.cfg.service_account_file else "")

    def _load(self) -> Any:
        if self._credentials is not None:
            return self._credentials
        cfg = self.cfg
        path = cfg.service_account_file or cfg.authorized_user_file
        assert path is not None
        key = f"{cfg.key}.{'service_account_file' if cfg.service_account_file else 'authorized_user_file'}"
        info = _read_json(path, key)
        try:
            if cfg.service_account_file:
                self._credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=[MAIL_SCOPE], subject=self.subject)
            else:
                self._saved = SavedRefreshToken(self.saved_path, str(info.get("refresh_token") or ""))
                info = {**info, "refresh_token": self._saved.current()}
                creds = google.oauth2.credentials.Credentials.from_authorized_user_info(info)
                # google-auth puts Google's own endpoint in place of the file's: the file says where.
                self._credentials = creds.with_token_uri(info["token_uri"]) if info.get("token_uri") else creds
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{key}: not a Google credentials file: {' '.join(str(exc).split())[:160]}") from None
        return self._credentials


def _read_json(path: Path, key: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f'{key}: cannot read "{path}": {exc.strerror or exc}') from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f'{key}: "{path}" is not JSON') from None
    if not isinstance(data, dict):
        raise ConfigError(f'{key}: "{path}" is not a JSON object')
    return data


