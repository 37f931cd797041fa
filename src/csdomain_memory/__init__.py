"""In-memory storage backend for csdomain (``memory://``)."""
