"""The test identity provider's device-code sign-in (RFC 8628) as Entra ID answers msal: codes a test approves."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.harness.tokens import TokenServer

ACCOUNT = "support@example.com"  # the user who signs in; Dovecot knows the mailbox as "support"
MAILBOX_USER = "support"
USER_SCOPES = {"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"}
OBJECT_ID = "00000000-0000-0000-0000-0000000000aa"
TENANT_ID = "00000000-0000-0000-0000-0000000000bb"


@dataclass
class DeviceCode:
    """One sign-in waiting for its user."""

    device_code: str
    user_code: str
    approved: bool = False
    refusal: str = ""  # "AADSTS65001": the next poll answers that consent is missing, not with tokens


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class DeviceSignIns:
    """`/{tenant}/oauth2/v2.0/devicecode`, and the device-code and refresh-token grants at the token endpoint."""

    def __init__(self, idp: TokenServer) -> None:
        self.idp = idp
        self.codes: dict[str, DeviceCode] = {}  # device_code -> its sign-in
        self.refreshes = 0  # refresh-token grants answered with tokens
        self._changed = threading.Condition()

    def wait_for_code(self, timeout: float = 60.0) -> DeviceCode:
        """Block until a sign-in waits for its user (msal asked for a code)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.codes, timeout):
                raise AssertionError(f"no device code asked for within {timeout}s")
            return next(iter(self.codes.values()))

    def approve(self, user_code: str, refusal: str = "") -> None:
        """The user signs in with `user_code`; `refusal` (e.g. AADSTS65001) makes Entra ID refuse instead."""
        with self._changed:
            [code] = [c for c in self.codes.values() if c.user_code == user_code]
            code.approved, code.refusal = True, refusal

    def start(self, form: dict[str, str]) -> tuple[int, Any]:
        """A new code, polled at 1 s (the shortest interval msal takes)."""
        asked = set(form.get("scope", "").split())
        if not asked >= USER_SCOPES | {"offline_access"}:
            return 400, {"error": "invalid_scope", "error_description": f"AADSTS70011: scope {form.get('scope')!r}"}
        code = DeviceCode("dc-" + secrets.token_urlsafe(24), f"{secrets.randbelow(10**8):08d}")
        with self._changed:
            self.codes[code.device_code] = code
            self._changed.notify_all()
        uri = f"{self.idp.url}/devicelogin"
        return 200, {"device_code": code.device_code, "user_code": code.user_code, "verification_uri": uri,
                     "expires_in": 900, "interval": 1,
                     "message": f"To sign in, use a web browser to open the page {uri} and enter the code {code.user_code} to authenticate."}

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        """The token endpoint's answer to a device-code poll or a refresh, with the id_token msal makes its account of."""
        if form.get("grant_type") == "refresh_token":
            if self.idp.spend_refresh_token(form.get("refresh_token", "")) is None:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: The provided value for 'refresh_token' is not valid."}
            with self._changed:
                self.refreshes += 1
            return self._tokens("refresh_token")
        with self._changed:
            code = self.codes.get(form.get("device_code", ""))
            if code is None:
                return 400, {"error": "expired_token", "error_description": "AADSTS70020: The provided value for the input parameter 'device_code' is not valid."}
            if not code.approved:
                return 400, {"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
            del self.codes[code.device_code]
        if code.refusal == "AADSTS65001":
            return 400, {"error": "invalid_grant", "error_description": (
                f"AADSTS65001: The user or administrator has not consented to use the application with ID '{form.get('client_id')}'. "
                "Send an interactive authorization request for this user and resource. Trace ID: 5678"), "error_codes": [65001]}
        return self._tokens("device_code")

    def _tokens(self, grant: str) -> tuple[int, Any]:
        return self.idp.issue("microsoft", grant, MAILBOX_USER, refresh_token=self.idp.add_refresh_token(MAILBOX_USER),
                              **user_answer(self.idp.url))


def user_answer(url: str) -> dict[str, str]:
    """What Entra ID adds to a user's tokens: the id_token and client_info msal makes its account of, the scope."""
    now = int(time.time())
    claims = {"iss": f"{url}/{TENANT_ID}/v2.0", "aud": "mailroom", "sub": "subject-1", "oid": OBJECT_ID,
              "tid": TENANT_ID, "iat": now, "exp": now + 3600, "preferred_username": ACCOUNT, "name": "Support"}
    return {"id_token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
            "client_info": _b64({"uid": OBJECT_ID, "utid": TENANT_ID}), "scope": " ".join(sorted(USER_SCOPES))}
