"""mailroom.toml: defaults, types, relative paths, secrets and one-line errors naming the key."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from mailroom.config.loader import PAGERDUTY_EVENTS_URL, load_settings, resolve_config_path
from mailroom.config.secrets import Secret
from mailroom.config.settings import Settings
from mailroom.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mailroom.toml.example"

MINIMAL = """
[mailbox]
host = "mail.example.com"
username = "support"
password_env = "IMAP_PW"

[smtp]
host = "smtp.example.com"

[support]
address = "Support@Example.com"
"""


def write(folder: Path, text: str, name: str = "mailroom.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def load(folder: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    return load_settings(write(folder, text), {} if env is None else env)


def error(folder: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(folder, text, env)
    message = str(info.value)
    assert "\n" not in message
    return message


def with_table(table: str, body: str, base: str = MINIMAL) -> str:
    """MINIMAL with `body` added to `[table]` (appending the table when it is not there)."""
    header = f"[{table}]\n"
    if header in base:
        return base.replace(header, header + body + "\n", 1)
    return base + "\n" + header + body + "\n"


# The example file


def test_example_loads_without_any_environment():
    settings = load_settings(EXAMPLE, {})
    assert settings.mailbox.host == "127.0.0.1"
    assert settings.support.address == "support@example.com"
    assert settings.opsgenie is None


def test_example_with_every_optional_table_uncommented_loads(tmp_path):
    text = EXAMPLE.read_text()
    uncommented = re.sub(r"(?m)^#(?=[\[a-z])", "", text)
    settings = load(tmp_path, uncommented)
    assert settings.opsgenie is not None and settings.opsgenie.api_url == "https://api.opsgenie.com"
    assert settings.pagerduty is not None and settings.webhook is not None
    assert settings.webhook.url == "https://hooks.example.com/mailroom"


def test_example_never_writes_a_secret_inline():
    secrets = ("password", "secret", "api_key", "routing_key")
    for line in EXAMPLE.read_text().splitlines():
        key = line.lstrip("#").split("=")[0].strip()
        assert key not in secrets, line


def test_example_names_every_key_of_every_table():
    from mailroom.config.loader import KEYS, SECRET_KEYS

    text = EXAMPLE.read_text()
    for table, keys in KEYS.items():
        assert re.search(rf"(?m)^#?\[{table}\]", text), table
        for key in keys:
            if key == "oauth2":  # a table of its own, commented out with its keys
                assert re.search(rf"(?m)^# \[{table}\.oauth2\]", text) or table == "smtp", f"{table}.oauth2"
                continue
            written = f"{key}_env" if f"{table}.{key}" in SECRET_KEYS else key
            assert re.search(rf"(?m)^#? ?{written} = ", text), f"{table}.{written}"


# Defaults and types


def test_defaults(tmp_path):
    s = load(tmp_path, MINIMAL)
    assert s.path == tmp_path / "mailroom.toml"
    assert s.base_dir == tmp_path
    assert (s.mailbox.port, s.mailbox.security, s.mailbox.ca_file) == (993, "tls", None)
    assert (s.mailbox.folder, s.mailbox.processed_folder, s.mailbox.quarantine_folder) == (
        "INBOX", "Processed", "Quarantine")
    assert s.mailbox.idle is True
    assert s.mailbox.poll_interval == timedelta(seconds=30)
    assert (s.smtp.port, s.smtp.security, s.smtp.username, s.smtp.password) == (587, "starttls", None, None)
    assert s.support.address == "support@example.com"
    assert s.support.name == "Example Support"
    assert s.support.ticket_tag == "[Support #{id}]"
    assert s.support.lists == ()
    assert s.support.rules == tmp_path / "rules.yaml"
    assert s.support.templates == tmp_path / "templates"
    assert s.support.data_dir == tmp_path / "data"
    assert s.support.trusted_authserv_id == ""
    assert s.database.url == f"sqlite:///{tmp_path}/data/mailroom.db"
    assert s.database.password is None
    assert s.opsgenie is None and s.pagerduty is None and s.webhook is None
    assert s.escalation.backend == "opsgenie"
    assert s.escalation.give_up_after == timedelta(days=5)
    assert s.health.stale_after == timedelta(minutes=10)
    assert s.survey.delay == timedelta(hours=1)
    assert s.survey.scale == "good-okay-bad"
    assert s.limits.auto_replies_per_sender_hour == 3
    assert s.limits.max_attachment_size == 25_000_000
    assert s.limits.close_solved_after == timedelta(days=4)


@pytest.mark.parametrize(("security", "imap", "smtp"), [("tls", 993, 465), ("starttls", 143, 587)])
def test_port_defaults_follow_security(tmp_path, security, imap, smtp):
    text = with_table("smtp", f'security = "{security}"', with_table("mailbox", f'security = "{security}"'))
    s = load(tmp_path, text)
    assert (s.mailbox.port, s.smtp.port) == (imap, smtp)


def test_port_defaults_without_encryption_on_loopback(tmp_path):
    text = MINIMAL.replace("mail.example.com", "127.0.0.1").replace("smtp.example.com", "localhost")
    text = with_table("smtp", 'security = "none"', with_table("mailbox", 'security = "none"', text))
    s = load(tmp_path, text)
    assert (s.mailbox.port, s.smtp.port) == (143, 25)


def test_explicit_values(tmp_path):
    text = with_table("limits", 'auto_replies_per_sender_hour = 5\nmax_attachment_size = "10MiB"\nclose_solved_after = "1w"',
           with_table("survey", 'delay = "0s"\nscale = "1-5"',
           with_table("support", 'lists = ["  Support.Example.COM "]\nticket_tag = "[T-{id}]"\ntrusted_authserv_id = "mx.example.com"',
           with_table("mailbox", 'port = 1993\nidle = false\npoll_interval = "2m"\nfolder = "Support"'))))
    s = load(tmp_path, text)
    assert (s.mailbox.port, s.mailbox.idle, s.mailbox.folder) == (1993, False, "Support")
    assert s.mailbox.poll_interval == timedelta(minutes=2)
    assert s.support.lists == ("support.example.com",)
    assert s.support.ticket_tag == "[T-{id}]"
    assert s.support.trusted_authserv_id == "mx.example.com"
    assert s.survey.delay == timedelta(0)
    assert s.survey.scale == "1-5"
    assert s.limits.auto_replies_per_sender_hour == 5
    assert s.limits.max_attachment_size == 10 * 1024 * 1024
    assert s.limits.close_solved_after == timedelta(weeks=1)


def test_settings_are_frozen(tmp_path):
    s = load(tmp_path, MINIMAL)
    with pytest.raises(AttributeError):
        s.mailbox.host = "other"  # type: ignore[misc]


# Paths


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    text = with_table("support", 'rules = "conf/rules.yaml"\ntemplates = "../tpl"\ndata_dir = "/var/lib/mailroom"',
                      with_table("mailbox", 'ca_file = "ca.pem"'))
    s = load_settings(Path("etc") / write(folder, text).name, {})
    assert s.path == folder / "mailroom.toml"
    assert s.base_dir == folder
    assert s.mailbox.ca_file == folder / "ca.pem"
    assert s.support.rules == folder / "conf" / "rules.yaml"
    assert s.support.templates == tmp_path / "tpl"
    assert s.support.data_dir == Path("/var/lib/mailroom")
    assert s.database.url == "sqlite:////var/lib/mailroom/mailroom.db"


def test_relative_sqlite_url_is_relative_to_the_config_folder(tmp_path):
    s = load(tmp_path, with_table("database", 'url = "sqlite:///db/x.db?timeout=5"'))
    assert s.database.url == f"sqlite:///{tmp_path}/db/x.db?timeout=5"


@pytest.mark.parametrize("url", ["sqlite:////srv/x.db", "sqlite:///:memory:", "postgresql://mailroom@db:5432/mailroom"])
def test_other_database_urls_are_kept(tmp_path, url):
    assert load(tmp_path, with_table("database", f'url = "{url}"')).database.url == url


def test_database_password(tmp_path):
    s = load(tmp_path, with_table("database", 'url = "postgresql://m@db/m"\npassword_env = "PGPW"'), {"PGPW": "pg"})
    assert s.database.password is not None and s.database.password.reveal() == "pg"


# Config file location


def test_resolve_config_path_prefers_the_command_line():
    assert resolve_config_path("/a/b.toml", {"MAILROOM_CONFIG": "/c.toml"}) == Path("/a/b.toml")


def test_resolve_config_path_then_environment():
    assert resolve_config_path(None, {"MAILROOM_CONFIG": "/c.toml"}) == Path("/c.toml")


def test_resolve_config_path_defaults_to_the_working_folder():
    assert resolve_config_path(None, {}) == Path("mailroom.toml")
    assert resolve_config_path(None, {"MAILROOM_CONFIG": ""}) == Path("mailroom.toml")


# Errors: one line naming the key


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", {})
    assert str(info.value) == f"nope.toml: no such file: {tmp_path / 'nope.toml'}"


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "[mailbox]\nhost = \n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert str(info.value) == f"{path}:2:8: Invalid value"


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "mailroom.toml"
    path.write_bytes(b"[mailbox]\nhost = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path, {})


@pytest.mark.parametrize(("edit", "message"), [
    (("mailbox", 'port = "abc"'), 'mailbox.port: expected an integer, got "abc"'),
    (("mailbox", "port = 1.5"), "mailbox.port: expected an integer, got 1.5"),
    (("mailbox", "port = true"), "mailbox.port: expected an integer, got true"),
    (("mailbox", "port = 0"), "mailbox.port: expected an integer 1-65535, got 0"),
    (("smtp", "port = 70000"), "smtp.port: expected an integer 1-65535, got 70000"),
    (("mailbox", 'idle = "yes"'), 'mailbox.idle: expected true or false, got "yes"'),
    (("mailbox", "idle = 1"), "mailbox.idle: expected true or false, got 1"),
    (("mailbox", 'security = "ssl"'), 'mailbox.security: expected tls, starttls or none, got "ssl"'),
    (("smtp", 'security = "none"'),
     'smtp.security: "none" is only allowed for a loopback host, not "smtp.example.com"'),
    (("mailbox", 'security = "none"'),
     'mailbox.security: "none" is only allowed for a loopback host, not "mail.example.com"'),
    (("mailbox", 'poll_interval = "soon"'),
     'mailbox.poll_interval: expected a duration like "90s", "15m", "4h" or "2d", got "soon"'),
    (("mailbox", "poll_interval = 30"),
     'mailbox.poll_interval: expected a duration like "90s", "15m", "4h" or "2d", got 30'),
    (("mailbox", 'poll_interval = "0s"'), 'mailbox.poll_interval: must be longer than 0s, got "0s"'),
    (("mailbox", 'folder = ""'), 'mailbox.folder: expected a folder name, got ""'),
    (("mailbox", "processed_folder = 5"), "mailbox.processed_folder: expected a string, got 5"),
    (("mailbox", "ca_file = []"), "mailbox.ca_file: expected a string, got a list"),
    (("mailbox", "hots = 1"), 'mailbox.hots: unknown key (did you mean "host"?)'),
    (("mailbox", 'pasword_env = "X"'), 'mailbox.pasword_env: unknown key (did you mean "password_env"?)'),
    (("mailbox", "zzz = 1"), "mailbox.zzz: unknown key"),
    (("mailbox", 'password = "p"'), "mailbox.password: give only one of password and password_env"),
    (("mailbox", "password_file = 3"), "mailbox.password_file: expected a string, got 3"),
    (("mailbx", 'host = "x"'), 'mailbx: unknown table (did you mean "mailbox"?)'),
    (("support", 'lists = "a@b"'), 'support.lists: expected a list of strings, got "a@b"'),
    (("support", 'lists = ["ok", 2]'), "support.lists[1]: expected a non-empty string, got 2"),
    (("support", 'ticket_tag = "[Support]"'), 'support.ticket_tag: must contain {id}, got "[Support]"'),
    (("support", 'ticket_tag = "[{team} #{id}]"'),
     'support.ticket_tag: only {id} may appear in braces, got "[{team} #{id}]"'),
    (("support", 'rules = ""'), "support.rules: required"),
    (("database", 'url = "mysql://x"'),
     'database.url: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB, got "mysql://x"'),
    (("survey", 'scale = "stars"'), 'survey.scale: expected good-okay-bad or 1-5, got "stars"'),
    (("escalation", 'backend = "email"'),
     'escalation.backend: expected opsgenie, pagerduty or webhook, got "email"'),
    (("escalation", 'backend = "pagerduty"'),
     'pagerduty: the [pagerduty] table is required when escalation.backend = "pagerduty"'),
    (("escalation", 'backend = "webhook"'),
     'webhook: the [webhook] table is required when escalation.backend = "webhook"'),
    (("escalation", 'give_up_after = "0s"'), 'escalation.give_up_after: must be longer than 0s, got "0s"'),
    (("health", 'stale_after = "10 minutes"'),
     'health.stale_after: expected a duration like "90s", "15m", "4h" or "2d", got "10 minutes"'),
    (("limits", 'max_attachment_size = "big"'), 'limits.max_attachment_size: expected a size like "25MB", got "big"'),
    (("limits", "max_attachment_size = -1"), "limits.max_attachment_size: expected a size like \"25MB\", got -1"),
    (("limits", "auto_replies_per_sender_hour = -1"),
     "limits.auto_replies_per_sender_hour: expected an integer at least 0, got -1"),
    (("webhook", 'secret_env = "S"'), "webhook.url: required"),
    (("webhook", 'url = "hooks.example.com"'),
     'webhook.url: expected an http:// or https:// URL, got "hooks.example.com"'),
    (("opsgenie", 'api_url = "ftp://x"'), 'opsgenie.api_url: expected an http:// or https:// URL, got "ftp://x"'),
    (("opsgenie", 'api_key_env = ""'), "opsgenie.api_key: required (set api_key_env or api_key_file)"),
    (("opsgenie", 'api_url = "http://api.opsgenie.com"'),
     "opsgenie.api_url: http://api.opsgenie.com is not encrypted: use https:// (http:// only for a loopback host)"),
    (("pagerduty", 'routing_key_env = "R"\nevents_url = "http://10.0.0.5/v2/enqueue"'),
     "pagerduty.events_url: http://10.0.0.5/v2/enqueue is not encrypted: use https:// (http:// only for a loopback host)"),
    (("webhook", 'secret_env = "S"\nurl = "http://hooks.example.com/x"'),
     "webhook.url: http://hooks.example.com/x is not encrypted: use https:// (http:// only for a loopback host)"),
    (("database", 'url = "postgresql://db.example.com/mailroom"\nsslmode = "sometimes"'),
     'database.sslmode: expected disable, allow, prefer, require, verify-ca or verify-full, got "sometimes"'),
    (("limits", 'max_text = "10"'), 'limits.max_text: expected a size of at least 1000 bytes, got "10"'),
])
def test_bad_key_gives_one_line_naming_it(tmp_path, edit, message):
    assert error(tmp_path, with_table(*edit)) == message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_escalation_is_fine_on_loopback(tmp_path, url):
    settings = load(tmp_path, with_table("opsgenie", f'api_url = "{url}"\napi_key = "k"'))
    assert settings.opsgenie is not None and settings.opsgenie.api_url == url


@pytest.mark.parametrize(("database", "sslmode", "ca_file"), [
    ('url = "postgresql://mailroom@db.example.com/mailroom"', "verify-full", None),
    ('url = "postgresql://mailroom@db.example.com/mailroom"\nsslmode = "require"', "require", None),
    ('url = "postgresql://mailroom@db.example.com/mailroom"\nca_file = "ca.pem"', "verify-full", "ca.pem"),
    ('url = "postgresql://mailroom@db.example.com/mailroom?sslmode=verify-ca"', None, None),
    ('url = "postgresql://mailroom@127.0.0.1/mailroom"', None, None),
    ('url = "postgresql://mailroom@localhost/mailroom"', None, None),
    ('url = "postgresql:///mailroom?host=/run/postgresql"', None, None),
    ("", None, None),  # SQLite
])
def test_postgresql_beyond_loopback_checks_the_server_s_certificate(tmp_path, database, sslmode, ca_file):
    settings = load(tmp_path, with_table("database", database))
    assert settings.database.sslmode == sslmode
    assert settings.database.ca_file == (tmp_path / ca_file if ca_file else None)


def test_table_that_is_not_a_table(tmp_path):
    assert error(tmp_path, "survey = 3\n" + MINIMAL) == "survey: expected a table, got 3"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('host = "mail.example.com"\n', "", "mailbox.host: required"),
    ('host = "mail.example.com"', 'host = ""', "mailbox.host: required"),
    ('username = "support"\n', "", "mailbox.username: required"),
    ('password_env = "IMAP_PW"\n', "", "mailbox.password: required (set password_env or password_file)"),
    ('password_env = "IMAP_PW"', 'password_env = ""', "mailbox.password: required (set password_env or password_file)"),
    ('host = "smtp.example.com"\n', "", "smtp.host: required"),
    ('address = "Support@Example.com"\n', "", "support.address: required"),
    ('address = "Support@Example.com"', 'address = "Support <support@example.com>"',
     'support.address: expected an email address like "support@example.com", got "support <support@example.com>"'),
    ('address = "Support@Example.com"', 'address = "support"',
     'support.address: expected an email address like "support@example.com", got "support"'),
])
def test_required_keys(tmp_path, old, new, message):
    assert old in MINIMAL
    assert error(tmp_path, MINIMAL.replace(old, new)) == message


def test_missing_tables_name_their_first_required_key(tmp_path):
    assert error(tmp_path, "") == "mailbox.host: required"
    assert error(tmp_path, MINIMAL.split("[smtp]")[0]) == "smtp.host: required"


def test_typos_are_reported_before_missing_keys(tmp_path):
    text = MINIMAL.replace('host = "mail.example.com"', 'hots = "mail.example.com"')
    assert error(tmp_path, text) == 'mailbox.hots: unknown key (did you mean "host"?)'


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_security_none_is_allowed_for_loopback(tmp_path, host):
    text = MINIMAL.replace('host = "mail.example.com"', f'host = "{host}"')
    assert load(tmp_path, with_table("mailbox", 'security = "none"', text)).mailbox.security == "none"


@pytest.mark.parametrize("host", ["10.0.0.1", "::2", "localhost.example.com", "0.0.0.0"])
def test_security_none_is_refused_elsewhere(tmp_path, host):
    text = MINIMAL.replace('host = "mail.example.com"', f'host = "{host}"')
    message = error(tmp_path, with_table("mailbox", 'security = "none"', text))
    assert message == f'mailbox.security: "none" is only allowed for a loopback host, not "{host}"'


# Secrets


def test_secret_from_environment_is_read_on_reveal(tmp_path):
    env: dict[str, str] = {}
    s = load(tmp_path, MINIMAL, env)
    env["IMAP_PW"] = "hunter2"
    assert s.mailbox.password.reveal() == "hunter2"


def test_secret_from_file_relative_to_config_folder(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "imap").write_text("s3cret\n")
    text = MINIMAL.replace('password_env = "IMAP_PW"', 'password_file = "secrets/imap"')
    assert load(tmp_path, text).mailbox.password.reveal() == "s3cret"


def test_secret_inline(tmp_path):
    text = MINIMAL.replace('password_env = "IMAP_PW"', 'password = " with spaces "')
    assert load(tmp_path, text).mailbox.password.reveal() == " with spaces "


def test_reveal_of_unset_environment_variable_names_the_key(tmp_path):
    s = load(tmp_path, MINIMAL.replace("IMAP_PW", "MAILROOM_IMAP_PASSWORD"))
    with pytest.raises(ConfigError) as info:
        s.mailbox.password.reveal()
    assert str(info.value) == 'mailbox.password_env: environment variable "MAILROOM_IMAP_PASSWORD" is not set'


def test_reveal_of_empty_environment_variable_names_the_key(tmp_path):
    s = load(tmp_path, MINIMAL, {"IMAP_PW": ""})
    with pytest.raises(ConfigError, match=r'^mailbox\.password_env: environment variable "IMAP_PW" is empty$'):
        s.mailbox.password.reveal()


def test_reveal_of_missing_file_names_the_key(tmp_path):
    text = with_table("smtp", 'username = "u"\npassword_file = "/nonexistent/pw"')
    s = load(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        s.smtp.password.reveal()  # type: ignore[union-attr]
    assert str(info.value) == 'smtp.password_file: cannot read "/nonexistent/pw": No such file or directory'


def test_reveal_of_empty_file_names_the_key(tmp_path):
    (tmp_path / "pw").write_text("\n")
    s = load(tmp_path, MINIMAL.replace('password_env = "IMAP_PW"', 'password_file = "pw"'))
    with pytest.raises(ConfigError, match=r"^mailbox\.password_file: .* is empty$"):
        s.mailbox.password.reveal()


def test_repr_and_str_never_show_the_secret(tmp_path):
    (tmp_path / "pw").write_text("file-secret")
    text = with_table("database", 'password = "inline-secret"',
                      MINIMAL.replace('password_env = "IMAP_PW"', 'password_file = "pw"'))
    s = load(tmp_path, text, {"MAILROOM_SECRET": "env-secret"})
    shown = repr(s) + str(s) + repr(s.database.password) + str(s.database.password) + str(s.support.secret)
    for value in ("file-secret", "inline-secret", "env-secret"):
        assert value not in shown
    assert repr(s.database.password) == "Secret(database.password=***)"
    assert str(s.support.secret) == 'Secret(support.secret_env="MAILROOM_SECRET")'


def test_support_secret_defaults_to_environment_and_is_optional(tmp_path):
    s = load(tmp_path, MINIMAL)
    assert isinstance(s.support.secret, Secret)
    assert s.support.secret.reveal_optional() is None
    s = load(tmp_path, MINIMAL, {"MAILROOM_SECRET": "abc"})
    assert s.support.secret is not None and s.support.secret.reveal_optional() == "abc"


def test_support_secret_can_be_turned_off_or_read_from_a_file(tmp_path):
    assert load(tmp_path, with_table("support", 'secret_env = ""')).support.secret is None
    (tmp_path / "key").write_text("from-file\n")
    s = load(tmp_path, with_table("support", 'secret_file = "key"'))
    assert s.support.secret is not None and s.support.secret.reveal_optional() == "from-file"


def test_smtp_password_defaults_to_its_variable_when_a_username_is_set(tmp_path):
    s = load(tmp_path, with_table("smtp", 'username = "u"'), {"MAILROOM_SMTP_PASSWORD": "pw"})
    assert s.smtp.password is not None and s.smtp.password.reveal() == "pw"


def test_backend_secrets_default_to_their_variables(tmp_path):
    text = with_table("opsgenie", "") + '\n[pagerduty]\n\n[webhook]\nurl = "https://h.example.com/x"\n'
    s = load(tmp_path, text, {"OPSGENIE_API_KEY": "og", "PAGERDUTY_ROUTING_KEY": "pd", "MAILROOM_WEBHOOK_SECRET": "wh"})
    assert s.opsgenie is not None and s.opsgenie.api_key.reveal() == "og"
    assert s.opsgenie.heartbeat == ""
    assert s.pagerduty is not None and s.pagerduty.routing_key.reveal() == "pd"
    assert s.pagerduty.events_url == PAGERDUTY_EVENTS_URL
    assert s.webhook is not None and s.webhook.secret.reveal() == "wh"


# require_connection_secrets


def test_connection_secrets_need_the_mailbox_password(tmp_path):
    s = load(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r'^mailbox\.password_env: environment variable "IMAP_PW" is not set$'):
        s.require_connection_secrets()
    load(tmp_path, MINIMAL, {"IMAP_PW": "x"}).require_connection_secrets()


def test_connection_secrets_need_the_smtp_password_only_with_a_username(tmp_path):
    text = with_table("smtp", 'password_env = "SMTP_PW"')
    load(tmp_path, text, {"IMAP_PW": "x"}).require_connection_secrets()
    s = load(tmp_path, with_table("smtp", 'username = "u"', text), {"IMAP_PW": "x"})
    with pytest.raises(ConfigError, match=r"^smtp\.password_env: "):
        s.require_connection_secrets()


def test_connection_secrets_need_the_opsgenie_key_when_it_is_configured(tmp_path):
    text = with_table("opsgenie", 'api_key_env = "OG"')
    with pytest.raises(ConfigError, match=r'^opsgenie\.api_key_env: environment variable "OG" is not set$'):
        load(tmp_path, text, {"IMAP_PW": "x"}).require_connection_secrets()
    load(tmp_path, text, {"IMAP_PW": "x", "OG": "k"}).require_connection_secrets()


@pytest.mark.parametrize(("backend", "table", "key"), [
    ("pagerduty", "[pagerduty]\nrouting_key_env = \"PD\"", "pagerduty.routing_key_env"),
    ("webhook", "[webhook]\nurl = \"https://h.example.com\"\nsecret_env = \"PD\"", "webhook.secret_env"),
])
def test_connection_secrets_need_the_chosen_backends_key(tmp_path, backend, table, key):
    text = with_table("escalation", f'backend = "{backend}"') + "\n" + table + "\n"
    with pytest.raises(ConfigError, match=rf'^{re.escape(key)}: environment variable "PD" is not set$'):
        load(tmp_path, text, {"IMAP_PW": "x"}).require_connection_secrets()
    load(tmp_path, text, {"IMAP_PW": "x", "PD": "k"}).require_connection_secrets()


def test_connection_secrets_ignore_backends_not_chosen(tmp_path):
    text = with_table("opsgenie", 'api_key_env = "OG"', with_table("escalation", 'backend = "pagerduty"'))
    text += '\n[pagerduty]\nrouting_key_env = "PD"\n'
    load(tmp_path, text, {"IMAP_PW": "x", "PD": "k"}).require_connection_secrets()


def test_opsgenie_backend_without_its_table_mails_the_team(tmp_path):
    s = load(tmp_path, MINIMAL, {"IMAP_PW": "x"})
    assert s.escalation.backend == "opsgenie" and s.opsgenie is None
    s.require_connection_secrets()
