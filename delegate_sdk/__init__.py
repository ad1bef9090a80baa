"""wick.delegate_sdk — the stable contract between Wick and backend plugins.

API version 1. Stability promise: within major version 1, everything named in
``__all__`` keeps its name, signature and meaning; minor versions only add
(new optional hooks, new optional fields with defaults). A plugin declares the
API version it was built against (``PluginDescriptor.sdk_api_version``); Wick
refuses a plugin of another major version at discovery, naming both versions.
See docs/writing-a-backend.md.
"""

from .api import (
    SDK_API_VERSION,
    Backend,
    CompileSpec,
    DelegateSubgraph,
    Partition,
    PartitionResult,
    Partitioner,
    PluginDescriptor,
    PreprocessResult,
    Quantizer,
    group_supported_nodes,
)
from .hookspecs import hookimpl, hookspec

__all__ = [
    "SDK_API_VERSION",
    "Backend",
    "CompileSpec",
    "DelegateSubgraph",
    "Partition",
    "PartitionResult",
    "Partitioner",
    "PluginDescriptor",
    "PreprocessResult",
    "Quantizer",
    "group_supported_nodes",
    "hookimpl",
    "hookspec",
]
