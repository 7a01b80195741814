"""The peewee models, schema versions and migrations, and the queries the use-cases need.

Imports the pure packages below it; nothing of `app`, `adapters` or above.
"""
