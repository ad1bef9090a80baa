"""`wick new-backend NAME`: writes a complete backend plugin package from the
template shipped in wick.delegate_sdk (pyproject with scikit-build-core, entry
point, partitioner, preprocess, a pure-C runtime half, tests, README)."""

from __future__ import annotations

import os
import re

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "delegate_sdk", "template")


def generate(name: str, out_dir: str) -> list[str]:
    """Writes the package into ``out_dir`` (which must not exist); returns the
    files written."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        raise ValueError(f"backend name '{name}' must be lower-case letters, digits and underscores, "
                         f"starting with a letter")
    if os.path.exists(out_dir):
        raise FileExistsError(f"'{out_dir}' already exists; choose another directory (nothing was written)")
    replacements = {"__NAME__": name, "__DIST__": name.replace("_", "-")}
    written = []
    for root, dirs, files in os.walk(TEMPLATE_DIR):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for fname in files:
            src = os.path.join(root, fname)
            rel = os.path.relpath(src, TEMPLATE_DIR)
            for token, value in replacements.items():
                rel = rel.replace(token, value)
            dst = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(src, encoding="utf-8") as f:
                text = f.read()
            for token, value in replacements.items():
                text = text.replace(token, value)
            with open(dst, "w", encoding="utf-8") as f:
                f.write(text)
            written.append(dst)
    return sorted(written)
