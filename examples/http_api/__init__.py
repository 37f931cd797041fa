"""A small HTTP API over the service desk (Starlette)."""
