"""``python -m studies``: the process settings of :mod:`omiga.process` come before torch is imported."""

import sys

from omiga.process import prepare_process

prepare_process()

from studies.cli import main  # after the process settings

sys.exit(main())
