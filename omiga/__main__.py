import sys

from omiga.cli import main

sys.exit(main())
