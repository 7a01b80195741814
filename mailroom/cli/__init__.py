"""The command line: argument parsing and printing.

Top layer: may import everything below it.
"""
