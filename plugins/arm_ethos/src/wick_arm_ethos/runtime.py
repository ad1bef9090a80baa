"""Runtime half on the host: the blob's TOSA graph executed by the official
TOSA reference model (``tosa_reference_model`` from tosa-tools), reached
through Wick's Python bridge. Nothing here computes an operator itself.

There is no Ethos-U NPU on a host; the Vela command stream in the blob is for
a device (see the README). A process without Python (wick-run) cannot use
this backend.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import blob as blob_format

HOST_ENGINE = "TOSA reference model (host)"
NPU = "Ethos-U NPU (not present)"

# The reference model keeps global state (logging, instance ids); one graph
# runs at a time.
_LOCK = threading.Lock()

_NP = {"float32": np.float32, "int8": np.int8, "int32": np.int32, "bool": np.bool_}


class Handle:
    def __init__(self, meta: dict[str, Any], tosa: bytes):
        self.meta = meta
        self.tosa = tosa
        self.inputs = meta["inputs"]
        self.outputs = meta["outputs"]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tosa-tools")
    except Exception:  # noqa: BLE001
        return "?"


def is_available() -> tuple[bool, str]:
    try:
        import tosa_reference_model  # noqa: F401
    except Exception as e:  # noqa: BLE001
        return False, f"tosa_reference_model cannot be imported ({type(e).__name__}: {e}); pip install tosa-tools"
    return True, f"{HOST_ENGINE}; {NPU}"


def info() -> str:
    return f"{HOST_ENGINE}, tosa-tools {_version()}; {NPU}: blobs also carry its Vela command stream"


def init(blob: memoryview, compile_specs: dict[str, bytes]) -> Handle:
    meta, tosa, _vela = blob_format.unpack(blob)
    return Handle(meta, bytes(tosa))


def execute(handle: Handle, args: list[np.ndarray]) -> list[np.ndarray]:
    import tosa_reference_model as trm

    n_in = len(handle.inputs)
    if len(args) != n_in + len(handle.outputs):
        raise ValueError(f"Ethos-U delegate expects {n_in} inputs and {len(handle.outputs)} outputs, "
                         f"got {len(args)} arguments")
    inputs = []
    for arr, spec in zip(args[:n_in], handle.inputs):
        if spec.get("embedded"):
            continue  # a weight Wick passes at run time; the TOSA graph holds it as a constant
        want = _NP[spec["dtype"]]
        inputs.append(np.ascontiguousarray(arr, dtype=want).reshape(spec["shape"]))
    with _LOCK:
        outs, status = trm.run(handle.tosa, inputs)
    if status != trm.GraphStatus.TOSA_VALID:
        raise RuntimeError(f"the TOSA reference model did not run the graph: {status}")
    results = []
    for out, spec in zip(outs, handle.outputs):
        want = _NP[spec["dtype"]]
        out = np.asarray(out)
        if out.dtype != want:  # raw bytes, or a wider integer type
            nbytes = int(np.prod(spec["shape"])) * np.dtype(want).itemsize
            out = out.view(want) if out.dtype == np.uint8 and out.size == nbytes else out.astype(want)
        results.append(out.reshape(spec["shape"]))
    return results


def destroy(handle: Handle) -> None:
    handle.tosa = b""
