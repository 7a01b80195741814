"""Microsoft 365 through msal: app-only sign-in (secret or certificate), or a user's device-code sign-in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import msal

from mailroom import clock
from mailroom.adapters.signin.endpoint import MsalHttp, TokenEndpoint
from mailroom.adapters.signin.msalcache import CacheFile, SignedIn
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
        self.cache_file = CacheFile(cfg.key, cache_path)
        self._app: Any = None

    def fetch(self, force: bool) -> Token:
        """An app-only token (never msal's cached one: renewal is ours), or the signed-in user's."""
        try:
            if self.cfg.flow == "device_code":
                self.cache_file.refresh()  # a `mailroom auth login` since the last token is taken up
                return self._user_token(self._application(), force)
            app = self._application()
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
        answer = _discovery_answer(exc)
        if answer is not None:  # Entra ID's own refusal, e.g. invalid_tenant with AADSTS90002
            return refused(self.cfg, answer)
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
            self._app = msal.PublicClientApplication(cfg.client_id, token_cache=self.cache_file.cache, **options)
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
        try:
            result = app.acquire_token_silent_with_error(self.scopes(), account=accounts[0], force_refresh=force)
        finally:
            self.cache_file.save()  # a rotated refresh token, kept for the next start
        if result is None:
            raise SignInError(f"{self.cfg.key}.flow: the sign-in has lapsed: run `mailroom auth login`")
        return self._token(result, str(accounts[0].get("username") or ""))

    def login(self, say: Callable[[str], None]) -> SignedIn:
        """The device-code flow: `say` the URL and the code, wait for the user, keep the cache (0600)."""
        self.cache_file.forget()
        try:
            app = self._application()
            flow = app.initiate_device_flow(scopes=self.scopes())
        except ValueError as exc:
            self._app = None
            raise self._discovery_failed(exc) from None
        if "user_code" not in flow:
            raise refused(self.cfg, flow)
        say(flow.get("message") or f"To sign in, open {flow.get('verification_uri')} and enter the code {flow['user_code']}")
        self._token(app.acquire_token_by_device_flow(flow))
        self.cache_file.write()
        signed_in = self.cache_file.signed_in()
        if signed_in is None:
            raise SignInError(f"{self.cfg.key}.flow: the token endpoint named no account for the sign-in")
        return signed_in

    def signed_in(self) -> SignedIn | None:
        """Who signed in, from the cache file alone (no request); never a token."""
        self.cache_file.refresh()
        return self.cache_file.signed_in()


def _discovery_answer(exc: BaseException) -> dict[str, Any] | None:
    """The identity provider's JSON refusal of the OpenID discovery, which msal keeps in the error it replaced."""
    cause: BaseException | None = exc
    for _ in range(3):
        if cause is None:
            break
        text = str(cause)
        if "Error: {" in text:
            try:
                answer = json.loads(text[text.index("Error: {") + len("Error: "):])
            except ValueError:
                return None
            return answer if isinstance(answer, dict) else None
        cause = cause.__context__
    return None
