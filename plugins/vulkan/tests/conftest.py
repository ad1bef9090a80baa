"""Shared fixtures: the tests need the plugin installed and a Vulkan device
(lavapipe counts); without one they skip with the backend's own reason."""

from __future__ import annotations

import pytest

import wick

# float32 tolerance, the same for every test here: lavapipe runs the real
# shaders, whose sums run in a different order than PyTorch's (and exp/erf/
# rsqrt come from GLSL built-ins), so results differ by float32 rounding.
RTOL, ATOL = 1e-3, 1e-4


def vulkan_status() -> tuple[bool, str]:
    from wick import plugins, runtime

    for p in plugins.discover():
        if p.name == "vulkan":
            if p.broken:
                return False, p.error
            why = plugins.register_runtime(p)
            native = next((b for b in runtime.registered_backends() if b["name"] == "vulkan"), None)
            if why or not native or not native["available"]:
                return False, why or (native["reason"] if native else "not registered")
            return True, native["info"]
    return False, "wick-vulkan is not installed (plugins/vulkan/setup.sh)"


@pytest.fixture(scope="session")
def vulkan():
    ok, why = vulkan_status()
    if not ok:
        pytest.skip(f"no usable Vulkan here: {why}")
    return why


def run_both(module, inputs, backends=("vulkan",)):
    """Exports `module`, runs it through Wick, returns (program, outputs, eager outputs)."""
    import torch

    module = module.eval()
    program = wick.export(module, inputs, backends=list(backends))
    got = wick.runtime.load(program.buffer).method("forward")(*inputs)
    with torch.no_grad():
        expected = module(*inputs)
    if not isinstance(expected, (tuple, list)):
        expected = (expected,)
    got = [torch.as_tensor(g) for g in (got if isinstance(got, (tuple, list)) else (got,))]
    return program, got, list(expected)
