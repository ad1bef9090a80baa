"""Running Wick programs from Python.

    program = wick.runtime.load("model.wick")      # or load(program_bytes)
    outputs = program.method("forward")(x)         # torch tensors or NumPy arrays in

This module does not need torch. Inputs may be NumPy arrays, torch tensors or
any DLPack CPU array; contiguous ones are passed without a copy. Outputs are
torch tensors when torch is already imported, else NumPy arrays.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from . import _runtime
from .errors import WickError

_runtime._set_error_type(WickError)

SCHEMA_VERSION: int = _runtime.SCHEMA_VERSION
#: "major.minor" of the backend C ABI this runtime implements (it also loads ABI 1 backends).
BACKEND_ABI_VERSION: str = _runtime.BACKEND_ABI_VERSION


class Method:
    """One loaded method of a program; call it with the method's inputs."""

    def __init__(self, native: Any):
        self._native = native
        self._output_dtypes = list(native.output_dtypes)

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def input_specs(self) -> list[tuple[str, list[int], bool]]:
        """(dtype, planned sizes, dynamic) for each input."""
        return self._native.input_specs

    @property
    def arena_bytes(self) -> int:
        return self._native.arena_bytes

    @property
    def runtime_bytes(self) -> int:
        """Bookkeeping bytes the load took (values, instructions, and what
        backends allocated in init)."""
        return self._native.runtime_bytes

    def __call__(self, *inputs: Any) -> list[Any]:
        return self.run(inputs)

    def run(self, inputs: Sequence[Any]) -> list[Any]:
        outputs = self._native.run([_as_array(x) for x in inputs])
        torch = sys.modules.get("torch")
        if torch is None:
            return outputs  # bfloat16 outputs stay raw bits in uint16 arrays: NumPy has no bfloat16
        converted = []
        for out, dtype in zip(outputs, self._output_dtypes):
            if hasattr(out, "__array_interface__"):
                out = torch.from_numpy(out)
                if dtype == "bfloat16":
                    out = out.view(torch.bfloat16)
            converted.append(out)
        return converted


class Program:
    """A verified program; methods are loaded on first use and cached.

    Threads: ``method(name)`` is one shared instance per name; threads may
    call it at the same time, and their calls take turns (each call holds the
    instance from binding its inputs to copying its outputs). For calls that
    run in parallel, give each thread its own instance from
    ``new_method(name)``: its own activation memory and delegate handles."""

    def __init__(self, native: Any):
        self._native = native
        self._methods: dict[str, Method] = {}
        self._methods_lock = threading.Lock()

    @property
    def method_names(self) -> list[str]:
        return self._native.method_names

    @property
    def required_backends(self) -> list[str]:
        """Names of the backends this program's delegate calls need."""
        return self._native.required_backends

    @property
    def has_checksums(self) -> bool:
        """False for a file written before checksums existed (loaded unverified)."""
        return self._native.has_checksums

    def method(self, name: str = "forward") -> Method:
        """The shared instance of method ``name`` (loaded on first use)."""
        with self._methods_lock:
            if name not in self._methods:
                self._methods[name] = self._load_method(name)
            return self._methods[name]

    def new_method(self, name: str = "forward") -> Method:
        """A new, independent instance of method ``name``, freed when no
        longer referenced; it keeps the program's bytes alive."""
        return self._load_method(name)

    def _load_method(self, name: str) -> Method:
        try:
            return Method(self._native.method(name))
        except WickError as e:
            if e.code != "BackendNotFound":
                raise
            raise WickError(_missing_backends_message(self.required_backends, e.message), e.code) from None

    def __call__(self, *inputs: Any) -> list[Any]:
        return self.method("forward")(*inputs)


