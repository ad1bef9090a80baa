"""Comparing one output tensor with its reference under a Tolerance.

Returns plain numbers (JSON-ready): max absolute and relative error, ULP
error for floats, mismatch counts (NaN/inf placement included), SNR, and the
worst error-to-bound ratio (what the reports' error distribution plots).
Everything is computed in float64 from the exact output values, so the same
outputs give the same numbers on every run.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .tolerances import Tolerance

_BITS = {torch.float32: (torch.int32, 0x7FFFFFFF), torch.float64: (torch.int64, 0x7FFFFFFFFFFFFFFF),
         torch.float16: (torch.int16, 0x7FFF), torch.bfloat16: (torch.int16, 0x7FFF)}


def ulp_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Units in the last place between two finite float tensors of one dtype,
    as float64 (exact below 2**53). -0 and +0 are 0 apart."""
    int_type, mask = _BITS[a.dtype]

    def ordered(t: torch.Tensor) -> torch.Tensor:
        i = t.contiguous().view(int_type).to(torch.int64)
        mag = i & mask
        return torch.where(i < 0, -mag, mag).to(torch.float64)

    return (ordered(a) - ordered(b)).abs()


def _num(x: float) -> float | str:
    """JSON has no NaN/inf: those become strings."""
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _index(flat: int, shape: tuple) -> list[int]:
    idx = []
    for s in reversed(shape):
        idx.append(flat % s if s else 0)
        flat = flat // s if s else 0
    return list(reversed(idx))


def _fmt(v: Any) -> str:
    return repr(v) if not isinstance(v, float) else f"{v:.9g}"


def compare(got: torch.Tensor, ref: torch.Tensor, tol: Tolerance, scale: float | None = None) -> dict:
    """``got`` against ``ref``. ``scale``: the output's quantization scale,
    for the ``steps`` bound of quantized outputs. Result keys: ok, detail,
    numel, mismatches, nan_mismatches, max_abs, max_rel, max_ulp, snr_db,
    worst_ratio."""
    out: dict[str, Any] = {"numel": int(ref.numel()), "mismatches": 0, "nan_mismatches": 0, "max_abs": 0.0,
                           "max_rel": 0.0, "max_ulp": None, "snr_db": None, "worst_ratio": 0.0}
    if tuple(got.shape) != tuple(ref.shape):
        out.update(ok=False, mismatches=int(ref.numel()), worst_ratio="inf",
                   detail=f"shape {list(got.shape)} where the reference has {list(ref.shape)}")
        return out
    if got.dtype != ref.dtype:
        out.update(ok=False, mismatches=int(ref.numel()), worst_ratio="inf",
                   detail=f"dtype {str(got.dtype).replace('torch.', '')} where the reference has "
                          f"{str(ref.dtype).replace('torch.', '')}")
        return out
    if ref.numel() == 0:
        out.update(ok=True, detail="empty output")
        return out
    if not ref.is_floating_point():
        g = got.to(torch.int64)
        r = ref.to(torch.int64)
        diff = (g - r).abs()
        bad = diff > 0
        n = int(bad.sum())
        out.update(mismatches=n, max_abs=float(diff.max()), worst_ratio=_num(float("inf")) if n else 0.0)
        out["ok"] = n == 0
        out["detail"] = "exact" if n == 0 else _worst_detail(bad, diff, got, ref, n, "exact match")
        return out

    g64, r64 = got.to(torch.float64), ref.to(torch.float64)
    nan_g, nan_r = torch.isnan(g64), torch.isnan(r64)
    nan_bad = nan_g ^ nan_r
    fin = torch.isfinite(g64) & torch.isfinite(r64)
    inf_bad = ~nan_g & ~nan_r & ~fin & (g64 != r64)
    diff = torch.where(fin, (g64 - r64).abs(), torch.zeros_like(g64))
    absr = torch.where(fin, r64.abs(), torch.zeros_like(r64))
    ref_max = float(absr.max())
    if tol.steps is not None and scale:
        # 1e-5 slack: a difference of exactly one step, computed from float32
        # dequantized values, can come out as 1.000002 steps.
        allowed = torch.full_like(r64, tol.steps * scale * (1 + 1e-5))
    else:
        allowed = tol.atol + tol.atol_of_max * ref_max + tol.rtol * absr
    ulp = torch.where(fin, ulp_distance(got, ref), torch.zeros_like(g64))
    over = diff > allowed
    if tol.ulp and tol.steps is None:
        over &= ulp > tol.ulp
    bad_elem = (fin & over) | nan_bad | inf_bad
    n_bad = int(bad_elem.sum())
    ratio = torch.where(allowed > 0, diff / allowed.clamp_min(1e-300),
                        torch.where(diff > 0, torch.full_like(diff, math.inf), torch.zeros_like(diff)))
    if tol.ulp and tol.steps is None:
        ratio = torch.minimum(ratio, ulp / tol.ulp)
    worst = float(ratio.max()) if fin.any() else 0.0
    if int(nan_bad.sum()) or int(inf_bad.sum()):
        worst = math.inf
    nz = fin & (absr > 0)
    max_rel = float((diff[nz] / absr[nz]).max()) if nz.any() else 0.0
    if bool((fin & (absr == 0) & (diff > 0)).any()):
        max_rel = math.inf
    out.update(mismatches=n_bad, nan_mismatches=int(nan_bad.sum()), max_abs=_num(float(diff.max())),
               max_rel=_num(max_rel), max_ulp=_num(float(ulp.max())), worst_ratio=_num(worst))
    if tol.snr_db is not None:
        noise = float(((g64 - r64)[fin] ** 2).sum())
        signal = float((r64[fin] ** 2).sum())
        snr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
        out["snr_db"] = _num(round(snr, 6))
        snr_ok = snr >= tol.snr_db
    else:
        snr_ok = True
    # Quantized outputs whose scale is unknown, and model bounds, are judged by SNR alone.
    per_element = (tol.steps is not None and bool(scale)) or (tol.steps is None and (
        tol.snr_db is None or bool(tol.atol or tol.atol_of_max or tol.rtol)))
    if not per_element:   # model bound: SNR only, but NaN/inf placement always counts
        n_bad = int(nan_bad.sum()) + int(inf_bad.sum())
        out["mismatches"] = n_bad
        bad_elem = nan_bad | inf_bad
    out["ok"] = n_bad == 0 and snr_ok
    if out["ok"]:
        out["detail"] = "within " + tol.describe()
        return out
    parts = []
    if n_bad:
        score = torch.where(nan_bad | inf_bad, torch.full_like(ratio, math.inf), torch.nan_to_num(ratio, nan=0.0))
        parts.append(_worst_detail(bad_elem, score, got, ref, n_bad, tol.describe()))
    if int(nan_bad.sum()):
        parts.append(f"{int(nan_bad.sum())} NaN placement mismatch(es)")
    if not snr_ok:
        parts.append(f"SNR {out['snr_db']} dB below {tol.snr_db:g} dB")
    out["detail"] = "; ".join(parts)
    return out


