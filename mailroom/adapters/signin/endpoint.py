"""HTTP to a token endpoint: the configured CA, a bounded wait, and an away server as one line."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx

from mailroom.adapters.signin.refusals import endpoint_key, refused
from mailroom.config.settings import OAuth2Settings
from mailroom.errors import SignInError


class TokenEndpoint:
    """An httpx client for one oauth2 table: its CA (else the system's) and its timeout."""

    def __init__(self, cfg: OAuth2Settings) -> None:
        self.cfg = cfg
        self.seconds = cfg.timeout.total_seconds()
        # An explicit context: requests' REQUESTS_CA_BUNDLE and the like never override ca_file.
        context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
        self.client = httpx.Client(verify=context, timeout=self.seconds, follow_redirects=False)

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; SignInError (one line naming the endpoint's key) when away or 5xx."""
        host = urlsplit(url).netloc
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise SignInError(f"{endpoint_key(self.cfg)}: the token endpoint {host} did not answer within {self.seconds:g}s") from None
        except httpx.HTTPError as exc:
            raise SignInError(f"{endpoint_key(self.cfg)}: cannot reach the token endpoint {host}: {_reason(exc)}") from None
        if response.status_code >= 500:
            raise SignInError(f"{endpoint_key(self.cfg)}: the token endpoint {host} answered {response.status_code}")
        return response

    def post_form(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        """POST an RFC 6749 token request; the answer's JSON, or SignInError with the refusal."""
        response = self.request("POST", url, data=form, headers={"Accept": "application/json"})
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict) or "access_token" not in answer:
            raise refused(self.cfg, answer, response.status_code)
        return answer


class MsalHttp:
    """The `http_client` msal takes (get and post returning responses), over TokenEndpoint."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        """GET, for msal's OpenID discovery."""
        return self.endpoint.request("GET", url, params=params, headers=headers)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        """POST, for msal's token requests."""
        if isinstance(data, dict):
            # msal hands the client assertion over as bytes, which httpx would send as "b'…'".
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.endpoint.request("POST", url, params=params, data=data, headers=headers)

    def close(self) -> None:
        """msal may close its client."""


def _reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    for _ in range(5):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {cause.verify_message or cause}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if cause is None:
            break
        cause = cause.__cause__ or cause.__context__
    return " ".join(str(exc).split())[:200] or type(exc).__name__
