import sys

from vedops.cli import main

sys.exit(main())
