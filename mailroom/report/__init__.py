"""SLA achievement and CSAT figures, then their text, JSON and HTML views.

Imports `store` and the pure packages.
"""
