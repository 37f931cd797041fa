"""Former home of the demo's bulk history, now :mod:`csdomain.demo.history`.

This name is that module itself (not a copy of its names), so that code which patches its
settings, such as the batch size, still changes what the history does.
"""

from __future__ import annotations

import sys

from csdomain.demo import history


sys.modules[__name__] = history
