"""Signing in to IMAP and SMTP: a password, or OAuth2 tokens from Microsoft, Google or any RFC 6749 server."""
