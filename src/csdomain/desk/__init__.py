"""Use cases of the service desk, one module per area (composed in :mod:`csdomain.service`)."""
