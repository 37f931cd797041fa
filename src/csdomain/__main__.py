import sys

from csdomain.cli import main


sys.exit(main())
