"""A real Dovecot IMAP server in a temp folder, for tests: plain login, optional TLS, restartable."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from mailroom.demo.dovecot_oauth2 import oauth2_passdb_config

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534  # nobody:nogroup on Debian: Dovecot runs the mail processes as this uid/gid
HOST = "127.0.0.1"

_running: set[Dovecot] = set()  # stopped at exit so a test that forgot cannot leave Dovecot behind


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 60.0, alive: subprocess.Popen[bytes] | None = None) -> None:
    """Poll every 20 ms until host:port accepts a connection; fail early if `alive` exits."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"exited with status {alive.returncode} before listening on {host}:{port}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")
        time.sleep(0.02)


def self_signed_cert(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem), usable as a client's ca_file."""
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    # An EC key is made in milliseconds where RSA takes much longer. keyUsage keyCertSign and
    # CA:TRUE let the certificate be its own trust anchor under OpenSSL 3's strict checks.
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "3", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
         "-addext", "extendedKeyUsage=serverAuth"],
        check=True, capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


def process_group(pgid: int) -> list[tuple[str, str]]:
    """(name, state) of every live (not zombie) process in process group pgid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if int(rest[2]) == pgid and rest[0] not in ("Z", "X"):
            found.append((name, rest[0]))
    return found


class Dovecot:
    """One Dovecot instance with users support, customer and engineer (password PASSWORD) on 127.0.0.1."""

    PASSWORD = "secret"
    USERS = ("support", "customer", "engineer")

    def __init__(self, tls: bool = False, users: Iterable[str] = USERS, folder: Path | None = None, introspection_url: str | None = None) -> None:
        self.host = HOST
        self.introspection_url = introspection_url  # where the oauth2 passdb checks tokens; None: none
        self.port = 0  # chosen on the first start, kept across restarts
        self.tls_port = 0  # implicit TLS (imaps), only when tls=True; the plain port offers STARTTLS then
        self.tls = tls
        self.users = tuple(users)
        self._own_folder = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="dovecot-")) if folder is None else folder
        self.folder.chmod(0o755)  # mkdtemp makes it 0700: Dovecot's processes (nobody) must reach mail/, run/
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._clients: dict[str, IMAPClient] = {}
        self._lock = threading.RLock()  # the SMTP delivery thread appends while the test thread reads

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the Dovecot master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The master process id (also its process group id), None when stopped."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """Dovecot's log file, for diagnosing a failed test."""
        return self.folder / "dovecot.log"

    def start(self) -> Dovecot:
        """Start Dovecot (on the same ports as before if it ran already) and wait until it listens."""
        if self.running:
            return self
        if os.geteuid() != 0:
            raise RuntimeError("the Dovecot test server needs root: it runs its mail processes as nobody")
        if self.port:
            self._launch()
            return self
        # The first start picks free ports; another process may grab one in between, so retry.
        for attempt in range(5):
            self.port = free_port()
            self.tls_port = free_port() if self.tls else 0
            try:
                self._launch()
                return self
            except RuntimeError:
                if attempt == 4:
                    raise
        return self

    def stop(self) -> None:
        """Stop Dovecot and every process it started; its mail stays for a later start."""
        with self._lock:
            self._drop_clients()
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            # SIGTERM to the whole group: the mail processes ("imap") say BYE to their clients and
            # finish their writes (the master alone leaves them running). The master's own shutdown
            # then takes 1-6 s (a fixed pause for its logger, login processes waiting on the stopped
            # stats service), so once no mail process is left the rest is killed at once.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30  # a ceiling: on a loaded machine the writes take longer
            while proc.poll() is None and time.monotonic() < deadline:
                if all(name != "imap" for name, _state in process_group(proc.pid)):
                    break
                time.sleep(0.01)
        # Dovecot runs in its own process group: anything of it still alive there is ours to end.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while process_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # children are reaped by init a moment after the master died

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop Dovecot and remove its folder."""
        self.stop()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _launch(self) -> None:
        self._write_config()
        # No process of an earlier run is alive (stop() waits for that), so its pid file and lock
        # files are stale: left in place, a new master waits ~12 s for the dotlock on
        # state/instances, and mail processes for a maildir's uidlist lock.
        stale = [self.folder / "run" / "master.pid", *(self.folder / "run" / "state").glob("*.lock"),
                 *(self.folder / "mail").glob("**/dovecot-uidlist.lock")]
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        log = self.log_path.open("ab")
        try:
            proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        finally:
            log.close()
        self._proc = proc
        _running.add(self)
        try:
            wait_for_port(self.host, self.port, alive=proc)
            if self.tls_port:
                wait_for_port(self.host, self.tls_port, alive=proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {exc}\n{self._log_tail()}") from exc

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_config(self) -> None:
        d = self.folder
        for sub in ("run", "run/state", "mail"):
            (d / sub).mkdir(parents=True, exist_ok=True)
            os.chown(d / sub, NOBODY, NOBODY)
        (d / "users").write_text("".join(f"{u}:{{PLAIN}}{self.PASSWORD}\n" for u in self.users))
        (d / "users").chmod(0o644)  # for Dovecot's auth process, whatever the umask (the CLI sets 077)
        ssl_conf = "ssl = no"
        imaps_port = 0
        if self.tls:
            if self.cert_path is None:
                self.cert_path, self.key_path = self_signed_cert(d)
            ssl_conf = f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.key_path}"
            imaps_port = self.tls_port
        mechanisms, oauth2_passdb = oauth2_passdb_config(d, self.introspection_url)
        (d / "dovecot.conf").write_text(f"""\
