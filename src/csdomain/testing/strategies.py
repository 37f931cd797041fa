"""Hypothesis strategies for csdomain models (filled in below)."""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    """Register csdomain's strategies with hypothesis (entry point)."""