def load(source: str | os.PathLike | bytes | bytearray | memoryview,
         backend_options: Mapping[str, Mapping[str, Any]] | None = None, verify_checksums: bool = True) -> Program:
    """Loads and verifies a program from a path (memory-mapped) or from bytes.

    The CRC-32 of the file's metadata and of every segment (weights, delegate
    blobs) is checked unless ``verify_checksums=False`` (one pass over the
    file; docs/format.md gives the cost). The structural checks always run.

    ``backend_options`` are load-time options per backend, e.g.
    ``{"xnnpack": {"threads": 1}}``: each delegate of that backend gets them as
    compile specs, replacing the program's specs of the same key, so they can
    be chosen when loading instead of when exporting. A plugin lists the ones
    it takes under ``runtime_options`` (``wick backends``)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        native = _runtime.load_bytes(bytes(source), verify_checksums)
    else:
        native = _runtime.load_file(os.fspath(source), verify_checksums)
    needed = native.required_backends
    if needed:
        # Installed backend plugins register their runtime halves on demand.
        from . import plugins

        plugins.register_runtimes_for(needed)
    for backend, options in (backend_options or {}).items():
        if backend not in needed:
            raise ValueError(f"backend_options names backend '{backend}', which this program does not delegate to "
                             f"(it uses: {', '.join(needed) or 'no backend'})")
        allowed = _runtime_option_keys(backend)
        for key, value in options.items():
            if allowed is not None and key not in allowed:
                takes = ", ".join(sorted(allowed)) or "none"
                raise ValueError(f"backend '{backend}' has no load-time option '{key}' (it takes: {takes})")
            native.set_backend_option(backend, key, value.decode() if isinstance(value, bytes) else str(value))
    return Program(native)


def _runtime_option_keys(backend: str) -> set[str] | None:
    """The load-time options an installed plugin declares; None when the
    backend has no installed plugin to ask (a library registered by path)."""
    from . import plugins

    try:
        plugin = plugins.get(backend)
    except LookupError:
        return None
    return set(plugin.descriptor.capabilities.get("runtime_options", ()))


def _missing_backends_message(needed: Sequence[str], runtime_message: str) -> str:
    """Why each needed backend is not registered: not installed, or installed
    but broken, or installed with a runtime library that failed to load."""
    from . import plugins

    registered = {b["name"] for b in registered_backends()}
    causes = [plugins.why_not_registered(name) for name in needed if name not in registered]
    return "; ".join(causes) if causes else runtime_message


def load_backend_library(path: str | os.PathLike) -> None:
    """Registers a backend's runtime library (a shared library exporting the
    Wick backend entry symbol) into this process's backend registry."""
    _runtime.load_backend_library(os.fspath(path))


def registered_backends() -> list[dict[str, Any]]:
    """Backends registered in this process: name, source (library path or
    "static"), available (and the reason when not), info (device line) and
    abi ("2.0", or "1" for a backend built against ABI 1)."""
    return [dict(name=n, source=s, available=a, reason=r, info=i, abi=v)
            for n, s, a, r, i, v in _runtime.registered_backends()]


@dataclass
class TraceEvent:
    """One traced event: a method run, an instruction (category "kernel" or
    "delegate"), or an event a backend emitted (category = its name)."""

    name: str
    category: str
    begin_ns: int
    end_ns: int
    depth: int
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def duration_us(self) -> float:
        return (self.end_ns - self.begin_ns) / 1e3


@dataclass
class Trace:
    events: list[TraceEvent] = field(default_factory=list)
    dropped: int = 0


@contextlib.contextmanager
def trace(capacity: int = 65536) -> Iterator[Trace]:
    """Records the runtime's events while the block runs (at most
    ``capacity``; ``dropped`` counts the rest)::

        with wick.runtime.trace() as t:
            method(x)
        for e in t.events: print("  " * e.depth, e.category, e.name, e.duration_us)
    """
    result = Trace()
    _runtime.start_tracing(capacity)
    try:
        yield result
    finally:
        events, result.dropped = _runtime.stop_tracing()
        result.events = [TraceEvent(*e) for e in events]


def registered_kernels() -> list[tuple[str, list[str]]]:
    return [(name, list(dtypes)) for name, dtypes in _runtime.registered_kernels()]


def _as_array(x: Any) -> Any:
    # torch tensors that are not contiguous are made so (a copy), as are
    # Python scalars left for the binding to convert.
    if hasattr(x, "is_contiguous") and not x.is_contiguous():
        return x.contiguous()
    if hasattr(x, "detach") and getattr(x, "requires_grad", False):
        return x.detach()
    return x


def register_python_backend(name: str, init: Any, execute: Any, destroy: Any = None, is_available: Any = None,
                            info: Any = None) -> None:
    """Registers a backend whose engine is Python code (a vendor's reference
    model or simulator) behind the same C ABI as native backends (the Python
    bridge). It exists only in this Python process: the standalone runner
    cannot run programs that need it.

    ``init(blob: memoryview, compile_specs: dict[str, bytes]) -> handle``;
    ``execute(handle, args: list[numpy.ndarray])``: ``args`` are the delegate's
    inputs then its outputs, as arrays over Wick's memory (outputs at their
    planned sizes). Either write the outputs in place and return None, or
    return a list of output arrays (copied in; their shapes become the output
    shapes, within the planned bounds). ``is_available() -> (bool, reason)``.
    Unlike native backends, a Python backend allocates while executing."""
    _runtime.register_python_backend(name, init, execute, destroy, is_available, info)
