"""A token endpoint's refusal in one line: the config key to fix and the provider's own code."""

from __future__ import annotations

import re
from typing import Any

from mailroom.config.settings import OAuth2Settings
from mailroom.errors import SignInError

_AADSTS = re.compile(r"\bAADSTS\d+\b")

# Entra ID's codes that say which key is wrong; the rest follow the RFC 6749 error.
_MICROSOFT = {
    "AADSTS7000215": ("client_secret", "the token endpoint refused the client"),
    "AADSTS7000222": ("client_secret", "the client secret has expired"),
    "AADSTS700027": ("certificate_file", "the token endpoint refused the certificate"),
    "AADSTS700016": ("client_id", "the application is not known in the tenant"),
    "AADSTS90002": ("tenant", "the tenant is not known"),
    "AADSTS900023": ("tenant", "the tenant is not known"),
    "AADSTS65001": ("client_id", "the application has no admin consent for the mail permissions"),
    "AADSTS70011": ("scope", "the scope is not valid"),
}
_PHRASES = {
    "invalid_client": "the token endpoint refused the client",
    "invalid_grant": "the token endpoint refused the grant",
    "unauthorized_client": "the client is not allowed this grant",
    "invalid_scope": "the token endpoint refused the scope",
    "access_denied": "the token endpoint denied access",
    # RFC 8628's answers to a device-code sign-in that did not happen
    "authorization_declined": "the sign-in was declined",
    "expired_token": "the code expired before anyone signed in: run `mailroom auth login` again",
}
_GRANT_ERRORS = ("invalid_grant", "unauthorized_client", "access_denied", "authorization_declined", "expired_token")


def secret_key(cfg: OAuth2Settings, name: str) -> str:
    """`mailbox.oauth2.client_secret_env`: the key as written, for a secret; else the plain key."""
    secret = getattr(cfg, name, None) if name in ("client_secret", "refresh_token") else None
    origin = getattr(secret, "origin", None)
    return str(origin) if origin else f"{cfg.key}.{name}"


def credential_key(cfg: OAuth2Settings) -> str:
    """The key holding what identifies the client: its secret, certificate, or Google file."""
    if cfg.provider == "google":
        return f"{cfg.key}.{'service_account_file' if cfg.service_account_file else 'authorized_user_file'}"
    if cfg.certificate_file is not None:
        return f"{cfg.key}.certificate_file"
    if cfg.client_secret is not None:
        return secret_key(cfg, "client_secret")
    return f"{cfg.key}.client_id"


def grant_key(cfg: OAuth2Settings) -> str:
    """The key holding the grant: the refresh token, or the client's own credential."""
    if cfg.provider == "google":
        return credential_key(cfg)
    if cfg.refresh_token is not None:
        return secret_key(cfg, "refresh_token")
    if cfg.flow == "device_code":
        return f"{cfg.key}.flow"
    return credential_key(cfg)


def endpoint_key(cfg: OAuth2Settings) -> str:
    """The key that says where the token endpoint is."""
    if cfg.provider == "microsoft":
        return f"{cfg.key}.authority"
    if cfg.provider == "google":
        return credential_key(cfg)  # the token_uri written in the file
    return f"{cfg.key}.token_url"


def refused(cfg: OAuth2Settings, answer: Any, status: int | None = None) -> SignInError:
    """The one line for an OAuth2 error answer (`{"error": …, "error_description": …}`)."""
    data = answer if isinstance(answer, dict) else {}
    error = str(data.get("error") or "").strip() or (f"HTTP {status}" if status else "refused")
    description = str(data.get("error_description") or "")
    codes = _AADSTS.findall(description)
    if not codes and data.get("error_codes"):
        codes = [f"AADSTS{data['error_codes'][0]}"]
    code = f"{error}: {codes[0]}" if codes else error
    if codes and codes[0] in _MICROSOFT:
        name, phrase = _MICROSOFT[codes[0]]
        key = secret_key(cfg, name) if name == "client_secret" else f"{cfg.key}.{name}"
        if name == "client_secret" and cfg.client_secret is None:
            key = credential_key(cfg)
    elif error == "invalid_client":
        key, phrase = credential_key(cfg), _PHRASES[error]
    elif error in _GRANT_ERRORS:
        key, phrase = grant_key(cfg), _PHRASES[error]
    elif error == "invalid_tenant":
        key, phrase = f"{cfg.key}.tenant", "the tenant is not known"
    elif error == "invalid_scope":
        key, phrase = f"{cfg.key}.scope", _PHRASES[error]
    else:
        key, phrase = endpoint_key(cfg), "the token endpoint refused the request"
    return SignInError(f"{key}: {phrase} ({_printable(code)})")


def _printable(text: str) -> str:
    """A code from the wire, on one line and bounded: it goes to logs and alerts."""
    return re.sub(r"[^\w .:-]", "?", text)[:120]
