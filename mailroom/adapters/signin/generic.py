"""Any RFC 6749 token endpoint (Keycloak, Okta, Dovecot's setups): client credentials or a refresh token."""

from __future__ import annotations

from datetime import timedelta

from mailroom import clock
from mailroom.adapters.signin.endpoint import TokenEndpoint
from mailroom.adapters.signin.saved import SavedRefreshToken
from mailroom.adapters.signin.tokens import Token
from mailroom.config.settings import OAuth2Settings
from mailroom.errors import SignInError

DEFAULT_LIFETIME = 3600  # seconds, for an answer without expires_in (RFC 6749 makes it optional)


def token_from(answer: dict[str, object], who: str = "") -> Token:
    """A Token from a token endpoint's JSON answer."""
    now = clock.now()
    try:
        seconds = int(str(answer.get("expires_in") or DEFAULT_LIFETIME))
    except ValueError:
        seconds = DEFAULT_LIFETIME
    return Token(str(answer["access_token"]), now + timedelta(seconds=max(1, seconds)), now, who)


class GenericProvider:
    """Tokens by `grant_type=client_credentials` or `refresh_token` at `token_url`."""

    name = "generic"

    def __init__(self, cfg: OAuth2Settings, endpoint: TokenEndpoint, saved: SavedRefreshToken | None) -> None:
        self.cfg = cfg
        self.endpoint = endpoint
        self.saved = saved

    def fetch(self, force: bool) -> Token:
        """One token request; a refresh token the server rotates is saved for the next."""
        cfg = self.cfg
        form = {"grant_type": cfg.flow}
        if cfg.client_id:
            form["client_id"] = cfg.client_id
        if cfg.client_secret is not None:
            form["client_secret"] = cfg.client_secret.reveal()
        if cfg.scope:
            form["scope"] = cfg.scope
        if cfg.flow == "refresh_token":
            if self.saved is None:
                raise SignInError(f"{cfg.key}.refresh_token: required")
            form["refresh_token"] = self.saved.current()
        answer = self.endpoint.post_form(cfg.token_url, form)
        rotated = answer.get("refresh_token")
        if self.saved is not None and isinstance(rotated, str) and rotated:
            self.saved.save(rotated)
        return token_from(answer)
