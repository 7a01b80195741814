"""The IDLE and schedule loops, signals, health and locks: wires `app` to the adapters.

The only layer besides `cli` that imports both `app` and `adapters`.
"""
