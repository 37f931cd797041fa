"""Finding and managing plugins (pluggy).

:func:`get_plugin_manager` builds a fresh manager: it adds the hook specs, blocks the
plugins named in ``CSDOMAIN_DISABLED_PLUGINS`` (comma-separated) or ``blocked``, loads
the ``csdomain`` entry points, registers csdomain's own plugins (:data:`DEFAULT_PLUGINS`,
the one place built-in hook implementations are registered) and checks that every
implementation matches a spec. :func:`default_plugin_manager` caches one manager for
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
from csdomain.errors import PluginError, ValidationError, describe


__all__ = [
    "DEFAULT_PLUGINS",
    "DEFAULT_TEMPLATES_PLUGIN",
    "ESCALATION_NOTICES_PLUGIN",
    "INTERNAL_PLUGINS",
    "NOTIFIERS_PLUGIN",
    "PluginInfo",
    "default_plugin_manager",
    "get_plugin_manager",
    "list_plugins",
    "register",
    "reset_default_plugin_manager",
    "unregister",
]

#: Plugin name of the customer notices csdomain sends for its own events.
DEFAULT_TEMPLATES_PLUGIN = "csdomain.notify"
#: Plugin name of the notices to the new owner of an escalated complaint.
ESCALATION_NOTICES_PLUGIN = "csdomain.escalation_notices"
#: Plugin name of the bundled ``"log"`` notifier.
NOTIFIERS_PLUGIN = "csdomain.notifiers"

#: csdomain's own hook implementations, as ``(plugin name, module)``: every built-in is
#: registered here by :func:`get_plugin_manager` and nowhere else, like any other plugin
#: (llm's and datasette's ``DEFAULT_PLUGINS``). Block a name to turn that part off.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    (DEFAULT_TEMPLATES_PLUGIN, "csdomain.notify.default_templates"),
    (ESCALATION_NOTICES_PLUGIN, "csdomain.notify.escalation_notices"),
    (NOTIFIERS_PLUGIN, "csdomain.notifiers"),
)

#: The names of the built-in plugins (the first column of :data:`DEFAULT_PLUGINS`).
INTERNAL_PLUGINS: tuple[str, ...] = tuple(name for name, _ in DEFAULT_PLUGINS)

_DEFAULT: pluggy.PluginManager | None = None


def _blocked_from_env() -> list[str]:
    raw = os.environ.get("CSDOMAIN_DISABLED_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def get_plugin_manager(
    *, load_entrypoints: bool = True, blocked: Iterable[str] = ()
) -> pluggy.PluginManager:
    """A new plugin manager with csdomain's hook specs and every installed plugin.

    Adds the specs, blocks ``blocked`` and ``CSDOMAIN_DISABLED_PLUGINS``, loads the
    ``csdomain`` entry points (unless ``load_entrypoints`` is false), registers
    :data:`DEFAULT_PLUGINS` and checks every implementation against its spec. An
    installed plugin that cannot be loaded or does not match the specs raises
    :class:`~csdomain.errors.PluginError`.
    """
    if load_entrypoints is not True and load_entrypoints is not False:
        raise ValidationError.at("load_entrypoints", "expected True or False")
    if isinstance(blocked, str) or not isinstance(blocked, Iterable):
        raise ValidationError.at("blocked", "expected a list of plugin names")
    names = [*blocked, *_blocked_from_env()]
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.at(f"blocked.{i}", "expected a plugin name")
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in names:
        pm.set_blocked(name)
    try:
        if load_entrypoints:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
        for name, module in DEFAULT_PLUGINS:
            if not pm.is_blocked(name):
                pm.register(importlib.import_module(module), name=name)
        pm.check_pending()
    except Exception as err:  # a third-party plugin's import or hooks: not ours to leak
        msg = f"cannot load the csdomain plugins: {type(err).__name__}: {err}"
        raise PluginError(msg) from err
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
    """Register a plugin object on the default manager; returns its name.

    A plugin that is blocked or already registered is refused with
    :class:`~csdomain.errors.ValidationError`; one whose hooks do not match the specs with
    :class:`~csdomain.errors.PluginError` (and is not kept).
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValidationError.at("name", "expected a plugin name")
    pm = default_plugin_manager()
    try:
        registered = pm.register(plugin, name=name)
    except ValueError as err:  # pluggy: this name or object is registered already
        raise ValidationError.at("plugin", str(err)) from None
    except pluggy.PluginValidationError as err:
        raise PluginError(str(err)) from None
    if registered is None:
        msg = f"plugin {name or describe(plugin)} is blocked or already registered"
        raise ValidationError.at("plugin", msg)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        pm.unregister(name=registered)
        raise PluginError(str(err)) from None
    return registered


def unregister(name: str) -> None:
    """Remove a plugin registered with :func:`register` (``ValidationError`` if none is)."""
    pm = default_plugin_manager()
    if not isinstance(name, str) or pm.get_plugin(name) is None:
        raise ValidationError.at("name", f"no plugin {describe(name)} is registered")
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
    if pm is not None and not isinstance(pm, pluggy.PluginManager):
        raise ValidationError.at("pm", "expected a pluggy PluginManager")
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
