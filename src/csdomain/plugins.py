"""Finding and managing plugins (pluggy).

:func:`get_plugin_manager` builds a fresh manager: it adds the hook specs, blocks the
plugins named in ``CSDOMAIN_DISABLED_PLUGINS`` (comma-separated) or ``blocked``, loads
the ``csdomain`` entry points, registers csdomain's internal plugins and checks that
every implementation matches a spec. :func:`default_plugin_manager` caches one manager for
:func:`csdomain.open_store` and the CLI; :func:`register` adds a plugin object to it at run
time (tests, in-app adapters).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import attrs
import pluggy

from csdomain import hookspecs


__all__ = [
    "INTERNAL_PLUGINS",
    "PluginInfo",
    "default_plugin_manager",
    "get_plugin_manager",
    "list_plugins",
    "register",
    "reset_default_plugin_manager",
    "unregister",
]

#: Modules of the core package that implement hooks (notifiers, default event mapping).
INTERNAL_PLUGINS: tuple[str, ...] = ("csdomain.notify", "csdomain.notifiers")

_DEFAULT: pluggy.PluginManager | None = None


def _blocked_from_env() -> list[str]:
    raw = os.environ.get("CSDOMAIN_DISABLED_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def get_plugin_manager(
    *, load_entrypoints: bool = True, blocked: Iterable[str] = ()
) -> pluggy.PluginManager:
    """A new plugin manager with csdomain's hook specs and every installed plugin."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in [*blocked, *_blocked_from_env()]:
        pm.set_blocked(name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
    for module_name in INTERNAL_PLUGINS:
        if pm.is_blocked(module_name):
            continue
        pm.register(importlib.import_module(module_name), name=module_name)
    pm.check_pending()
    if os.environ.get("CSDOMAIN_TRACE_PLUGINS"):
        pm.trace.root.setwriter(print)
        pm.enable_tracing()
    return pm


def default_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager used by :func:`csdomain.open_store` (built on first use)."""
    global _DEFAULT  # noqa: PLW0603 - one cached manager per process, by design
    if _DEFAULT is None:
        _DEFAULT = get_plugin_manager()
    return _DEFAULT


def reset_default_plugin_manager() -> None:
    """Forget the cached default manager (the next use builds a new one)."""
    global _DEFAULT  # noqa: PLW0603
    _DEFAULT = None


def register(plugin: object, name: str | None = None) -> str:
    """Register a plugin object on the default manager; returns its name."""
    pm = default_plugin_manager()
    registered = pm.register(plugin, name=name)
    pm.check_pending()
    if registered is None:
        msg = f"plugin {name or plugin!r} is blocked or already registered"
        raise ValueError(msg)
    return registered


def unregister(name: str) -> None:
    """Remove a plugin registered with :func:`register`."""
    pm = default_plugin_manager()
    pm.unregister(name=name)


@attrs.frozen
class PluginInfo:
    """One loaded plugin: its name, distribution version and the hooks it implements."""

    name: str
    version: str | None
    distribution: str | None
    hooks: tuple[str, ...]


def _distribution_of(pm: pluggy.PluginManager, plugin: Any) -> tuple[str | None, str | None]:
    for loaded, dist in pm.list_plugin_distinfo():
        if loaded is plugin:
            meta: Any = dist.metadata
            return meta["name"], dist.version
    module = getattr(plugin, "__name__", "")
    if module.startswith("csdomain"):
        try:
            return "csdomain", metadata.version("csdomain")
        except metadata.PackageNotFoundError:
            return "csdomain", None
    return None, None


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Every plugin registered on ``pm`` (default manager if omitted), sorted by name."""
    pm = pm or default_plugin_manager()
    result = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        callers = pm.get_hookcallers(plugin) or []
        dist, version = _distribution_of(pm, plugin)
        result.append(
            PluginInfo(
                name=name,
                version=version,
                distribution=dist,
                hooks=tuple(sorted(caller.name for caller in callers)),
            )
        )
    return sorted(result, key=lambda info: info.name)
