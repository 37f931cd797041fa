"""Test kit for csdomain users: hypothesis strategies and the backend conformance kit.

``from csdomain.testing import BackendConformance`` needs pytest and hypothesis
(``pip install "csdomain[testing]"``).
"""

from __future__ import annotations

from csdomain.testing.conformance import BackendConformance


__all__ = ["BackendConformance"]