def _worst_detail(bad: torch.Tensor, score: torch.Tensor, got: torch.Tensor, ref: torch.Tensor, n: int,
                  bound: str) -> str:
    flat = torch.where(bad.flatten(), score.flatten().to(torch.float64), torch.full((bad.numel(),), -1.0,
                                                                                   dtype=torch.float64))
    i = int(torch.argmax(flat))
    g, r = got.flatten()[i].item(), ref.flatten()[i].item()
    return (f"{n} of {ref.numel()} elements outside {bound}; worst at {_index(i, tuple(ref.shape))}: "
            f"got {_fmt(g)}, expected {_fmt(r)}")


def merge(metrics: list[dict]) -> dict:
    """The worst of several outputs' (or several runs') comparisons."""
    if not metrics:
        return {}

    def key(v: Any) -> float:
        if isinstance(v, str):
            return math.inf if v == "inf" else (-math.inf if v == "-inf" else math.inf)
        return -math.inf if v is None else float(v)

    out = {"ok": all(m["ok"] for m in metrics), "numel": sum(m["numel"] for m in metrics),
           "mismatches": sum(m["mismatches"] for m in metrics),
           "nan_mismatches": sum(m["nan_mismatches"] for m in metrics)}
    for k in ("max_abs", "max_rel", "max_ulp", "worst_ratio"):
        vals = [m[k] for m in metrics if m.get(k) is not None]
        out[k] = max(vals, key=key) if vals else None
    snrs = [m["snr_db"] for m in metrics if m.get("snr_db") is not None]
    out["snr_db"] = min(snrs, key=key) if snrs else None
    failing = [m["detail"] for m in metrics if not m["ok"]]
    out["detail"] = failing[0] if failing else metrics[0]["detail"]
    if len(metrics) > 1:
        bad_idx = [i for i, m in enumerate(metrics) if not m["ok"]]
        if bad_idx:
            out["detail"] = f"output {bad_idx[0]}: {out['detail']}"
    return out
