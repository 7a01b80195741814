"""The error kinds callers catch by meaning."""


class MailroomError(Exception):
    """Base of every error mailroom raises on purpose."""


class ConfigError(MailroomError):
    """mailroom.toml is missing, unreadable or has a bad key; the message names the key."""


class RulesError(MailroomError):
    """rules.yaml failed validation; `errors` holds every `file:LINE:COL: message` line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class TransientError(MailroomError):
    """A server is away for now; the caller retries with backoff."""



class UnparseableMessage(MailroomError):
    """A message that cannot be parsed or stored; it goes to quarantine with this reason."""


class SignInError(TransientError):
    """Signing in failed (a token endpoint refused or is away, a server refused the credentials); retried."""


def first_line(exc: BaseException) -> str:
    """The first line of an error's text, or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
