"""The plugin's own pthreadpool (runtime/thread_pool.cpp), which XNNPACK's
parallel calls bind to instead of Debian's libpthreadpool.

The C++ stress test checks every parallelize variant item by item (each item
once, right tile sizes) over pools of 1-4 threads, including pools destroyed
before their workers first ran; the model test checks multi-threaded programs
against eager while handles (and so pools) come and go."""

import os
import shutil
import subprocess

import pytest
import torch

import wick
from wick.delegate_sdk import CompileSpec
from wick.models import STANDARD_MODELS

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(HERE, "..", "runtime")


def test_pool_runs_every_item_once_and_shuts_down(tmp_path):
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler to build the stress test")
    exe = tmp_path / "pool_stress"
    subprocess.run([cxx, "-O1", "-std=c++17", f"-I{RUNTIME}", os.path.join(HERE, "pool_stress.cpp"),
                    os.path.join(RUNTIME, "thread_pool.cpp"), "-o", str(exe), "-lpthread"], check=True)
    # A lost or repeated item fails the check; a lost wake-up hangs, hence the timeout.
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


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
