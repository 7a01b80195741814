"""SMTP AUTH: a password by aiosmtplib's own login, or SASL XOAUTH2 with a token renewed once if refused."""

from __future__ import annotations

import base64
import logging

import aiosmtplib

from mailroom.adapters.signin.tokens import Credentials
from mailroom.errors import SignInError

log = logging.getLogger("mailroom.smtp")


def xoauth2(username: str, token: str) -> str:
    """The XOAUTH2 initial response: `user=…^Aauth=Bearer …^A^A`, base64."""
    return base64.b64encode(f"user={username}\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


async def auth_xoauth2(client: aiosmtplib.SMTP, username: str, token: str) -> None:
    """AUTH XOAUTH2; SMTPAuthenticationError when refused."""
    # aiosmtplib's own auth_xoauth2 is recent; the command itself is one line and a challenge.
    if client.last_ehlo_response is None:
        await client.ehlo()
    if "xoauth2" not in client.server_auth_methods:
        raise aiosmtplib.SMTPAuthenticationError(504, "the server does not offer AUTH XOAUTH2")
    response = await client.execute_command(b"AUTH", b"XOAUTH2", xoauth2(username, token).encode("ascii"))
    if response.code == 334:
        # The refusal comes as a base64 JSON challenge; an empty line gets the final answer.
        response = await client.execute_command(b"")
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


async def sign_in(client: aiosmtplib.SMTP, username: str, creds: Credentials, server: str) -> None:
    """Sign in with `creds`; SignInError naming the key when the server refuses."""
    try:
        if creds.method != "oauth2":
            try:
                await client.login(username, creds.secret())
            except aiosmtplib.SMTPAuthenticationError as exc:
                raise _refused(creds, server, username, "the password", exc) from None
        else:
            await _with_token(client, username, creds, server)
    except SignInError as exc:
        creds.failed(str(exc))
        raise
    creds.worked()


async def _with_token(client: aiosmtplib.SMTP, username: str, creds: Credentials, server: str) -> None:
    token = creds.secret()
    try:
        await auth_xoauth2(client, username, token)
        return
    except aiosmtplib.SMTPAuthenticationError as exc:
        if exc.code == 504:
            raise _refused(creds, server, username, "XOAUTH2", exc) from None
    # A token that should still be good was refused: one new token, one more try.
    log.info("action=token-refused server=smtp retry=forced-renewal")
    try:
        await auth_xoauth2(client, username, creds.secret(force=True))
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise _refused(creds, server, username, "the token", exc) from None


def _refused(creds: Credentials, server: str, username: str, what: str, exc: aiosmtplib.SMTPAuthenticationError) -> SignInError:
    answer = " ".join(str(exc.message).split())[:300]
    return SignInError(f"{creds.key}: {server} refused {what} for {username}: {exc.code} {answer}")
