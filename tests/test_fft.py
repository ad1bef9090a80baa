"""The FFT operators (aten._fft_r2c / aten._fft_c2r) and complex tensors:
portable kernels against eager PyTorch, through the Python runtime and wick-run."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch

import wick
import wick.runtime

aten = torch.ops.aten
# complex64 results are checked at float32 tolerances, complex128 at float64.
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}


class Fn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def run(fn, *inputs):
    program = wick.export(Fn(fn).eval(), inputs)
    return wick.runtime.load(program.buffer)(*inputs)


def signal(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def check(got, expected, dtype):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    # Relative to the spectrum's scale: a bin near zero carries the rounding of the big ones.
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    torch.testing.assert_close(got, expected, rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["atol"] * scale)


# Powers of two run radix-2; other lengths below 64 the direct DFT, from 64 on Bluestein.
LENGTHS = [1, 2, 7, 8, 12, 15, 63, 64, 65, 100, 1000, 4095]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", LENGTHS)
def test_rfft_and_irfft_match_eager_for_power_of_two_and_other_lengths(n, dtype):
    x = signal(3, n, dtype=dtype)
    fn = lambda x: (torch.fft.rfft(x), torch.fft.irfft(torch.fft.rfft(x), n=n))  # noqa: E731
    got = run(fn, x)
    for g, e in zip(got, fn(x)):
        check(g, e, dtype)
    assert got[0].dtype == (torch.complex64 if dtype == torch.float32 else torch.complex128)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_all_three_normalizations(norm, dtype):
    x = signal(2, 3, 10, dtype=dtype)
    fn = lambda x: (torch.fft.rfft(x, norm=norm), torch.fft.irfft(torch.fft.rfft(x), n=10, norm=norm),  # noqa: E731
                    torch.fft.rfft2(x, norm=norm), torch.fft.irfft2(torch.fft.rfft2(x), s=(3, 10), norm=norm))
    for g, e in zip(run(fn, x), fn(x)):
        check(g, e, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dims,shape", [((0,), (6, 5)), ((0, 1), (4, 8)), ((-3, -1), (5, 2, 9)),
                                        ((2, 0), (3, 4, 6)), ((0, 1, 2), (3, 5, 8)), ((1,), (2, 7, 3))])
def test_several_dims_match_eager(dims, shape, dtype):
    x = signal(*shape, dtype=dtype)
    last = shape[dims[-1]]
    fn = lambda x: (torch.fft.rfftn(x, dim=dims),  # noqa: E731
                    torch.fft.irfftn(torch.fft.rfftn(x, dim=dims), s=[shape[d] for d in dims], dim=dims))
    got = run(fn, x)
    for g, e in zip(got, fn(x)):
        check(g, e, dtype)
    # the round trip gives the signal back
    torch.testing.assert_close(got[1], x, **TOL[dtype]) if last else None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_private_overloads_directly(dtype):
    """Both-sided r2c, and c2r of an odd last_dim_size."""
    x = signal(4, 9, dtype=dtype)
    h = torch.fft.rfft(signal(4, 9, dtype=dtype, seed=3))
    got = run(lambda x, h: (aten._fft_r2c(x, [1], 0, False), aten._fft_r2c(x, [0, 1], 1, False),
                            aten._fft_c2r(h, [1], 2, 9), aten._fft_c2r(h, [0, 1], 1, 9)), x, h)
    expected = (aten._fft_r2c(x, [1], 0, False), aten._fft_r2c(x, [0, 1], 1, False), aten._fft_c2r(h, [1], 2, 9),
                aten._fft_c2r(h, [0, 1], 1, 9))
    for g, e in zip(got, expected):
        check(g, e, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_spectra_feed_complex_abs_and_data_movement(dtype):
    """The graphs FFT code produces around the transforms: the magnitude
    (complex abs), irfft to another length (a slice or reshape of the
    spectrum), a transposed or reshaped spectrum."""
    x = signal(4, 12, dtype=dtype)
    fn = lambda x: (torch.fft.rfft(x).abs(), torch.fft.irfft(torch.fft.rfft(x), n=9),  # noqa: E731
                    torch.fft.rfft(x).t().contiguous(), torch.fft.rfft(x).reshape(2, 14).flip(1),
                    torch.fft.rfft(x)[1:3, ::2])
    for g, e in zip(run(fn, x), fn(x)):
        check(g, e, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_irfft_to_a_longer_signal_zero_pads_the_spectrum(dtype):
    """irfft with n past the spectrum's length pads it (constant_pad_nd on a
    complex tensor), as torch.fft.irfft(h, n=...) does for interpolation."""
    x = signal(3, 10, dtype=dtype)
    fn = lambda x: (torch.fft.irfft(torch.fft.rfft(x), n=25), torch.fft.irfft(torch.fft.rfft(x), n=32))  # noqa: E731
    for g, e in zip(run(fn, x), fn(x)):
        check(g, e, dtype)


def test_complex_inputs_and_outputs_cross_the_python_boundary():
    h = torch.fft.rfft(signal(2, 16))
    # torch in -> torch complex out; numpy in -> same values
    (y,) = run(lambda h: torch.fft.irfft(h, n=16), h)
    check(y, torch.fft.irfft(h, n=16), torch.float32)
    program = wick.export(Fn(lambda x: torch.fft.rfft(x)).eval(), (signal(2, 16),))
    method = wick.runtime.load(program.buffer).method()
    assert method.input_specs[0][0] == "float32"
    (out,) = method(signal(2, 16).numpy())
    assert out.dtype == torch.complex64
    check(out, torch.fft.rfft(signal(2, 16)), torch.float32)
    from wick.inspect_program import describe, format_text

    assert "complex64[2, 9]" in format_text(describe(program.buffer))


def test_empty_batch_gives_empty_spectrum():
    # Eager PyTorch (MKL) refuses an empty batch; Wick returns the empty result.
    x = torch.zeros(0, 8)
    program = wick.export(Fn(lambda x: torch.fft.rfft(x)).eval(), (signal(2, 8),),
                          dynamic_shapes={"xs": ({0: torch.export.Dim("b", max=4)},)})
    (y,) = wick.runtime.load(program.buffer)(x)
    assert y.shape == (0, 5) and y.dtype == torch.complex64
    h = torch.zeros(0, 5, dtype=torch.complex64)
    program = wick.export(Fn(lambda h: torch.fft.irfft(h, n=8)).eval(), (torch.fft.rfft(signal(2, 8)),),
                          dynamic_shapes={"xs": ({0: torch.export.Dim("b", max=4)},)})
    (y,) = wick.runtime.load(program.buffer)(h)
    assert y.shape == (0, 8) and y.dtype == torch.float32


def test_complex_results_through_wick_run(tmp_path, wick_run):
    x = signal(3, 12, dtype=torch.float64)
    fn = lambda x: (torch.fft.rfft(x, norm="ortho"), torch.fft.irfft(torch.fft.rfft(x), n=12))  # noqa: E731
    program = wick.export(Fn(fn).eval(), (x,))
    program.save(tmp_path / "fft.wick")
    np.save(tmp_path / "x.npy", x.numpy())
    res = subprocess.run([wick_run, str(tmp_path / "fft.wick"), "--input", str(tmp_path / "x.npy"), "--output-dir",
                          str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "output 0: complex128 [3, 7]" in res.stdout
    spectrum = np.load(tmp_path / "output_0.npy")
    assert spectrum.dtype == np.complex128
    for i, e in enumerate(fn(x)):
        check(torch.from_numpy(np.load(tmp_path / f"output_{i}.npy")), e, torch.float64)
    # a complex input file is read too
    h = torch.fft.rfft(x).to(torch.complex64)
    program = wick.export(Fn(lambda h: torch.fft.irfft(h, n=12)).eval(), (h,))
    program.save(tmp_path / "ifft.wick")
    np.save(tmp_path / "h.npy", h.numpy())
    res = subprocess.run([wick_run, str(tmp_path / "ifft.wick"), "--input", str(tmp_path / "h.npy"), "--output-dir",
                          str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    check(torch.from_numpy(np.load(tmp_path / "output_0.npy")), torch.fft.irfft(h, n=12), torch.float32)


def _program_with_args(fn, inputs, target, new_args):
    """A program whose `target` call has its arguments replaced after export
    (what a corrupt or hand-written file could hold)."""
    ep = torch.export.export(Fn(fn).eval(), inputs)
    edge = wick.to_edge(ep)
    for node in edge.graph_module().graph.nodes:
        if node.target == target:
            node.args = (node.args[0], *new_args)
    return wick.to_program(edge)


BAD_ARGS = [
    (aten._fft_r2c.default, ([5], 0, True), "dim 5 is out of range for a tensor of rank 2"),
    (aten._fft_r2c.default, ([1, -1], 0, True), "dim 1 is listed twice"),
    (aten._fft_r2c.default, ([1], 7, True), "normalization must be 0 (none), 1 (1/sqrt(n)) or 2 (1/n), got 7"),
    (aten._fft_c2r.default, ([1], 2, 20), "needs 11 (last_dim_size / 2 + 1)"),
]


@pytest.mark.parametrize("target,args,message", BAD_ARGS, ids=["dim", "repeated-dim", "normalization", "size"])
def test_bad_arguments_are_clear_errors(target, args, message, tmp_path, wick_run):
    x = signal(2, 8)
    fn = (lambda x: torch.fft.rfft(x)) if target == aten._fft_r2c.default else \
        (lambda x: torch.fft.irfft(torch.fft.rfft(x), n=8))
    program = _program_with_args(fn, (x,), target, args)
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program.buffer)(x)
    assert message in info.value.message and info.value.code == "InvalidArgument"
    assert ("_fft_r2c" if target == aten._fft_r2c.default else "_fft_c2r") in info.value.message
    program.save(tmp_path / "bad.wick")
    np.save(tmp_path / "x.npy", x.numpy())
    res = subprocess.run([wick_run, str(tmp_path / "bad.wick"), "--input", str(tmp_path / "x.npy")],
                         capture_output=True, text=True)
    assert res.returncode == 1 and message in res.stderr, res.stderr


def test_complex_tensors_reach_only_kernels_written_for_them():
    """Every other kernel is refused at load, naming the op and dtype, instead
    of reading complex numbers as reals."""
    x = signal(2, 8)
    with pytest.raises(wick.WickError) as info:
        run(lambda x: torch.fft.rfft(x) * 2, x)
    assert info.value.code == "KernelNotFound"
    assert "aten::mul" in info.value.message and "complex64" in info.value.message


def test_an_unknown_dtype_code_is_refused_at_load(monkeypatch):
    """What a runtime that predates a dtype does with it (as one older than
    complex64/complex128 does with these): an InvalidProgram error, never a
    misread tensor."""
    import wick.program_builder

    monkeypatch.setitem(wick.program_builder.DTYPE_CODES, torch.complex64, 12)
    program = wick.export(Fn(lambda x: torch.fft.rfft(x)).eval(), (signal(2, 8),))
    with pytest.raises(wick.WickError) as info:
        wick.runtime.load(program.buffer)
    assert info.value.code == "InvalidProgram" and "unknown tensor dtype" in info.value.message
