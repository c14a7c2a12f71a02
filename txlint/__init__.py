"""txlint: find database transaction and session leaks before they reach production."""

__version__ = "0.1.0"
