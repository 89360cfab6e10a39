"""``python -m studies``.

OpenMP threads that spin while waiting make torch up to 25x slower when the cores are shared with anything
else (measured on a busy 2-core machine: 887 ms/step spinning, 33 ms/step passive), so unless the user chose a
policy, idle threads sleep. This must happen before torch is imported.
"""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from omiga.allocator import keep_freed_memory
from studies.cli import main

keep_freed_memory()

sys.exit(main())
