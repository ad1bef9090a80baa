"""Single-op timings: Wick portable kernel vs PyTorch eager (1 thread), CPU time.

A diagnostic for what run.py finds: each case is a one-op module at a shape
taken from the standard models, exported with wick.export and timed through
the Python runtime, interleaved with eager, medians of the calling thread's
CPU time. Ratio = Wick / eager (eager uses oneDNN / vectorised ATen kernels,
so it is a fair upper bar for a portable kernel, not a peer).

    python bench/op_bench.py [--ops name,name] [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings


def cases():
    import torch
    import torch.nn.functional as F
    nn = torch.nn
    torch.manual_seed(0)

    class Fn(nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return self.f(x)

    def bn(c):
        m = nn.BatchNorm2d(c).eval()
        m.running_mean.uniform_(-1, 1)
        m.running_var.uniform_(0.5, 2)
        return m

    x96 = torch.randn(1, 96, 112, 112)
    x64 = torch.randn(1, 64, 56, 56)
    x144 = torch.randn(1, 144, 56, 56)
    return {
        # mobilenet_v2: ReLU6 after most convs (35 of them)
        "hardtanh 1x96x112x112": (Fn(lambda x: F.hardtanh(x, 0.0, 6.0)), (x96,)),
        "relu 1x96x112x112": (nn.ReLU(), (x96,)),
        "batch_norm 1x96x112x112": (bn(96), (x96,)),
        # mobilenet_v2 depthwise 3x3 (groups = channels), stride 2 and 1
        "conv dw3x3/2 96ch 112x112": (nn.Conv2d(96, 96, 3, 2, 1, groups=96, bias=False).eval(), (x96,)),
        "conv dw3x3/1 144ch 56x56": (nn.Conv2d(144, 144, 3, 1, 1, groups=144, bias=False).eval(), (x144,)),
        # mobilenet_v2 pointwise
        "conv 1x1 144->24 56x56": (nn.Conv2d(144, 24, 1, bias=False).eval(), (x144,)),
        # resnet18 stage-1 conv and the stem's max pool
        "conv 3x3 64->64 56x56": (nn.Conv2d(64, 64, 3, 1, 1, bias=False).eval(), (x64,)),
        "max_pool 3x3/2 1x64x112x112": (nn.MaxPool2d(3, 2, 1), (torch.randn(1, 64, 112, 112),)),
        # tiny_llama
        "sigmoid 1x64x688": (nn.Sigmoid(), (torch.randn(1, 64, 688),)),
        "pow2 1x64x256": (Fn(lambda x: x.pow(2)), (torch.randn(1, 64, 256),)),
        "permute 1x64x4x64->1x4x64x64": (Fn(lambda x: x.permute(0, 2, 1, 3).contiguous()), (torch.randn(1, 64, 4, 64),)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", help="comma-separated substrings of case names")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    import wick
    import wick.runtime
    torch.set_num_threads(1)
    rows = []
    for name, (mod, inputs) in cases().items():
        if args.ops and not any(s.strip() in name for s in args.ops.split(",")):
            continue
        mod.eval()
        try:
            meth = wick.runtime.load(wick.export(mod, inputs).buffer).method("forward")
            out = meth(*inputs)[0]
        except Exception as e:
            rows.append((name, None, None, f"{type(e).__name__}: {e}"))
            continue
        with torch.no_grad():
            ref = mod(*inputs)
            mod(*inputs)
        err = float((out.double() - ref.double()).abs().max())
        wt, gt = [], []
        for r in range(args.runs):
            for side in (("w", "g") if r % 2 == 0 else ("g", "w")):
                c0 = time.thread_time()
                if side == "w":
                    meth(*inputs)
                    wt.append(time.thread_time() - c0)
                else:
                    with torch.no_grad():
                        mod(*inputs)
                    gt.append(time.thread_time() - c0)
        rows.append((name, statistics.median(wt) * 1e3, statistics.median(gt) * 1e3, f"{err:.1e}"))
    w = max(len(r[0]) for r in rows)
    print(f"{'op':<{w}}  {'Wick CPU ms':>11}  {'eager CPU ms':>12}  {'Wick/eager':>10}  max|err|")
    for name, a, b, e in rows:
        if a is None:
            print(f"{name:<{w}}  failed: {e}")
        else:
            print(f"{name:<{w}}  {a:11.3f}  {b:12.3f}  {a / b:10.2f}  {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
