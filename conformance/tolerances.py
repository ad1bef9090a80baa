"""The tolerance policy: how far a backend's output may be from the reference.

This file is the whole policy. Every number has its reason beside it; the
policy is fixed by the suite, not by the backend under test: no plugin hook,
compile spec or environment variable changes it. The one declared loosening is
``--relaxed`` (RELAXED below), and every report shows when it was used, with
the policy fingerprint (a hash of this table) so two reports can be checked to
have been judged by the same numbers.

How an element is judged (``wick.conformance.compare``):

- floating point: the element passes if
  ``|got - ref| <= atol + atol_of_max * max|ref| + rtol * |ref|``
  **or** it is within ``ulp`` units in the last place of ``ref``. NaN must be
  NaN exactly where the reference is NaN; an infinity must be the same
  infinity. The sign of zero is not judged (IEEE treats -0 == +0, and
  ``relu(-0)`` legitimately yields either).
- integers and bool: exact (every mismatching element is counted).
- quantized (int8) outputs, dequantized to float: at most ``steps``
  quantization steps of the output's scale per element; model outputs are
  judged by signal-to-noise ratio (``snr_db``) instead, because a one-step
  rounding difference in an early layer legitimately propagates.

Op classes (what the op computes decides how exact a backend can be):

- ``exact``: data movement and selection (view/permute/cat/..., relu, neg,
  hardtanh, max pool, embedding): no arithmetic rounding, so bit-exact.
- ``elementwise``: one correctly-rounded IEEE operation per element (add,
  sub, mul): exact, except that a backend may flush subnormals to zero (most
  SIMD engines do), hence an absolute slack of the smallest normal number.
- ``transcendental``: exp, tanh, sigmoid, sqrt, rsqrt, pow, div: vendor math
  libraries use polynomial approximations; a few ULP is the industry norm.
- ``accumulate``: reductions, matmul, convolution, pooling averages, softmax,
  batch norm: summation order differs between engines (blocking, SIMD lanes,
  FMA), so the error scales with the largest magnitude in the output.
- ``pattern`` / ``model``: several ops in sequence, errors compound.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace

FLT_MIN = 1.1754943508222875e-38  # smallest normal float32


@dataclass(frozen=True)
class Tolerance:
    atol: float = 0.0            # absolute slack
    atol_of_max: float = 0.0     # slack relative to the largest |ref| in the output
    rtol: float = 0.0            # slack relative to |ref| of the element
    ulp: int = 0                 # alternative bound in units in the last place
    steps: float | None = None   # quantized: allowed quantization steps per element
    snr_db: float | None = None  # minimum output signal-to-noise ratio (dB), None = not judged
    reason: str = ""

    def describe(self) -> str:
        parts = []
        if self.atol:
            parts.append(f"atol {self.atol:g}")
        if self.atol_of_max:
            parts.append(f"atol {self.atol_of_max:g}*max|ref|")
        if self.rtol:
            parts.append(f"rtol {self.rtol:g}")
        if self.ulp:
            parts.append(f"or {self.ulp} ULP")
        if self.steps is not None:
            parts.append(f"{self.steps:g} quantization step(s)")
        if self.snr_db is not None:
            parts.append(f"SNR >= {self.snr_db:g} dB")
        return ", ".join(parts) or "exact"


EXACT = Tolerance(reason="no rounding happens: data movement, selection and sign changes are bit-exact in any "
                         "correct implementation")

# (dtype, op class) -> Tolerance. dtype "int" covers every integer type and bool.
POLICY: dict[tuple[str, str], Tolerance] = {
    ("float32", "exact"): EXACT,
    ("float32", "elementwise"): Tolerance(
        atol=FLT_MIN, reason="IEEE add/sub/mul are correctly rounded, so results must match bit for bit; the only "
                             "slack is flushing subnormal results to zero, which most SIMD engines do"),
    ("float32", "transcendental"): Tolerance(
        atol=1e-6, ulp=8, reason="vendor math libraries approximate exp/tanh/sigmoid/sqrt with polynomials; 8 ULP "
                                 "is what XNNPACK, Arm Compute Library and CoreML document or achieve; 1e-6 absolute "
                                 "covers outputs near zero where ULPs are tiny (sigmoid of large negatives)"),
    ("float32", "accumulate"): Tolerance(
        atol_of_max=1e-5, rtol=1e-4, reason="a sum of K products in another order (blocking, SIMD lanes, FMA) "
                                            "differs by up to ~K*eps relative to the sum of magnitudes; 1e-5 of "
                                            "the output's largest magnitude covers K up to ~100 at float32 eps"),
    ("float32", "pattern"): Tolerance(
        atol_of_max=1e-4, rtol=1e-3, reason="a few accumulating ops in sequence (conv, bn, matmul, softmax): "
                                            "the accumulate bound compounded over 3-5 ops, with folding of batch "
                                            "norm into the convolution allowed"),
    ("float32", "model"): Tolerance(
        atol_of_max=1e-3, rtol=1e-2, snr_db=60.0,
        reason="tens of layers compound accumulation differences; 1e-3 of the largest logit keeps the argmax, "
               "and 60 dB SNR (noise a millionth of the signal power) rejects a systematically wrong layer"),
    ("float64", "exact"): EXACT,
    ("float64", "elementwise"): Tolerance(atol=2.2250738585072014e-308,
                                          reason="correctly rounded, as for float32; subnormals may flush"),
    ("float64", "transcendental"): Tolerance(atol=1e-14, ulp=8, reason="as for float32, in float64 units"),
    ("float64", "accumulate"): Tolerance(atol_of_max=1e-12, rtol=1e-10,
                                         reason="as for float32, scaled to float64's epsilon (2.2e-16)"),
    ("float64", "pattern"): Tolerance(atol_of_max=1e-11, rtol=1e-9, reason="compounded float64 accumulation"),
    ("float16", "exact"): EXACT,
    ("float16", "elementwise"): Tolerance(atol=6.1e-5, ulp=1,
                                          reason="half precision engines may compute in float32 and round once "
                                                 "more: 1 ULP; subnormals (< 6.1e-5) may flush"),
    ("float16", "transcendental"): Tolerance(atol=1e-4, ulp=4, reason="approximations at half precision"),
    ("float16", "accumulate"): Tolerance(atol_of_max=1e-3, rtol=1e-2,
                                         reason="half-precision accumulators lose ~3 decimal digits"),
    ("bfloat16", "exact"): EXACT,
    ("bfloat16", "elementwise"): Tolerance(atol=FLT_MIN, ulp=1, reason="as float16, bfloat16 has float32's range"),
    ("bfloat16", "transcendental"): Tolerance(atol=1e-3, ulp=4, reason="approximations at bfloat16 precision"),
    ("bfloat16", "accumulate"): Tolerance(atol_of_max=8e-3, rtol=5e-2, reason="bfloat16 keeps 8 mantissa bits"),
    ("int", "exact"): EXACT,
    ("int", "elementwise"): Tolerance(reason="integer arithmetic (with two's-complement wraparound, as PyTorch) "
                                             "has one right answer"),
    ("int", "transcendental"): Tolerance(reason="integer outputs (integer pow) are exact; integer inputs with "
                                                "float outputs (division) are judged by the float rule"),
    ("int", "accumulate"): Tolerance(reason="integer sums are exact"),
    ("int8q", "op"): Tolerance(steps=1.0, reason="a requantization may round the other way (round-half-even vs "
                                                 "half-away, fixed-point multipliers): one step, never more"),
    ("int8q", "pattern"): Tolerance(steps=1.0, snr_db=30.0,
                                    reason="each quantized op may be one step off; the requantization at the end "
                                           "brings the output back within one step of the reference, and 30 dB "
                                           "rejects a wrong scale or zero point"),
    ("int8q", "model"): Tolerance(snr_db=30.0,
                                  reason="one-step differences propagate through tens of layers, so per-element "
                                         "bounds say nothing; 30 dB (noise power a thousandth of the signal) is "
                                         "well above what a wrong scale, zero point or rounding mode gives"),
}

# The declared loosening (--relaxed): for pre-release silicon or emulators.
# Shown as "RELAXED" in every report, never applied implicitly.
RELAXED_FACTOR = 10.0          # atol, rtol, ulp multiplied
RELAXED_EXTRA_STEPS = 1.0      # quantized: one more step per element
RELAXED_SNR_MINUS_DB = 10.0    # SNR bounds lowered
RELAXED_DOC = (f"relaxed mode: absolute/relative/ULP bounds x{RELAXED_FACTOR:g}, exact classes allow "
               f"{int(RELAXED_FACTOR)} ULP, quantized +{RELAXED_EXTRA_STEPS:g} step, SNR bounds "
               f"-{RELAXED_SNR_MINUS_DB:g} dB")


def dtype_key(dtype: str) -> str:
    return dtype if dtype in ("float32", "float64", "float16", "bfloat16") else "int"


def tolerance_for(dtype: str, op_class: str, relaxed: bool = False) -> Tolerance:
    """The bound for an output of ``dtype`` produced by a case of ``op_class``.

    For integer inputs with float outputs (int -> float division), call with the
    output dtype. Raises KeyError for a combination the policy does not cover,
    so a new case class cannot slip through with an implicit bound."""
    key = "int8q" if dtype == "int8q" else dtype_key(dtype)
    cls = op_class
    if (key, cls) not in POLICY and cls in ("pattern", "model"):
        cls = "pattern" if (key, "pattern") in POLICY else "accumulate"
    tol = POLICY[(key, cls)]
    if not relaxed:
        return tol
    return replace(
        tol, atol=tol.atol * RELAXED_FACTOR, atol_of_max=tol.atol_of_max * RELAXED_FACTOR,
        rtol=tol.rtol * RELAXED_FACTOR, ulp=int(tol.ulp * RELAXED_FACTOR) if tol.ulp else int(RELAXED_FACTOR),
        steps=None if tol.steps is None else tol.steps + RELAXED_EXTRA_STEPS,
        snr_db=None if tol.snr_db is None else tol.snr_db - RELAXED_SNR_MINUS_DB,
        reason=tol.reason + f" [{RELAXED_DOC}]")


def fingerprint() -> str:
    """sha256 of the policy table: equal in two reports = judged by the same numbers."""
    table = {f"{k[0]}/{k[1]}": asdict(v) for k, v in sorted(POLICY.items())}
    table["relaxed"] = [RELAXED_FACTOR, RELAXED_EXTRA_STEPS, RELAXED_SNR_MINUS_DB]
    return hashlib.sha256(json.dumps(table, sort_keys=True).encode()).hexdigest()[:16]


def policy_table() -> list[dict]:
    """The policy as rows, for reports and docs."""
    return [{"dtype": k[0], "class": k[1], "bound": v.describe(), "reason": v.reason} for k, v in POLICY.items()]
