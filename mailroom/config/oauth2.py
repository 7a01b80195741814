"""[mailbox.oauth2] and [smtp.oauth2]: which provider issues sign-in tokens, and how to ask it."""

from __future__ import annotations

import difflib
from typing import Any

from mailroom.config.settings import OAuth2Settings
from mailroom.config.tomlkeys import Table, show
from mailroom.errors import ConfigError

PROVIDERS = ("microsoft", "google", "generic")
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
KEYS = ("provider", "flow", "grant", "tenant", "client_id", "client_secret", "client_secret_env",
        "client_secret_file", "certificate_file", "certificate_thumbprint", "authority",
        "service_account_file", "authorized_user_file", "token_url", "scope", "refresh_token",
        "refresh_token_env", "refresh_token_file", "ca_file", "timeout")
AUTH = ("password", "oauth2")


def oauth2_table(parent: Table) -> Table | None:
    """The `oauth2` table inside `parent`, its keys checked; None when absent."""
    data = parent.data.get("oauth2")
    if data is None:
        return None
    name = f"{parent.name}.oauth2"
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a table, got {show(data)}")
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ConfigError(f"{name}.{key}: unknown key{hint}")
    return Table(name, data, parent.base_dir, parent.env)


def read_oauth2(table: Table) -> OAuth2Settings:
    """Check one oauth2 table: the keys its provider needs, and no two ways to say one thing."""
    if "provider" not in table.data:
        raise table.error("provider", "required (microsoft, google or generic)")
    provider = table.choice("provider", PROVIDERS, "")
    flow = _flow(table, provider)
    secret = table.secret("client_secret")
    certificate = table.optional_path("certificate_file")
    thumbprint = table.string("certificate_thumbprint", "").replace(":", "")
    service_account = table.optional_path("service_account_file")
    authorized_user = table.optional_path("authorized_user_file")
    refresh = table.secret("refresh_token")
    settings = OAuth2Settings(
        key=table.name,
        provider=provider,
        flow=flow,
        tenant=table.string("tenant", ""),
        client_id=table.string("client_id", ""),
        client_secret=secret,
        certificate_file=certificate,
        certificate_thumbprint=thumbprint,
        authority=table.url("authority", MICROSOFT_AUTHORITY).rstrip("/"),
        service_account_file=service_account,
        authorized_user_file=authorized_user,
        token_url=table.url("token_url") if table.string("token_url", "") else "",
        scope=table.string("scope", ""),
        refresh_token=refresh,
        ca_file=table.optional_path("ca_file"),
        timeout=table.duration("timeout", "20s", positive=True),
    )
    _check_provider(table, settings)
    return settings


def _flow(table: Table, provider: str) -> str:
    if provider == "microsoft":
        if "grant" in table.data:
            raise table.error("grant", 'is for provider = "generic"; Microsoft takes flow')
        return table.choice("flow", ("client_credentials", "device_code"), "client_credentials")
    if "flow" in table.data:
        raise table.error("flow", 'is for provider = "microsoft"' + ('; use grant' if provider == "generic" else ""))
    if provider == "generic":
        return table.choice("grant", ("client_credentials", "refresh_token"), "client_credentials")
    if "grant" in table.data:
        raise table.error("grant", 'is for provider = "generic"')
    return "service_account"


def _check_provider(table: Table, s: OAuth2Settings) -> None:
    has: dict[str, Any] = {
        "tenant": s.tenant, "client_id": s.client_id, "client_secret": s.client_secret,
        "certificate_file": s.certificate_file, "certificate_thumbprint": s.certificate_thumbprint,
        "service_account_file": s.service_account_file, "authorized_user_file": s.authorized_user_file,
        "token_url": s.token_url, "refresh_token": s.refresh_token,
    }
    wanted = {
        "microsoft": ("tenant", "client_id", "client_secret", "certificate_file", "certificate_thumbprint"),
        "google": ("service_account_file", "authorized_user_file"),
        "generic": ("token_url", "client_id", "client_secret", "refresh_token"),
    }[s.provider]
    for key, value in has.items():
        if value and key not in wanted:
            raise table.error(key, f'is not used by provider = "{s.provider}"')
    if "authority" in table.data and s.provider != "microsoft":
        raise table.error("authority", f'is not used by provider = "{s.provider}"')
    if s.provider == "microsoft":
        for key in ("tenant", "client_id"):
            if not has[key]:
                raise table.error(key, "required for provider = \"microsoft\"")
        if s.flow == "client_credentials":
            _one_credential(table, s)
    elif s.provider == "google":
        if bool(s.service_account_file) == bool(s.authorized_user_file):
            raise table.error("service_account_file", "give one of service_account_file or authorized_user_file")
    else:
        if not s.token_url:
            raise table.error("token_url", 'required for provider = "generic"')
        if s.flow == "client_credentials" and not s.client_id:
            raise table.error("client_id", 'required with grant = "client_credentials"')
        if s.flow == "client_credentials" and s.client_secret is None:
            raise table.error("client_secret", 'required with grant = "client_credentials" (set client_secret_env or client_secret_file)')
        if s.flow == "refresh_token" and s.refresh_token is None:
            raise table.error("refresh_token", 'required with grant = "refresh_token" (set refresh_token_env or refresh_token_file)')


def _one_credential(table: Table, s: OAuth2Settings) -> None:
    if s.client_secret is not None and s.certificate_file is not None:
        raise table.error("client_secret", "give a client secret or a certificate, not both")
    if s.client_secret is None and s.certificate_file is None:
        raise table.error("client_secret", "required (set client_secret_env or client_secret_file, or certificate_file)")
    if s.certificate_file is not None and not s.certificate_thumbprint:
        raise table.error("certificate_thumbprint", "required with certificate_file (the SHA-1 thumbprint Entra ID shows)")
