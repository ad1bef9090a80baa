"""Wick backend plugin '__NAME__': the pluggy hooks Wick discovers through the
`wick.backends` entry point. Kept light: torch is imported only when the
partitioner or preprocess run."""

from __future__ import annotations

import os

from wick.delegate_sdk import PluginDescriptor, hookimpl

NAME = "__NAME__"
VERSION = "0.1.0"
# The SDK API this plugin was written against; Wick refuses another major.
SDK_API_VERSION = "1.1"
RUNTIME_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick___NAME___runtime.so")


@hookimpl
def wick_backend_descriptor():
    return PluginDescriptor(
        name=NAME,
        version=VERSION,
        sdk_api_version=SDK_API_VERSION,
        runtime_library=RUNTIME_LIBRARY,
        package="wick-__DIST__",
        description="template backend: same-shape float32 add/sub/mul/relu in C",
        capabilities={"dtypes": ["float32"], "ops": ["aten.add.Tensor", "aten.sub.Tensor", "aten.mul.Tensor",
                                                     "aten.relu.default"],
                      "runtime_options": {}},  # key -> one line, for each spec key init() reads
    )


@hookimpl
def wick_backend_partitioner(compile_specs):
    from .backend import ElementwisePartitioner

    return ElementwisePartitioner(compile_specs)


@hookimpl
def wick_backend_preprocess():
    from .backend import ElementwiseBackend

    return ElementwiseBackend()
