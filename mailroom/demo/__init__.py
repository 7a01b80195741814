"""`python -m mailroom.demo`: the sandbox servers and the story told on them.

Top layer, beside `cli`: starts real processes and servers on loopback.
"""
