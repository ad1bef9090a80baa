"""Wick backend plugin 'vulkan': GLSL compute shaders run through Vulkan, on
a GPU's driver or, on machines without a GPU, Mesa's lavapipe (Vulkan 1.3 on
the CPU).

The pluggy hooks Wick discovers through the ``wick.backends`` entry point.
Kept light: torch is imported only when the partitioner or preprocess run.

    program = wick.export(model, inputs, backends=["vulkan"])
    # float16 models (model.half(), float16 inputs) run with float16 tensors on the device
    # choose a device: compile spec or, at run time, WICK_VULKAN_DEVICE=<index or name part>
    program = wick.export(model, inputs, backends=["vulkan"],
                          compile_specs={"vulkan": [CompileSpec.of("device", "NVIDIA")]})
"""

from __future__ import annotations

import os

from wick.delegate_sdk import PluginDescriptor, hookimpl

NAME = "vulkan"
VERSION = "0.2.0"
# The SDK API this plugin was written against; Wick refuses another major.
SDK_API_VERSION = "1.1"  # 1.1: PreprocessResult.compatibility
RUNTIME_LIBRARY = os.path.join(os.path.dirname(__file__), "libwick_vulkan_runtime.so")


@hookimpl
def wick_backend_descriptor():
    from .ops import SUPPORTED_OP_NAMES

    return PluginDescriptor(
        name=NAME,
        version=VERSION,
        sdk_api_version=SDK_API_VERSION,
        runtime_library=RUNTIME_LIBRARY,
        package="wick-vulkan",
        description="GLSL compute shaders (SPIR-V embedded) through Vulkan 1.1+; lavapipe when no GPU exists",
        capabilities={
            "dtypes": ["float32", "float16 (stored as float16, computed in float32; needs the device feature "
                       "storageBuffer16BitAccess, shown by `wick backends`)", "int32/int64 embedding indices"],
            "compile_specs": {"device": "device index or name substring (WICK_VULKAN_DEVICE overrides at run "
                                        "time); default: discrete > integrated > virtual > CPU",
                              "float16": "on (default) or off: off leaves float16 tensors to other backends, for "
                                         "a device without float16 storage"},
            "runtime_options": {"device": "device index or name substring, chosen at load time "
                                          "(wick.runtime.load backend_options, wick-run --backend-option "
                                          "vulkan.device=...); replaces the spec"},
            "ops": SUPPORTED_OP_NAMES,
        },
    )


@hookimpl
def wick_backend_partitioner(compile_specs):
    from .partitioner import VulkanPartitioner

    return VulkanPartitioner(compile_specs)


@hookimpl
def wick_backend_preprocess():
    from .plan import VulkanBackend

    return VulkanBackend()
