"""Examples of applications built on csdomain (not part of the package)."""
