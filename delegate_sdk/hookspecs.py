"""Hook specifications of a Wick backend plugin (pluggy, project name "wick").

A plugin is a module (or object) named by an entry point in the group
``wick.backends``; Wick registers it with a pluggy PluginManager and calls the
hooks below. Implement them with ``@hookimpl``. Only
``wick_backend_descriptor`` and ``wick_backend_partitioner`` are required.

Import cost: Wick loads every plugin when it discovers backends (``wick
backends``, lowering, and before loading a program that needs one). Keep the
plugin module light: import torch or vendor SDKs inside the hook functions or
the classes they return, not at module top level.
"""

from __future__ import annotations

import pluggy

PROJECT = "wick"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def wick_backend_descriptor():
    """Describe this plugin.

    Called once per plugin at discovery. Must return a
    :class:`wick.delegate_sdk.PluginDescriptor` (name, version, SDK API version
    built against, runtime library path, capabilities). First non-None result
    wins; a plugin returning None is reported broken.
    """


@hookspec(firstresult=True)
def wick_backend_partitioner(compile_specs):
    """Return the :class:`~wick.delegate_sdk.Partitioner` that decides which
    Edge-dialect nodes this backend takes.

    :param compile_specs: list of :class:`~wick.delegate_sdk.CompileSpec` the
        user gave for this backend (may be empty).

    Called by lowering (``wick.to_edge_and_lower``) once per lowering run.
    """


@hookspec(firstresult=True)
def wick_backend_preprocess():
    """Return the :class:`~wick.delegate_sdk.Backend` whose ``preprocess``
    turns a claimed subgraph into the blob the runtime half executes.

    Optional: when absent, the partitioner object must itself have a
    ``backend`` attribute.
    """


@hookspec(firstresult=True)
def wick_backend_quantizer(compile_specs):
    """Optional. Return a :class:`~wick.delegate_sdk.Quantizer` for the PT2E
    flow (``wick export --quantize``), or None when the backend has none."""


@hookspec
def wick_backend_register_runtime(runtime):
    """Optional. Register the runtime half in this Python process, for a
    backend whose execution engine is a Python module (the Python bridge).

    :param runtime: the ``wick.runtime`` module; call
        ``runtime.register_python_backend(name, init, execute, destroy,
        is_available, info)``.

    Called once per process, before the first program that needs this
    backend loads, and only when the descriptor names no
    ``runtime_library``. A process without Python (wick-run) cannot run such
    a backend; ship a native stub library whose ``is_available`` explains
    that, if programs may meet the standalone runner.
    """
