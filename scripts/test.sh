#!/usr/bin/env bash
# Quick start 2: set up, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -n 2 tests "$@"
