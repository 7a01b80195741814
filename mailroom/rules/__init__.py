"""rules.yaml: the loader with line/column marks, conditions, the engine and inline tests.

Pure: imports `mail`, `sla` and `config` below it, never a database, socket or HTTP library.
"""
