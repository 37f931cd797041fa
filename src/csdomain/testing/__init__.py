"""Test kit for csdomain users: hypothesis strategies and the backend conformance kit.

``from csdomain.testing import BackendConformance`` needs pytest and hypothesis
(``pip install "csdomain[testing]"``). The kit is an installed package, which pytest does
not rewrite on its own: it is registered here, before it is imported, so that a failing
contract test shows the values it compared.
"""

from __future__ import annotations

import pytest


pytest.register_assert_rewrite("csdomain.testing.conformance")

from csdomain.testing.conformance import BackendConformance  # noqa: E402


__all__ = ["BackendConformance"]
