"""Tensor.item() (aten._local_scalar_dense) and resize_: values read from
tensor data at run time flow into sizes and Scalar arguments, and resize_
changes a planned tensor's shape in place, never past its planned bytes.

torch.export functionalizes resize_ into aten.resize; wick.to_edge turns that
back into resize_ where nothing else reads the resized tensor
(x.new_empty(0).resize_(n)). torch.export refuses resize_ to a size read from
data (it guards on the old size), so those programs are exported graphs with
a slice node retargeted to resize_ before the program builder runs."""

from __future__ import annotations

import subprocess
import warnings

import numpy as np
import pytest
import torch

import wick
from wick.program_builder import to_program

warnings.filterwarnings("ignore")
aten = torch.ops.aten


def _run(program, *inputs):
    return wick.runtime.load(program.buffer).method("forward")(*inputs)


def _wick_run(wick_run, program, inputs, tmp_path):
    """Runs `program` with `wick-run`; returns the process and the outputs it wrote."""
    path = tmp_path / "p.wick"
    program.save(str(path))
    args = [wick_run, str(path), "--iterations", "1", "--warmup", "0", "--output-dir", str(tmp_path)]
    for i, x in enumerate(inputs):
        np.save(tmp_path / f"in{i}.npy", x.numpy())
        args += ["--input", str(tmp_path / f"in{i}.npy")]
    res = subprocess.run(args, capture_output=True, text=True)
    outs = []
    if res.returncode == 0:
        i = 0
        while (tmp_path / f"output_{i}.npy").exists():
            outs.append(torch.from_numpy(np.load(tmp_path / f"output_{i}.npy")))
            i += 1
    return res, outs


# ---- Tensor.item() ------------------------------------------------------------


class SliceByCount(torch.nn.Module):
    def forward(self, x, n):
        k = n.sum().item()
        torch._check(k >= 0)
        torch._check(k <= 8)
        return x[:k]


class ZerosOfCount(torch.nn.Module):
    def forward(self, x, n):
        k = n.sum().item()
        torch._check(k >= 0)
        torch._check(k <= 8)
        return torch.zeros(k) + x.sum()


class ScaleByMax(torch.nn.Module):
    def forward(self, x):
        s = x.max().item()
        return x * s + s


class Item(torch.nn.Module):
    def forward(self, x):
        return x.item()


X = torch.arange(8, dtype=torch.float32) - 2.5
COUNTS = [torch.tensor([1, 2]), torch.tensor([0, 0]), torch.tensor([5, 3]), torch.tensor([4, 0])]


@pytest.mark.parametrize("model", [SliceByCount(), ZerosOfCount()], ids=["slice", "zeros"])
def test_item_sizes_a_tensor_at_run_time(model, wick_run, tmp_path):
    program = wick.export(model, (X, COUNTS[0]))
    method = wick.runtime.load(program.buffer).method("forward")
    for n in COUNTS:
        (got,) = method(X, n)
        expected = model(X, n)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected)
    res, outs = _wick_run(wick_run, program, (X, COUNTS[2]), tmp_path)
    assert res.returncode == 0, res.stderr
    torch.testing.assert_close(outs[0], model(X, COUNTS[2]))


def test_item_as_a_scalar_argument_is_read_at_run_time(wick_run, tmp_path):
    model = ScaleByMax()
    program = wick.export(model, (X,))
    ops = program.methods["forward"].ops
    assert ops["wick::_local_scalar_dense"] == 1
    assert ops["aten::mul.Scalar_out"] == 1 and ops["aten::add.Scalar_out"] == 1
    for x in (X, -X, X * 0.25):
        torch.testing.assert_close(_run(program, x)[0], model(x))
    res, outs = _wick_run(wick_run, program, (-X,), tmp_path)
    assert res.returncode == 0, res.stderr
    torch.testing.assert_close(outs[0], model(-X))


@pytest.mark.parametrize("dtype", [torch.int64, torch.float32, torch.bool])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_item_of_one_element(dtype, shape):
    x = torch.tensor(7.25 if dtype.is_floating_point else (True if dtype == torch.bool else -7), dtype=dtype)
    x = x.reshape(shape)
    program = wick.export(Item(), (x,))
    (got,) = _run(program, x)
    assert type(got) is type(x.item()) and got == x.item()
    other = torch.zeros(shape, dtype=dtype)
    assert _run(program, other) == [other.item()]


def test_item_of_several_elements_is_a_clear_error():
    # torch.export checks numel == 1 itself; a program that breaks the rule
    # anyway (here: item's input swapped for a 4-element tensor) fails cleanly.
    class SumItem(torch.nn.Module):
        def forward(self, x):
            return x.sum().item()

    edge = wick.to_edge(torch.export.export(SumItem(), (torch.ones(4),)))
    gm = edge.exported_program.graph_module
    item = next(n for n in gm.graph.nodes if n.target is aten._local_scalar_dense.default)
    item.args = (next(n for n in gm.graph.nodes if n.op == "placeholder"),)
    program = to_program(edge)
    with pytest.raises(wick.WickError) as info:
        _run(program, torch.ones(4))
    assert "wick::_local_scalar_dense" in info.value.message
    assert "a Tensor with 4 elements" in info.value.message


