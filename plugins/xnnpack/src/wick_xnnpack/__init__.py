"""Wick backend plugin 'xnnpack': fast CPU inference through XNNPACK's
subgraph API (XNNPACK of 2026-08-21, built from source and linked into
the runtime library).

The pluggy hooks Wick discovers through the ``wick.backends`` entry point.
Kept light: torch is imported only when the partitioner, preprocess or the
quantizer run.

    program = wick.export(model, inputs, backends=["xnnpack"],
                          compile_specs={"xnnpack": [CompileSpec.of("threads", 2)]})
"""

from __future__ import annotations

import os

from wick.delegate_sdk import PluginDescriptor, hookimpl

NAME = "xnnpack"
VERSION = "0.2.0"  # 0.2: backend ABI 2 (validate_blob, traced events, device_info)
# The SDK API this plugin was written against; Wick refuses another major.
SDK_API_VERSION = "1.1"  # 1.1: PreprocessResult.compatibility
XNNPACK_COMMIT = "75db3c093b6d"  # must equal the commit in cmake/XnnpackFromSource.cmake
XNNPACK_VERSION = f"2026-08-21 ({XNNPACK_COMMIT}, linked statically)"
RUNTIME_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick_xnnpack_runtime.so")


@hookimpl
def wick_backend_descriptor():
    return PluginDescriptor(
        name=NAME,
        version=VERSION,
        sdk_api_version=SDK_API_VERSION,
        runtime_library=RUNTIME_LIBRARY,
        package="wick-xnnpack",
        description=f"XNNPACK {XNNPACK_VERSION} subgraph runtime on the host CPU",
        capabilities={
            "dtypes": ["float32", "int8 (PT2E: per-channel symmetric weights, per-tensor affine activations)"],
            "compile_specs": {"threads": "pthreadpool size; default: the machine's cores "
                                         "(or WICK_XNNPACK_THREADS at run time)"},
            "runtime_options": {"threads": "pthreadpool size at load time (wick.runtime.load backend_options, "
                                           "wick-run --backend-option xnnpack.threads=N); replaces the spec"},
            "xnnpack": XNNPACK_VERSION,
        },
    )


@hookimpl
def wick_backend_partitioner(compile_specs):
    from .partitioner import XnnpackPartitioner

    return XnnpackPartitioner(compile_specs)


@hookimpl
def wick_backend_preprocess():
    from .preprocess import XnnpackBackend

    return XnnpackBackend()


@hookimpl
def wick_backend_quantizer(compile_specs):
    from .quantizer import XnnpackQuantizer

    return XnnpackQuantizer()
