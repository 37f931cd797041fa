"""Embedded SQLite storage backend for csdomain (``sqlite:///path.db``)."""