def test_item_size_without_a_bound_names_torch_check():
    class Unbounded(torch.nn.Module):
        def forward(self, n):
            return torch.zeros(n.sum().item())

    with pytest.raises(wick.ExportError, match=r"torch\._check\(k <= N\)"):
        wick.export(Unbounded(), (torch.tensor([1, 2]),))


# ---- resize_ -----------------------------------------------------------------


class Doubled(torch.nn.Module):
    """y = (2x)[:m], then y[:k], where the test makes the second slice y.resize_(k)."""

    def forward(self, x, n):
        m, k = n[0].item(), n[1].item()
        torch._check(0 <= m)
        torch._check(m <= 8)
        torch._check(0 <= k)
        torch._check(k <= 8)
        y = (x * 2)[:m]
        return y[:k]


def _to_resize_(node, sizes, **kwargs):
    """Makes `node` resize_(its first argument, sizes); it keeps its result
    metadata, from which the builder takes the result's bound."""
    node.target, node.args, node.kwargs = aten.resize_.default, (node.args[0], sizes), kwargs
    node.graph.owning_module.recompile()


def _resize_program(**kwargs):
    """Doubled with its second slice_copy(y, 0, None, k) made resize_(y, [k]):
    bound 8 elements, y's planned capacity."""
    edge = wick.to_edge(torch.export.export(Doubled(), (X, torch.tensor([8, 3]))))
    slices = [n for n in edge.exported_program.graph.nodes if n.target is aten.slice_copy.Tensor]
    assert len(slices) == 2
    _to_resize_(slices[1], [slices[1].args[3]], **kwargs)
    return to_program(edge)


def _eager_resize(x, m, k):
    return (x * 2)[:m].clone().resize_(k)


@pytest.mark.parametrize("m,k", [(8, 3), (8, 8), (5, 0), (6, 6)])
def test_resize_shrinks_keeping_the_prefix(m, k):
    got = _run(_resize_program(), X, torch.tensor([m, k]))[0]
    torch.testing.assert_close(got, _eager_resize(X, m, k))


@pytest.mark.parametrize("m,k", [(3, 6), (0, 8), (2, 5)])
def test_resize_grows_within_the_planned_capacity(m, k):
    got = _run(_resize_program(), X, torch.tensor([m, k]))[0]
    assert got.shape == (k,)
    # The old elements stay; the new ones are unspecified, as in PyTorch.
    torch.testing.assert_close(got[:m], (X * 2)[:m])


def test_resize_shrink_then_grow_gives_the_old_elements_back():
    class ShrinkGrow(torch.nn.Module):
        def forward(self, x):
            return (x * 2).resize_(3).resize_(6)

    # Within the old storage torch.export makes as_strided views of these
    # resizes (which Wick copies); turn them back into the resize_ calls.
    edge = wick.to_edge(torch.export.export(ShrinkGrow(), (X,)))
    views = [n for n in edge.exported_program.graph.nodes if n.target is aten.as_strided_copy.default]
    for node in views:
        _to_resize_(node, node.args[1])
    program = to_program(edge)
    assert program.methods["forward"].ops["aten::resize_"] == 2
    expected = (X * 2).resize_(3).resize_(6)
    torch.testing.assert_close(_run(program, X)[0], expected)


def test_resize_past_the_planned_capacity_is_refused(wick_run, tmp_path):
    program = _resize_program()
    with pytest.raises(wick.WickError) as info:
        _run(program, X, torch.tensor([8, 10]))
    assert info.value.code == "ShapeMismatch"
    message = info.value.message
    assert "aten::resize_" in message and "[10] (10 elements)" in message and "only 8 elements" in message
    res, _ = _wick_run(wick_run, program, (X, torch.tensor([8, 10])), tmp_path)
    assert res.returncode == 1
    assert "aten::resize_" in res.stderr and "only 8 elements" in res.stderr


class GrowEmpty(torch.nn.Module):
    def forward(self, x):
        return x.new_empty(0).resize_(2, 3).fill_(1.5) + x[:6].view(2, 3)


def test_resize_grows_an_empty_tensor_planned_for_the_result(wick_run, tmp_path):
    program = wick.export(GrowEmpty(), (X,))
    expected = GrowEmpty()(X)
    torch.testing.assert_close(_run(program, X)[0], expected)
    res, outs = _wick_run(wick_run, program, (X,), tmp_path)
    assert res.returncode == 0, res.stderr
    torch.testing.assert_close(outs[0], expected)


def test_resize_of_a_method_input_is_an_export_error():
    # The caller's buffer may be smaller than the input's planned bound.
    edge = wick.to_edge(torch.export.export(SliceByCount(), (X, COUNTS[0])))
    node = next(n for n in edge.exported_program.graph.nodes if n.target is aten.slice_copy.Tensor)
    _to_resize_(node, [node.args[3]])
    with pytest.raises(wick.ExportError, match="resize_.*method input or constant"):
        to_program(edge)


def test_resize_to_channels_last_3d_is_an_export_error():
    with pytest.raises(wick.ExportError, match="channels_last_3d"):
        _resize_program(memory_format=torch.channels_last_3d)
