"""Discovery of backend plugins: entry-point group ``wick.backends``, each
plugin loaded into its own pluggy PluginManager.

A plugin that fails to import, lacks its descriptor, or was built for another
SDK major version is listed as broken with the reason; it never breaks Wick or
the other plugins. This module does not import torch.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
from dataclasses import dataclass, field
from typing import Any

import pluggy

from .delegate_sdk import SDK_API_VERSION, PluginDescriptor, hookspecs

ENTRY_POINT_GROUP = "wick.backends"


@dataclass
class Plugin:
    """One entry point of the ``wick.backends`` group, loaded or broken."""

    entry_point: str                 # "name = module:attr"
    distribution: str                # the package that provides it
    distribution_version: str
    descriptor: PluginDescriptor | None = None
    manager: pluggy.PluginManager | None = None
    error: str | None = None
    runtime_registered: bool = False
    runtime_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.descriptor.name if self.descriptor else self.entry_point.split("=")[0].strip()

    @property
    def broken(self) -> bool:
        return self.error is not None

    @property
    def hook(self) -> Any:
        return self.manager.hook


def _major(version: str) -> str:
    return str(version).split(".")[0]


def _minor(version: str) -> int:
    parts = str(version).split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _load(ep: metadata.EntryPoint) -> Plugin:
    dist = ep.dist
    plugin = Plugin(entry_point=f"{ep.name} = {ep.value}", distribution=dist.name if dist else "?",
                    distribution_version=dist.version if dist else "?")
    try:
        obj = ep.load()
    except BaseException as e:  # noqa: BLE001 - a plugin's import may fail in any way
        plugin.error = f"cannot import {ep.value}: {type(e).__name__}: {e}"
        return plugin
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(obj, name=ep.name)
        pm.check_pending()
        descriptor = pm.hook.wick_backend_descriptor()
    except BaseException as e:  # noqa: BLE001
        plugin.error = f"invalid plugin {ep.value}: {type(e).__name__}: {e}"
        return plugin
    if not isinstance(descriptor, PluginDescriptor):
        plugin.error = f"{ep.value} does not return a PluginDescriptor from wick_backend_descriptor()"
        return plugin
    plugin.descriptor = descriptor
    plugin.manager = pm
    if _major(descriptor.sdk_api_version) != _major(SDK_API_VERSION):
        plugin.error = (f"built for Wick delegate SDK API {descriptor.sdk_api_version}, but this Wick provides "
                        f"API {SDK_API_VERSION}; install a {plugin.distribution} release built for API "
                        f"{_major(SDK_API_VERSION)}.x")
    elif _minor(descriptor.sdk_api_version) > _minor(SDK_API_VERSION):
        plugin.error = (f"needs Wick delegate SDK API {descriptor.sdk_api_version} or newer, but this Wick provides "
                        f"API {SDK_API_VERSION}; upgrade wick")
    elif descriptor.runtime_library and not os.path.isfile(descriptor.runtime_library):
        plugin.error = f"runtime library {descriptor.runtime_library} does not exist; reinstall {plugin.distribution}"
    return plugin


_CACHE: list[Plugin] | None = None


def discover(refresh: bool = False) -> list[Plugin]:
    """All plugins of the entry-point group, loaded (cached per process)."""
    global _CACHE
    if _CACHE is None or refresh:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
        _CACHE = [_load(ep) for ep in sorted(eps, key=lambda e: e.name)]
    return _CACHE


def get(name: str) -> Plugin:
    """The working plugin named ``name``; a clear error otherwise."""
    found = [p for p in discover() if p.name == name]
    working = [p for p in found if not p.broken]
    if working:
        return working[0]
    if found:
        raise LookupError(f"backend plugin '{name}' (from {found[0].distribution}) is broken: {found[0].error}")
    names = ", ".join(sorted(p.name for p in discover() if not p.broken)) or "none"
    raise LookupError(f"no backend plugin named '{name}' is installed (installed: {names}); "
                      f"install it with `pip install wick-{name.replace('_', '-')}`")


def register_runtime(plugin: Plugin) -> str | None:
    """Registers the plugin's runtime library into this process's runtime
    backend registry, once. Returns None, or why it could not."""
    if plugin.runtime_registered or plugin.runtime_error:
        return plugin.runtime_error
    from . import runtime

    lib = plugin.descriptor.runtime_library if plugin.descriptor else None
    if not lib:
        # A Python-bridge backend registers its callables itself.
        try:
            plugin.hook.wick_backend_register_runtime(runtime=runtime)
        except BaseException as e:  # noqa: BLE001 - vendor code
            plugin.runtime_error = f"registering its Python runtime failed: {type(e).__name__}: {e}"
            return plugin.runtime_error
        if not any(b["name"] == plugin.name for b in runtime.registered_backends()):
            plugin.runtime_error = "the plugin has no runtime library and registered no Python runtime"
        else:
            plugin.runtime_registered = True
        return plugin.runtime_error

    outcome, message = runtime._runtime.try_load_backend_library(lib)
    if outcome in ("registered", "already_loaded"):
        plugin.runtime_registered = True
    elif outcome == "name_clash":
        plugin.runtime_error = _clash_message(plugin, runtime._runtime.registered_source_of(plugin.name), message)
    else:
        plugin.runtime_error = f"its runtime library {lib} failed to load: {message}"
    return plugin.runtime_error


def _clash_message(plugin: Plugin, other_source: str | None, message: str) -> str:
    """Two plugins (or a plugin and a library loaded by path) claim one
    backend name: name both packages."""
    owner = next((p for p in discover() if p is not plugin and p.descriptor is not None
                  and p.descriptor.runtime_library and other_source
                  and os.path.realpath(p.descriptor.runtime_library) == os.path.realpath(other_source)), None)
    other = (f"package {owner.distribution} {owner.distribution_version}" if owner
             else f"the library {other_source}" if other_source else "another registration")
    return (f"backend name '{plugin.name}' of package {plugin.distribution} {plugin.distribution_version} clashes "
            f"with {other}, registered first; uninstall one of them ({message})")


def why_not_registered(name: str) -> str:
    """Why the runtime has no backend `name`, in one sentence: not installed,
    installed but broken, or installed with a runtime that did not load."""
    found = [p for p in discover() if p.name == name]
    if not found:
        return (f"backend '{name}' is not installed: install its plugin package "
                f"(pip install wick-{name.replace('_', '-')}) or load its library (wick.runtime.load_backend_library)")
    p = found[0]
    if p.broken:
        return f"backend '{name}' is installed ({p.distribution} {p.distribution_version}) but broken: {p.error}"
    if p.runtime_error:
        return (f"backend '{name}' is installed ({p.distribution} {p.distribution_version}) but its runtime did not "
                f"register: {p.runtime_error}")
    return f"backend '{name}' is installed ({p.distribution} {p.distribution_version}) but was not registered"


def register_runtimes_for(backend_names: list[str]) -> None:
    """Before loading a program: registers the runtime halves of the working
    plugins it needs (unknown names are left for the runtime's own error)."""
    for plugin in discover():
        if plugin.name in backend_names and not plugin.broken:
            register_runtime(plugin)
