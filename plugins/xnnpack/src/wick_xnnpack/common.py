"""What the partitioner, preprocess and the int8 lowering share: the
runtime-tensor record, layouts (NHWC for spatial 4-D tensors, PyTorch's order
otherwise) and shape rules. A leaf: it imports no other module of the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_RANK = 6  # XNN_MAX_TENSOR_DIMS


class LoweringError(ValueError):
    pass


@dataclass
class T:
    """A runtime tensor: XNNPACK value `id`, logical shape. `flat_nhwc` is set
    on a flatten of an NHWC tensor (its elements are in H, W, C order): only
    a linear layer may consume it, with its weight columns permuted."""

    id: int
    shape: tuple[int, ...]
    flat_nhwc: tuple[int, int, int] | None = None
    q: tuple[float, int] | None = None  # (scale, zero_point) of a qint8 value; None: float32
    contig: bool = False  # a 4-D value kept in PyTorch's (NCHW) order rather than NHWC

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def nhwc(self) -> bool:
        return self.rank == 4 and not self.contig


def pad_params(node, rank: int) -> tuple[list[int], float]:
    """constant_pad_nd's (pad, value) as XNNPACK's static_constant_pad wants
    them: all pre-paddings then all post-paddings, per physical (NHWC for
    4-D) dimension."""
    pads = list(node.args[1])
    value = float(node.args[2]) if len(node.args) > 2 and node.args[2] is not None else 0.0
    pre, post = [0] * rank, [0] * rank
    for i in range(len(pads) // 2):  # pads run from the last dimension backwards
        d = rank - 1 - i
        pre[d], post[d] = pads[2 * i], pads[2 * i + 1]
    if rank == 4:
        pre = [pre[0], pre[2], pre[3], pre[1]]
        post = [post[0], post[2], post[3], post[1]]
    return pre + post, value


def phys(shape) -> tuple[int, ...]:
    """Physical (XNNPACK) dims of a logical shape: NHWC for 4-D."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 4:
        return (shape[0], shape[2], shape[3], shape[1])
    return shape or (1,)


def dims_of(shape, contig: bool) -> tuple[int, ...]:
    """Physical dims of a logical shape in the layout `contig` selects."""
    shape = tuple(int(s) for s in shape)
    return (shape or (1,)) if contig else phys(shape)


# Where each logical (NCHW) dim of a 4-D tensor sits in NHWC, and back.
NCHW_TO_NHWC = [0, 2, 3, 1]   # transpose permutation: NCHW value -> NHWC value
NHWC_TO_NCHW = [0, 3, 1, 2]   # NHWC value -> NCHW value
LOGICAL_POS_IN_NHWC = [0, 3, 1, 2]


def to_phys(t: torch.Tensor) -> np.ndarray:
    """A constant in physical layout (float32)."""
    t = t.detach().to(torch.float32)
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    return t.contiguous().numpy().reshape(phys(t.shape) if t.dim() != 4 else tuple(t.shape))


def order_preserving(shape) -> bool:
    """True when the NHWC layout of this shape holds its elements in the same
    order as PyTorch's contiguous layout (not 4-D, one channel, or 1x1)."""
    return len(shape) != 4 or shape[1] == 1 or shape[2] * shape[3] == 1


def physical_dim(rank: int, dim: int) -> int:
    """Where logical dim `dim` sits in the physical layout."""
    dim %= max(rank, 1)
    return {0: 0, 1: 3, 2: 1, 3: 2}[dim] if rank == 4 else dim


def shape_refusal(v: torch.Tensor) -> str | None:
    """What XNNPACK cannot take about a tensor's shape: dynamic, rank > 4, empty."""
    if any(not isinstance(s, int) for s in v.shape):
        return "has a dynamic shape; XNNPACK runtimes here are built for static shapes"
    if v.dim() > MAX_RANK:
        return f"a {v.dim()}-D tensor; XNNPACK handles rank <= {MAX_RANK}"
    if v.numel() == 0:
        return "an empty tensor (XNNPACK asserts on zero-size operands)"
    return None
