"""mailroom.toml: find it, check every key, hand out frozen settings; secrets and units.

Imports only `mailroom.errors`.
"""
