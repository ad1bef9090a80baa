"""Makes the helpers module beside this file importable however pytest is
started (from the repository root or from this folder)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
