"""A local identity provider for tests: Microsoft, Google and RFC 6749 token endpoints over HTTPS, introspection for Dovecot."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tests.harness.devicecode import DeviceSignIns

HOST = "127.0.0.1"
TENANT = "contoso.example"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "client-secret-value-never-shown"
APP_SCOPE = "https://outlook.office365.com/.default"
MAIL_SCOPE = "https://mail.google.com/"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
MODES = ("ok", "invalid_client", "invalid_grant", "5xx", "hang")


@dataclass
class Issued:
    """One access token the server handed out."""

    token: str
    provider: str
    grant: str
    username: str
    expires_at: float  # time.time()
    revoked: bool = False


def make_ca(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA of this test and a server certificate for 127.0.0.1 it signed: (the CA's PEM, a server context)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailroom test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "test-ca.pem", folder / "idp-cert.pem", folder / "idp-key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return ca_path, context


def rsa_key_pem() -> tuple[str, Any]:
    """A fresh RSA key: (PKCS#8 PEM, its public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    idp: TokenServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status, body = self.server.idp.answer_get(urlsplit(self.path).path)
        self._send(status, body)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.server.idp.answer_post(urlsplit(self.path).path, form)
        self._send(status, body)


class TokenServer:
    """Token endpoints on https://127.0.0.1:PORT (a CA made here), introspection on http://127.0.0.1:PORT2.

    Paths: /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/token and
    /{tenant}/oauth2/v2.0/devicecode (Microsoft, the device code sign-in in `devices`),
    /google/token (service-account JWTs and refresh tokens), /generic/token (RFC 6749), /introspect.
    `mode` makes every token request fail one way; `lifetime` is each token's life in seconds.
    """

    def __init__(self, folder: Path, lifetime: float = 3.0) -> None:
        self.folder = folder
        self.lifetime = lifetime
        self.mode = "ok"
        self.users = {"support"}
        self.issued: list[Issued] = []
        self.introspections = 0
        self.refresh_tokens: dict[str, str] = {}  # the refresh tokens now good -> username
        self.google_keys: dict[str, Any] = {}  # service account client_email -> its public key
        self.certificates: dict[str, Any] = {}  # thumbprint (hex) -> the client certificate's public key
        self._lock = threading.Condition()
        self._release = threading.Event()
        self.devices = DeviceSignIns(self)
        self.ca_path, context = make_ca(folder)
        self._https = _Server((HOST, 0), _Handler)
        self._https.socket = context.wrap_socket(self._https.socket, server_side=True)
        self._http = _Server((HOST, 0), _Handler)
        for server in (self._https, self._http):
            server.idp = self
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.url = f"https://{HOST}:{self._https.server_address[1]}"
        self.introspection_url = f"http://{HOST}:{self._http.server_address[1]}/introspect"

    def close(self) -> None:
        """Stop both servers; a hanging request is let go."""
        self._release.set()
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    # --- what tests look at -------------------------------------------------------------------

    def tokens(self, provider: str | None = None) -> list[Issued]:
        """Access tokens issued so far (for one provider)."""
        with self._lock:
            return [i for i in self.issued if provider is None or i.provider == provider]

    def wait_for_tokens(self, n: int, timeout: float = 60.0) -> list[Issued]:
        """Block until n tokens were issued."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.issued) >= n, timeout):
                raise AssertionError(f"{len(self.issued)} tokens issued after {timeout}s, expected {n}")
            return list(self.issued)

    def active(self, token: str) -> str | None:
        """The username a token signs in as while it is good, else None."""
        with self._lock:
            for issued in self.issued:
                if issued.token == token and not issued.revoked and issued.expires_at > time.time():
                    return issued.username
        return None

    def revoke_all(self) -> None:
        """Every token issued so far stops working (as when an admin revokes the sessions)."""
        with self._lock:
            for issued in self.issued:
                issued.revoked = True

    def set_mode(self, mode: str) -> None:
        """ok, invalid_client, invalid_grant, 5xx or hang for every token request from now on."""
        assert mode in MODES
        self.mode = mode
        if mode == "hang":
            self._release.clear()
        else:
            self._release.set()

    def secrets_seen(self) -> list[str]:
        """Every secret a leak check looks for: the client secret, tokens, refresh tokens."""
        with self._lock:
            return [CLIENT_SECRET, *(i.token for i in self.issued), *self.refresh_tokens]

    def add_refresh_token(self, username: str = "support") -> str:
        """A refresh token the generic and Google endpoints accept."""
        token = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_tokens[token] = username
        return token

    def spend_refresh_token(self, token: str) -> str | None:
        """The username of a good refresh token, which is spent by this use (rotation); None for a bad one."""
        with self._lock:
            return self.refresh_tokens.pop(token, None)

    def smtp_check(self, user: str, token: str) -> bool:
        """For the SMTP server: the token is good and signs in as `user`."""
        return self.active(token) == user

    # --- answers ------------------------------------------------------------------------------

    def answer_get(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            if parts[0] != TENANT:
                return 400, {"error": "invalid_tenant", "error_description":
                             f"AADSTS90002: Tenant '{parts[0]}' not found. Trace ID: 0000"}
            base = f"{self.url}/{TENANT}"
            return 200, {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                         "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                         "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode"}
        return 404, "not found"

    def answer_post(self, path: str, form: dict[str, str]) -> tuple[int, Any]:
        if path == "/introspect":
            with self._lock:
                self.introspections += 1
            username = self.active(form.get("token", ""))
            return 200, {"active": True, "username": username} if username else {"active": False}
        fault = self._fault(path)
        if fault is not None:
            return fault
        if path == f"/{TENANT}/oauth2/v2.0/token":
            return self._microsoft(form)
        if path == f"/{TENANT}/oauth2/v2.0/devicecode":
            return self.devices.start(form)
        if path == "/google/token":
            return self._google(form)
        if path == "/generic/token":
            return self._generic(form)
        return 404, "not found"

    def _fault(self, path: str) -> tuple[int, Any] | None:
        mode = self.mode
        if mode == "hang":
            self._release.wait(60)
            return 503, "gave up"
        if mode == "5xx":
            return 503, "Service Unavailable"
        microsoft = path.startswith(f"/{TENANT}/")
        if mode == "invalid_client":
            return 401, {"error": "invalid_client", "error_description": (
                "AADSTS7000215: Invalid client secret provided. Trace ID: 1234" if microsoft else "Invalid client credentials")}
        if mode == "invalid_grant":
            return 400, {"error": "invalid_grant", "error_description": (
                "AADSTS70000: The grant is expired. Trace ID: 1234" if microsoft else "Token is not active")}
        return None

    def issue(self, provider: str, grant: str, username: str, **extra: Any) -> tuple[int, Any]:
        """An access token for `username` (the answer's JSON carries `extra`)."""
        token = "at-" + secrets.token_urlsafe(24)
        with self._lock:
            self.issued.append(Issued(token, provider, grant, username, time.time() + self.lifetime))
            self._lock.notify_all()
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(self.lifetime), **extra}

    def _refused_client(self) -> tuple[int, Any]:
        return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}

    def _microsoft(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client", "error_description": f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found."}
        if form.get("grant_type") in (DEVICE_CODE, "refresh_token"):  # a user's sign-in
            return self.devices.token(form)
        if form.get("grant_type") != "client_credentials" or form.get("scope") != APP_SCOPE:
            return 400, {"error": "invalid_request", "error_description": "AADSTS900144: grant or scope"}
        if "client_assertion" in form:
            if not self._assertion_ok(form["client_assertion"]):
                return 401, {"error": "invalid_client", "error_description": "AADSTS700027: Client assertion contains an invalid signature."}
        elif form.get("client_secret") != CLIENT_SECRET:
            return self._refused_client()
        return self.issue("microsoft", "client_credentials", "support")

    def _assertion_ok(self, assertion: str) -> bool:
        head, body, signature = assertion.split(".")
        header = json.loads(_b64(head))
        thumbprint = _b64(header.get("x5t", "")).hex()
        key = self.certificates.get(thumbprint)
        if key is None:
            return False
        message = f"{head}.{body}".encode()
        try:
            if header.get("alg") == "PS256":
                key.verify(_b64(signature), message, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH), hashes.SHA256())
            else:
                key.verify(_b64(signature), message, padding.PKCS1v15(), hashes.SHA256())
        except Exception:  # noqa: BLE001 - any failure is a bad signature
            return False
        return json.loads(_b64(body)).get("iss") == CLIENT_ID

    def _google(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") == JWT_BEARER:
            head, body, signature = form.get("assertion", "..").split(".")
            claims = json.loads(_b64(body))
            key = self.google_keys.get(claims.get("iss", ""))
            try:
                assert key is not None
                key.verify(_b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
            except Exception:  # noqa: BLE001
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            if claims.get("scope") != MAIL_SCOPE or claims.get("sub") not in self.users:
                return 401, {"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method."}
            return self.issue("google", "service_account", claims["sub"])
        return self._refresh("google", form)

    def _generic(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") == "client_credentials":
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
            return self.issue("generic", "client_credentials", "support")
        return self._refresh("generic", form)

    def _refresh(self, provider: str, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        # Rotation: the token used is spent, a new one comes with the answer.
        username = self.spend_refresh_token(form.get("refresh_token", ""))
        if username is None:
            return 400, {"error": "invalid_grant", "error_description": "Token is not active"}
        rotated = self.add_refresh_token(username)
        return self.issue(provider, "refresh_token", username, refresh_token=rotated)

    # --- credentials files the clients read ------------------------------------------------------

    def service_account_file(self, folder: Path) -> Path:
        """A Google service-account key file whose token_uri is this server."""
        pem, public = rsa_key_pem()
        email = "mailroom@test-project.iam.gserviceaccount.com"
        self.google_keys[email] = public
        path = folder / "service-account.json"
        path.write_text(json.dumps({
            "type": "service_account", "project_id": "test-project", "private_key_id": "k1",
            "private_key": pem, "client_email": email, "client_id": "1234567890",
            "token_uri": f"{self.url}/google/token",
        }))
        return path

    def authorized_user_file(self, folder: Path) -> Path:
        """An authorized-user file as Google's tools write it, token_uri pointing here."""
        path = folder / "authorized-user.json"
        path.write_text(json.dumps({
            "type": "authorized_user", "client_id": "desktop-client.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET, "refresh_token": self.add_refresh_token(),
            "token_uri": f"{self.url}/google/token",
        }))
        return path

    def certificate_file(self, folder: Path) -> tuple[Path, str]:
        """A client certificate with its private key (PEM) registered for the app, and its SHA-1 thumbprint."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailroom app")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra ID's own choice
        self.certificates[thumbprint] = key.public_key()
        path = folder / "app-cert.pem"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                         + cert.public_bytes(serialization.Encoding.PEM))
        path.chmod(0o600)
        return path, thumbprint.upper()
