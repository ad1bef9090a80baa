"""Threads: upstream pthreadpool (built into the plugin), one pool per
thread count shared by the handles of a process. Multi-threaded programs
match eager while handles (and so pools) come and go."""

import pytest
import torch

import wick
from wick.delegate_sdk import CompileSpec
from wick.models import STANDARD_MODELS


@pytest.mark.parametrize("threads", [2, 3])
def test_threaded_programs_match_eager_while_pools_come_and_go(threads):
    model, inputs = STANDARD_MODELS["small_cnn"]()
    with torch.no_grad():
        want = model(*inputs)
    program = wick.export(model, inputs, backends=["xnnpack"],
                          compile_specs={"xnnpack": [CompileSpec.of("threads", threads)]})
    for _ in range(10):  # each load creates the pool, each release destroys it
        method = wick.runtime.load(program.buffer).method("forward")
        for _ in range(3):
            out = method(*inputs)
            got = torch.as_tensor(out[0] if isinstance(out, (list, tuple)) else out)
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        del method
