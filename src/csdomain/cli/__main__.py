"""``python -m csdomain.cli``: the ``csdomain`` command."""

import sys

from csdomain.cli import main


sys.exit(main())
