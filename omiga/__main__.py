"""``python -m omiga``.

Idle OpenMP threads that spin make torch many times slower when the cores are shared (see studies/__main__.py),
so unless the user chose a policy they sleep. This must happen before torch is imported.
"""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from omiga.allocator import keep_freed_memory
from omiga.cli import main

keep_freed_memory()

sys.exit(main())
