"""wick-arm-ethos: Arm Ethos-U through TOSA and Vela.

AOT: the partitioner takes PT2E int8 regions (and, for host checks, float32
ops); preprocess lowers them to a TOSA 1.0 flatbuffer (tosa_serializer),
validates it with tosa-tools' TOSA validator, and compiles integer graphs with
Vela for the accelerator named by the ``accelerator`` compile spec. The blob
(blob.py) carries the TOSA graph, Vela's command stream and Vela's estimates.

Runtime: on the host, the TOSA reference model runs the graph through Wick's
Python bridge. There is no Ethos-U NPU here, and the plugin says so.

Compile specs (all optional):
  accelerator    ethos-u55-128 (default), ethos-u85-256, ... (any Vela config)
  system_config  Vela system config (default: Vela's Arm/vela.ini default for the family)
  memory_mode    Vela memory mode (same)
  profile        auto (default: int8 regions and float32 ops) or int (int8 regions
                 only: what an Ethos-U device runs)
  vela           1 (default) or 0: skip Vela (the host run needs only TOSA)
"""

from __future__ import annotations

from typing import Any, Sequence

from wick.delegate_sdk import (Backend, CompileSpec, Partitioner, PluginDescriptor, PreprocessResult, Quantizer,
                               group_supported_nodes, hookimpl)

import os

NAME = "arm_ethos"
VERSION = "0.1.0"
# For processes without Python: `wick-run --backend-lib STUB_LIBRARY` then says
# why this backend cannot run there. Not the descriptor's runtime_library: in
# Python the reference model runs through the bridge instead.
STUB_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick_arm_ethos_stub.so")


def _specs(compile_specs: Sequence[CompileSpec]) -> dict[str, str]:
    out = {"accelerator": "ethos-u55-128", "profile": "auto", "vela": "1"}
    for s in compile_specs:
        out[s.key] = s.value.decode() if isinstance(s.value, (bytes, bytearray)) else str(s.value)
    if out["profile"] not in ("auto", "int"):
        raise ValueError(f"arm_ethos compile spec profile={out['profile']!r}: use 'auto' or 'int'")
    return out


class EthosUPartitioner(Partitioner):
    backend_name = NAME

    def __init__(self, compile_specs: Sequence[CompileSpec] = ()):
        self.compile_specs = list(compile_specs)
        self.specs = _specs(self.compile_specs)
        self.backend = EthosUBackend()

    def partition(self, exported_program: Any, claimable: set[str]):
        from . import rules

        consts = _lifted_by_name(exported_program)
        ok, reasons = rules.analyze(exported_program.graph_module, lambda n: n.name in consts,
                                    allow_float=self.specs["profile"] == "auto", claimable=claimable)
        return group_supported_nodes(exported_program, claimable,
                                     lambda n: None if n.name in ok else reasons.get(n.name, "not taken"))


def _lifted_by_name(ep: Any) -> dict[str, Any]:
    """Placeholder name -> tensor for parameters, buffers and lifted constants
    (placeholders follow graph_signature.input_specs in order)."""
    from torch.export.graph_signature import InputKind

    state = {**ep.state_dict, **ep.constants}
    placeholders = [n for n in ep.graph.nodes if n.op == "placeholder"]
    return {node.name: state[spec.target] for node, spec in zip(placeholders, ep.graph_signature.input_specs)
            if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)}


