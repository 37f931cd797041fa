"""Export and import of a whole store: moved to :mod:`csdomain.store.transfer` (kept
importable)."""

from __future__ import annotations

from csdomain.store.transfer import (
    FORMAT,
    FORMAT_VERSION,
    TransferSummary,
    TransferTransaction,
    export_lines,
    export_store,
    import_store,
)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TransferSummary",
    "TransferTransaction",
    "export_lines",
    "export_store",
    "import_store",
]
