import warnings

import pytest
import torch

import wick


@pytest.fixture(autouse=True)
def _quiet():
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)


def lower_and_run(model, inputs, specs=None):
    """Exports with the xnnpack backend, runs in Wick's runtime; returns
    (outputs as a list, partition report)."""
    program = wick.export(model.eval(), inputs, backends=["xnnpack"], compile_specs=specs)
    out = wick.runtime.load(program.buffer).method("forward")(*inputs)
    return (list(out) if isinstance(out, (list, tuple)) else [out]), program.partition_report


@pytest.fixture
def wick_run():
    import shutil

    path = shutil.which("wick-run")
    if path is None:
        pytest.fail("wick-run is not on PATH: install the core package with `pip install .`")
    return path