class EthosUBackend(Backend):
    name = NAME

    def preprocess(self, subgraph: Any, compile_specs: Sequence[CompileSpec]) -> PreprocessResult:
        from . import blob, lower, toolchain

        specs = _specs(compile_specs)
        # Weights, and what the graph computes from them only (a transpose, a
        # cast), arrive here as constants: Wick folds those before cutting.
        constants = subgraph.constants
        tosa, info = lower.lower(subgraph.graph_module, constants)
        toolchain.validate(tosa, info["profile"])
        ins = [(i, subgraph.input_metas[i]) for i in subgraph.runtime_inputs]
        meta: dict[str, Any] = {
            "format": 1,
            "tosa": {k: v for k, v in info.items() if k != "node_to_tosa"},
            # Every run-time input Wick passes (weights are constants, in the graph).
            "inputs": [{"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                        "embedded": False} for i, t in ins],
            "outputs": [{"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
                        for t in subgraph.output_metas],
        }
        vela_raw = b""
        if info["profile"] != "pro_int":
            meta["vela"] = {"skipped": "the graph uses TOSA PRO-FP (float32 ops); Ethos-U runs integer TOSA only, "
                                       "so it runs on the TOSA reference model alone (profile=int keeps float ops "
                                       "out of the partition)"}
        elif specs["vela"] in ("0", "false", "no"):
            meta["vela"] = {"skipped": "compile spec vela=0"}
        else:
            vela_raw, estimates = toolchain.vela_compile(tosa, specs["accelerator"], specs.get("system_config"),
                                                         specs.get("memory_mode"))
            meta["vela"] = estimates
        data = blob.pack(meta, tosa, vela_raw)
        debug = {"tosa": info, "vela": meta["vela"], "blob": {"tosa_bytes": len(tosa), "vela_bytes": len(vela_raw)}}
        if "npu_cycles" in meta["vela"]:
            debug["estimates"] = _estimates(meta["vela"])
        return PreprocessResult(data, debug)


class EthosUQuantizer(Quantizer):
    """PT2E quantizer following Ethos-U's rules (quantizer.py)."""

    def __init__(self, compile_specs: Sequence[CompileSpec] = ()):
        self.compile_specs = list(compile_specs)

    def quantizer(self) -> Any:
        from .quantizer import EthosUQuantizer as PT2EQuantizer

        return PT2EQuantizer()


def describe_blob(data: bytes) -> dict[str, Any]:
    """The JSON metadata of one of this backend's blobs (TOSA profile and
    operators, inputs/outputs, Vela's estimates), for inspection tools."""
    from . import blob

    return blob.describe(data)


@hookimpl
def wick_backend_descriptor():
    from . import rules_light

    return PluginDescriptor(
        name=NAME, version=VERSION, sdk_api_version="1.0", runtime_library=None, package="wick-arm-ethos",
        description="Arm Ethos-U via TOSA 1.0 + Vela. Runs here on the TOSA reference model (host); "
                    "Ethos-U NPU (not present).",
        capabilities={
            "targets": {"host": "TOSA reference model (host), via Wick's Python bridge",
                        "npu": "Ethos-U NPU (not present): blobs carry Vela command streams for it"},
            "dtypes": ["int8 (PT2E; TOSA PRO-INT, compiled by Vela)", "float32 (TOSA PRO-FP, host only)"],
            "accelerators": rules_light.ACCELERATORS,
            "ops": rules_light.CLAIMED_OPS,
            "compile_specs": ["accelerator", "system_config", "memory_mode", "profile", "vela"],
            "standalone_runner_library": STUB_LIBRARY,
        })


@hookimpl
def wick_backend_partitioner(compile_specs):
    return EthosUPartitioner(compile_specs)


@hookimpl
def wick_backend_quantizer(compile_specs):
    return EthosUQuantizer(compile_specs)


@hookimpl
def wick_backend_register_runtime(runtime):
    import ctypes

    from . import runtime as rt

    callables = (rt.init, rt.execute, rt.destroy, rt.is_available, rt.info)
    # Wick 0.1's bridge keeps these in static C++ slots destroyed after the
    # interpreter finalized; the last reference dropped there aborts the
    # process at exit. One extra reference each keeps them alive to the end
    # (module functions: nothing leaks that would not live anyway).
    for fn in callables:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(fn))
    runtime.register_python_backend(NAME, *callables[:3], is_available=rt.is_available, info=rt.info)


def _estimates(vela: dict) -> dict:
    """The SDK's reserved "estimates" entry: Vela's figures that a reader of a
    conformance report or `wick inspect` wants first."""
    keys = ("npu_cycles", "total_cycles", "inference_time_s", "sram_used_kib")
    out = {"by": f"Vela {vela.get('vela_version', '?')} for {vela.get('accelerator', '?')}"}
    out.update({k: vela[k] for k in keys if k in vela})
    out["flash_used_kib"] = vela.get("off_chip_flash_used_kib", 0) + vela.get("on_chip_flash_used_kib", 0)
    return out
