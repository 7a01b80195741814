"""The wording and the mails mailroom writes; Jinja2 templates are rendered here.

Pure: imports `mail`, `rules`, `sla` and `config`, never the store or an adapter.
"""
