"""Dovecot's oauth2 passdb for the test server: tokens checked by POSTing them to an introspection URL."""

from __future__ import annotations

from pathlib import Path


def oauth2_passdb_config(folder: Path, introspection_url: str | None) -> tuple[str, str]:
    """(auth_mechanisms, the passdb block) for dovecot.conf; with a URL, XOAUTH2 and OAUTHBEARER too."""
    if not introspection_url:
        return "plain login", ""
    (folder / "oauth2.conf").write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
    )
    (folder / "oauth2.conf").chmod(0o644)  # read by Dovecot's auth process, whatever the umask
    passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {folder}/oauth2.conf\n}}\n"
    return "plain login xoauth2 oauthbearer", passdb