protocols = imap
listen = {self.host}
base_dir = {d}/run
state_dir = {d}/run/state
instance_name = test-dovecot-{self.port}
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
{ssl_conf}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
first_valid_uid = 1
# Failed logins are answered at once: tests of wrong passwords need not wait 2 s each.
auth_failure_delay = 0
# The default of 10 is reached by tests that kill and restart many clients of one user.
mail_max_userip_connections = 200
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {imaps_port}
  }}
}}
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={NOBODY} gid={NOBODY} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
}}
""")

    # -- clients ---------------------------------------------------------------------------------

    def client(self, user: str = "support", password: str | None = None, tls: bool = False) -> IMAPClient:
        """A new IMAPClient logged in as user; the caller logs out. tls: implicit TLS, verified with cert_path."""
        if tls:
            if not self.tls_port or self.cert_path is None:
                raise RuntimeError("this Dovecot was started without tls=True")
            context = ssl.create_default_context(cafile=str(self.cert_path))
            imap = IMAPClient(self.host, port=self.tls_port, ssl=True, ssl_context=context, timeout=30)
        else:
            imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        imap.login(user, self.PASSWORD if password is None else password)
        return imap

    @contextlib.contextmanager
    def _session(self, user: str) -> Iterator[IMAPClient]:
        """The harness's own cached connection for user, made anew when Dovecot restarted under it."""
        with self._lock:
            imap = self._clients.get(user)
            if imap is not None:
                try:
                    imap.noop()
                except Exception:  # a dead connection: the server restarted or dropped it
                    self._clients.pop(user, None)
                    imap = None
            if imap is None:
                imap = self._clients[user] = self.client(user)
            try:
                yield imap
            except (OSError, IMAPClient.AbortError):
                self._clients.pop(user, None)
                raise

    def _drop_clients(self) -> None:
        for imap in self._clients.values():
            with contextlib.suppress(Exception):
                imap.shutdown()
        self._clients.clear()

    # -- mail ------------------------------------------------------------------------------------

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = (),
               msg_time: datetime | None = None) -> int | None:
        """APPEND raw to user's folder (created if missing); returns the new UID."""
        with self._session(user) as imap:
            if folder.upper() != "INBOX" and not imap.folder_exists(folder):
                imap.create_folder(folder)
            answer = imap.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        # Dovecot answers "[APPENDUID <validity> <uid>] Append completed."
        text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
        if text.startswith("[APPENDUID"):
            return int(text.split("]")[0].split()[2])
        return None

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The full raw bytes of every message in user's folder, by UID; [] for a folder that does not exist."""
        with self._session(user) as imap:
            if not imap.folder_exists(folder):
                return []
            imap.select_folder(folder, readonly=True)
            try:
                uids = sorted(imap.search("ALL"))
                fetched = imap.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            finally:
                imap.unselect_folder()
        return [fetched[uid][b"BODY[]"] for uid in uids]

    def count(self, user: str, folder: str = "INBOX") -> int:
        """How many messages user's folder holds; 0 for a folder that does not exist."""
        with self._session(user) as imap:
            if not imap.folder_exists(folder):
                return 0
            return int(imap.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def folders(self, user: str) -> list[str]:
        """The names of user's folders."""
        with self._session(user) as imap:
            return sorted(name for _flags, _sep, name in imap.list_folders())

    def wait_for(self, user: str, folder: str = "INBOX", n: int = 1, timeout: float = 60.0) -> list[bytes]:
        """Poll until user's folder holds at least n messages and return them all; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            have = self.count(user, folder)
            if have >= n:
                return self.messages(user, folder)
            if time.monotonic() > deadline:
                raise AssertionError(f"{user}/{folder} holds {have} messages after {timeout}s, expected {n}")
            time.sleep(0.05)

    def clear(self) -> None:
        """Empty every user's mailboxes: delete all folders but INBOX, and every message in INBOX."""
        for user in self.users:
            with self._session(user) as imap:
                # Children first; a parent only implied by its children ("Archive" of "Archive/2026")
                # is no mailbox and cannot be deleted, it disappears with them.
                for name in sorted(self.folders(user), key=lambda n: -n.count("/")):
                    if name.upper() != "INBOX":
                        with contextlib.suppress(IMAPClient.Error):
                            imap.delete_folder(name)
                imap.select_folder("INBOX")
                uids = imap.search("ALL")
                if uids:
                    imap.delete_messages(uids)
                    imap.expunge()
                imap.unselect_folder()


@atexit.register
def _stop_all() -> None:
    for dovecot in list(_running):
        dovecot.stop()
