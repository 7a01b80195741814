"""One outside system each: IMAP, SMTP, OpsGenie/PagerDuty/webhook escalation.

Imports `config`, `mail` and `mailroom.ports`; never the store or `app`.
"""
