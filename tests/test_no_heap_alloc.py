"""A C++ program built against the installed SDK (find_package(wick)) proves
that Method::execute makes no heap allocation."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import wick

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def no_heap_alloc(tmp_path_factory):
    if shutil.which("cmake") is None:
        pytest.fail("cmake is required to build the C++ test; `pip install cmake`")
    build = tmp_path_factory.mktemp("no_heap_alloc")
    configure = subprocess.run(["cmake", "-S", os.path.join(HERE, "cpp", "no_heap_alloc"), "-B", str(build),
                                f"-Dwick_DIR={wick.cmake_dir()}", "-DCMAKE_BUILD_TYPE=Release"],
                               capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    compile_ = subprocess.run(["cmake", "--build", str(build), "-j2"], capture_output=True, text=True)
    assert compile_.returncode == 0, compile_.stdout + compile_.stderr
    return str(build / "no_heap_alloc")


@pytest.mark.parametrize("name", ["small_cnn", "tiny_llama", "mobilenet_v2"])
def test_execute_makes_no_heap_allocation(no_heap_alloc, exported, name):
    _, _, _, path = exported(name)
    res = subprocess.run([no_heap_alloc, path, "2"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("0 heap allocations")


def test_counter_sees_allocations_made_while_counting(no_heap_alloc):
    res = subprocess.run([no_heap_alloc, "--self-check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_fft_execute_makes_no_heap_allocation(no_heap_alloc, tmp_path):
    """The FFT kernels work in their out tensors and planned scratch, for
    power-of-two and other lengths, one dim and several."""
    import torch

    class Spectra(torch.nn.Module):
        def forward(self, x):
            return torch.fft.irfft2(torch.fft.rfft2(x), s=(6, 10)), torch.fft.rfft(x, dim=0).abs(), \
                torch.fft.irfft(torch.fft.rfft(x), n=8)

    path = tmp_path / "fft.wick"
    wick.export(Spectra().eval(), (torch.randn(6, 10),)).save(path)
    res = subprocess.run([no_heap_alloc, str(path), "2"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("0 heap allocations")
