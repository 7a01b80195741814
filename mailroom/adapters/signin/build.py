"""The credentials each connection signs in with, from its settings: a password or an OAuth2 provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailroom.adapters.signin.endpoint import TokenEndpoint
from mailroom.adapters.signin.generic import GenericProvider
from mailroom.adapters.signin.google import GoogleProvider
from mailroom.adapters.signin.microsoft import MicrosoftProvider
from mailroom.adapters.signin.saved import SavedRefreshToken
from mailroom.adapters.signin.tokens import Credentials, Password, Provider, Tokens
from mailroom.config.settings import OAuth2Settings


@dataclass(frozen=True)
class SignIns:
    """The credentials of each mailbox's IMAP connection and of SMTP (one object when they share a table)."""

    mailboxes: dict[str, Credentials]  # by mailbox name, in the config's order
    smtp: Credentials | None

    @property
    def imap(self) -> Credentials:
        """The first mailbox's credentials."""
        return next(iter(self.mailboxes.values()))


def signin_folder(data_dir: Path) -> Path:
    """Where rotated refresh tokens and msal's cache are kept (0700, files 0600)."""
    return data_dir / "signin"


def provider_for(cfg: OAuth2Settings, username: str, data_dir: Path) -> Provider:
    """The provider of one oauth2 table; `username` is the mailbox a Google service account acts for."""
    endpoint = TokenEndpoint(cfg)
    folder = signin_folder(data_dir)
    stem = cfg.key.replace(".", "-")
    if cfg.provider == "microsoft":
        return MicrosoftProvider(cfg, endpoint, folder / f"{stem}-msal-cache.json")
    if cfg.provider == "google":
        return GoogleProvider(cfg, endpoint, username, folder / f"{stem}-refresh-token.json")
    saved = None
    if cfg.flow == "refresh_token" and cfg.refresh_token is not None:
        saved = SavedRefreshToken(folder / f"{stem}-refresh-token.json", cfg.refresh_token.reveal())
    return GenericProvider(cfg, endpoint, saved)


def mailbox_credentials(settings: Any, box: Any = None) -> Credentials:
    """What a mailbox's IMAP connection signs in with (the first mailbox's by default)."""
    box = box or settings.mailbox
    if box.auth == "oauth2":
        return Tokens(box.oauth2.key, provider_for(box.oauth2, box.username, settings.support.data_dir))
    return Password(box.password.origin, box.password)


def build_signins(settings: Any) -> SignIns:
    """Every connection's credentials; SMTP on the first mailbox's table shares its tokens (and its refresh token)."""
    boxes = {box.name: mailbox_credentials(settings, box) for box in settings.all_mailboxes}
    imap = boxes[settings.mailbox.name]
    smtp = settings.smtp
    if smtp.auth == "oauth2":
        if smtp.oauth2 is settings.mailbox.oauth2 and isinstance(imap, Tokens):
            return SignIns(boxes, Tokens(imap.key, imap.cache))
        return SignIns(boxes, Tokens(smtp.oauth2.key, provider_for(smtp.oauth2, smtp.username, settings.support.data_dir)))
    if smtp.username and smtp.password is not None:
        return SignIns(boxes, Password(smtp.password.origin, smtp.password))
    return SignIns(boxes, None)
