"""Business-hours calendars, SLA policies and due-time arithmetic, pure.

Imports only `config` (units) below it; time is always passed in.
"""
