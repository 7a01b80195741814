"""Microsoft 365 through msal: app-only sign-in (secret or certificate), or a user's device-code sign-in."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import msal

from mailroom import clock
from mailroom.adapters.signin.endpoint import MsalHttp, TokenEndpoint
from mailroom.adapters.signin.refusals import endpoint_key, refused
from mailroom.adapters.signin.tokens import Token
from mailroom.config.oauth2 import MICROSOFT_AUTHORITY
from mailroom.config.settings import OAuth2Settings
from mailroom.errors import ConfigError, SignInError

APP_SCOPE = "https://outlook.office365.com/.default"  # IMAP.AccessAsApp and SMTP.SendAsApp
USER_SCOPES = {"imap": "https://outlook.office.com/IMAP.AccessAsUser.All", "smtp": "https://outlook.office.com/SMTP.Send"}


class MicrosoftProvider:
    """Tokens from Entra ID at `{authority}/{tenant}`."""

    name = "microsoft"

    def __init__(self, cfg: OAuth2Settings, endpoint: TokenEndpoint, cache_path: Path) -> None:
        self.cfg = cfg
        self.endpoint = endpoint
        self.cache_path = cache_path
        self._app: Any = None
        self._cache: msal.SerializableTokenCache | None = None

    def fetch(self, force: bool) -> Token:
        """An app-only token (never msal's cached one: renewal is ours), or the signed-in user's."""
        try:
            app = self._application()
            if self.cfg.flow == "device_code":
                return self._user_token(app, force)
            app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[APP_SCOPE])
        except ValueError as exc:  # msal's discovery of an unknown tenant or a wrong authority
            self._app = None
            raise self._discovery_failed(exc) from None
        return self._token(result)

    def _token(self, result: Any, who: str = "") -> Token:
        if not isinstance(result, dict) or "access_token" not in result:
            raise refused(self.cfg, result)
        now = clock.now()
        seconds = int(result.get("expires_in") or 3600)
        return Token(str(result["access_token"]), now + timedelta(seconds=max(1, seconds)), now, who)

    def _discovery_failed(self, exc: ValueError) -> SignInError:
        text = str(exc)
        if "AADSTS" in text or "tenant" in text.lower():
            codes = re.findall(r"AADSTS\d+", text)
            code = codes[0] if codes else "invalid_tenant"
            return SignInError(f"{self.cfg.key}.tenant: the tenant is not known at {self.cfg.authority} ({code})")
        return SignInError(f"{endpoint_key(self.cfg)}: msal cannot use this authority ({' '.join(text.split())[:160]})")

    # --- msal's application ------------------------------------------------------------------

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        cfg = self.cfg
        options: dict[str, Any] = {
            "authority": f"{cfg.authority}/{cfg.tenant}",
            "http_client": MsalHttp(self.endpoint),
        }
        if cfg.authority != MICROSOFT_AUTHORITY:
            # Another cloud or a private endpoint: msal would ask login.microsoftonline.com to vouch.
            options.update(validate_authority=False, instance_discovery=False)
        if cfg.flow == "device_code":
            self._cache = load_cache(self.cache_path)
            self._app = msal.PublicClientApplication(cfg.client_id, token_cache=self._cache, **options)
        else:
            self._app = msal.ConfidentialClientApplication(cfg.client_id, client_credential=self._credential(), **options)
        return self._app

    def _credential(self) -> Any:
        cfg = self.cfg
        if cfg.certificate_file is None:
            assert cfg.client_secret is not None
            return cfg.client_secret.reveal()
        try:
            pem = cfg.certificate_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f'{cfg.key}.certificate_file: cannot read "{cfg.certificate_file}": {getattr(exc, "strerror", None) or exc}') from None
        if "PRIVATE KEY" not in pem:
            raise ConfigError(f"{cfg.key}.certificate_file: expected a PEM file holding the private key")
        return {"private_key": pem, "thumbprint": cfg.certificate_thumbprint}

    # --- a user signed in with `mailroom auth login` -------------------------------------------

    def scopes(self) -> list[str]:
        """The delegated scopes of a device-code sign-in: IMAP and SMTP at once, one token for both."""
        return list(USER_SCOPES.values())

    def _user_token(self, app: Any, force: bool) -> Token:
        accounts = app.get_accounts()
        if not accounts:
            raise SignInError(f"{self.cfg.key}.flow: nobody is signed in: run `mailroom auth login`")
        result = app.acquire_token_silent_with_error(self.scopes(), account=accounts[0], force_refresh=force)
        self.save_cache()
        if result is None:
            raise SignInError(f"{self.cfg.key}.flow: the sign-in has lapsed: run `mailroom auth login`")
        return self._token(result, str(accounts[0].get("username") or ""))

    def login(self, say: Any) -> Token:
        """The device-code flow: `say` the code and the URL, wait for the user, keep the cache."""
        app = self._application()
        flow = app.initiate_device_flow(scopes=self.scopes())
        if "user_code" not in flow:
            raise refused(self.cfg, flow)
        say(flow.get("message") or f"To sign in, open {flow.get('verification_uri')} and enter the code {flow['user_code']}")
        result = app.acquire_token_by_device_flow(flow)
        self.save_cache()
        accounts = app.get_accounts()
        who = str(accounts[0].get("username") or "") if accounts else ""
        return self._token(result, who)

    def signed_in(self) -> tuple[str, Any] | None:
        """(username, the refresh token's account record) of whoever signed in, or None; never a token."""
        app = self._application()
        accounts = app.get_accounts()
        return (str(accounts[0].get("username") or ""), accounts[0]) if accounts else None

    def save_cache(self) -> None:
        """Write msal's cache back (file 0600) when it changed."""
        if self._cache is not None and self._cache.has_state_changed:
            save_cache(self.cache_path, self._cache)


def load_cache(path: Path) -> msal.SerializableTokenCache:
    """msal's token cache from `path`, empty when there is none yet."""
    cache = msal.SerializableTokenCache()
    if path.exists():
        cache.deserialize(path.read_text(encoding="utf-8"))
    return cache


def save_cache(path: Path, cache: msal.SerializableTokenCache) -> None:
    """Keep msal's cache, readable by this user alone: it holds the refresh token."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(cache.serialize())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
