#!/usr/bin/env bash
# Quick start 1: set up, then export the five standard models, run them through
# Wick's runtime (Python and wick-run), and compare with eager PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
wick demo --out out/demo
