import sys

from aiops.cli import main

sys.exit(main())
