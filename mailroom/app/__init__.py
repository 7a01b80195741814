"""The use-cases, each one transaction: a customer message, an agent's reply, ticket changes,
clocks, the outbox, surveys, quarantine, import.

Imports `store` and the pure packages; never an adapter: senders, pagers and clocks are handed in.
"""
