"""mailroom: a support mailbox processor."""

__version__ = "0.1.0"
