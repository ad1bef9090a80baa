"""Shared fixtures: the standard models exported once per test session."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

import wick
from wick.models import STANDARD_MODELS


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """name -> (model, inputs, ProgramFile, path), exported lazily and cached."""
    cache: dict = {}
    root = tmp_path_factory.mktemp("programs")

    def get(name: str):
        if name not in cache:
            model, inputs = STANDARD_MODELS[name]()
            program = wick.export(model, inputs)
            path = os.path.join(root, f"{name}.wick")
            program.save(path)
            cache[name] = (model, inputs, program, path)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def wick_run():
    path = shutil.which("wick-run")
    if path is None:
        pytest.fail("wick-run is not on PATH: install the package with `pip install .`")
    return path


def eager(model: torch.nn.Module, inputs: tuple) -> torch.Tensor:
    with torch.no_grad():
        return model(*inputs)
