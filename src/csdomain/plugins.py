"""Finding and managing plugins (pluggy), and the settings of entry-point plugins.

:func:`get_plugin_manager` builds a fresh manager: it adds the hook specs, blocks the
plugins named in ``CSDOMAIN_DISABLED_PLUGINS`` (comma-separated) or ``blocked``, loads
the ``csdomain`` entry points one by one, registers csdomain's own plugins
(:data:`DEFAULT_PLUGINS`, the one place built-in hook implementations are registered) and
checks that every implementation matches a spec. An installed plugin that cannot be loaded
(a missing module, hooks that match no spec) is left out and reported, with its
entry-point name, distribution, error and how to disable it (:func:`broken_plugins`,
``csdomain plugins``): the rest works. :func:`default_plugin_manager` caches one manager
for :func:`csdomain.open_store` and the CLI; :func:`register` adds a plugin object to it
at run time (tests, in-app adapters).

:func:`plugin_settings` is the one way an entry-point plugin gets its configuration (URLs,
secrets) when ``csdomain dispatch`` runs it: the ``[plugins.<name>]`` table of the config
file (``--config``, ``$CSDOMAIN_CONFIG``), overridden by ``CSDOMAIN_<NAME>_<KEY>``
environment variables; secret values are masked in every stored error.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import re
import tomllib
import weakref
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs
import pluggy

from csdomain import hookspecs
from csdomain.errors import PluginError, ValidationError, describe


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_PLUGINS",
    "DEFAULT_TEMPLATES_PLUGIN",
    "DISABLED_ENV",
    "ESCALATION_NOTICES_PLUGIN",
    "INTERNAL_PLUGINS",
    "NOTIFIERS_PLUGIN",
    "BrokenPlugin",
    "PluginInfo",
    "PluginSettings",
    "broken_plugins",
    "config_file",
    "default_plugin_manager",
    "get_plugin_manager",
    "list_plugins",
    "plugin_settings",
    "read_config",
    "register",
    "reset_default_plugin_manager",
    "unregister",
    "use_config_file",
]

logger = logging.getLogger("csdomain.plugins")

#: The environment variable naming plugins not to load (comma-separated entry-point names).
DISABLED_ENV = "CSDOMAIN_DISABLED_PLUGINS"
#: The environment variable naming the config file (TOML) when ``--config`` is not given.
CONFIG_ENV = "CSDOMAIN_CONFIG"

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
    raw = os.environ.get(DISABLED_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


@attrs.frozen
class BrokenPlugin:
    """An installed plugin that could not be loaded, and how to turn it off."""

    #: The entry-point name (what ``CSDOMAIN_DISABLED_PLUGINS`` takes).
    name: str
    #: The distribution (package) that declares it, and its version.
    distribution: str | None
    version: str | None
    #: What the entry point points at (``"my_package.plugin"``).
    target: str
    #: The error, one line: ``"ModuleNotFoundError: No module named 'x'"``.
    error: str

    @property
    def disable(self) -> str:
        """The environment setting that skips this plugin."""
        return f"{DISABLED_ENV}={self.name}"

    def describe(self) -> str:
        """One line for people: what is broken, why, and how to disable it."""
        origin = self.distribution or "an unknown distribution"
        if self.version:
            origin = f"{origin} {self.version}"
        return (
            f"plugin {self.name!r} ({self.target}, from {origin}) cannot be loaded: "
            f"{self.error}; it is left out. Disable it with {self.disable} "
            f"or uninstall {self.distribution or 'its package'}"
        )


#: What each manager built here could not load, and where its plugins came from.
_BROKEN: weakref.WeakKeyDictionary[pluggy.PluginManager, tuple[BrokenPlugin, ...]] = (
    weakref.WeakKeyDictionary()
)
_ORIGINS: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _load_entry_points(pm: pluggy.PluginManager, *, strict: bool) -> tuple[BrokenPlugin, ...]:
    """Register every ``csdomain`` entry point on ``pm``, each on its own.

    One that fails to import, to register or to match the specs is unregistered and
    reported (or, with ``strict``, raised as :class:`~csdomain.errors.PluginError`).
    """
    broken: list[BrokenPlugin] = []
    origins: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for dist in metadata.distributions():
        for entry in dist.entry_points:
            if entry.group != hookspecs.PROJECT_NAME or entry.name in seen:
                continue
            seen.add(entry.name)
            if pm.is_blocked(entry.name) or pm.get_plugin(entry.name) is not None:
                continue
            meta: Any = dist.metadata
            name, version = meta["name"], dist.version
            try:
                pm.register(entry.load(), name=entry.name)
                pm.check_pending()
            except Exception as err:  # a third-party plugin's import or hooks
                if pm.get_plugin(entry.name) is not None:
                    pm.unregister(name=entry.name)
                info = BrokenPlugin(entry.name, name, version, entry.value, _one_line(err))
                if strict:
                    raise PluginError(info.describe()) from err
                logger.warning("%s", info.describe())
                broken.append(info)
                continue
            origins[entry.name] = (name, version)
    _ORIGINS[pm] = origins
    return tuple(broken)


def get_plugin_manager(
    *, load_entrypoints: bool = True, blocked: Iterable[str] = (), strict: bool = False
) -> pluggy.PluginManager:
    """A new plugin manager with csdomain's hook specs and every installed plugin.

    Adds the specs, blocks ``blocked`` and ``CSDOMAIN_DISABLED_PLUGINS``, loads the
    ``csdomain`` entry points (unless ``load_entrypoints`` is false), registers
    :data:`DEFAULT_PLUGINS` and checks every implementation against its spec. An
    installed plugin that cannot be loaded or does not match the specs is left out,
    logged and listed by :func:`broken_plugins`; with ``strict`` it raises
    :class:`~csdomain.errors.PluginError` instead (for a plugin author's tests).
    """
    if load_entrypoints is not True and load_entrypoints is not False:
        raise ValidationError.at("load_entrypoints", "expected True or False")
    if strict is not True and strict is not False:
        raise ValidationError.at("strict", "expected True or False")
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
    _BROKEN[pm] = _load_entry_points(pm, strict=strict) if load_entrypoints else ()
    try:
        for name, module in DEFAULT_PLUGINS:
            if not pm.is_blocked(name):
                pm.register(importlib.import_module(module), name=name)
        pm.check_pending()
    except Exception as err:  # csdomain's own plugins: a bug, but not a traceback
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


def broken_plugins(pm: pluggy.PluginManager | None = None) -> list[BrokenPlugin]:
    """The installed plugins ``pm`` (default manager if omitted) could not load, by name."""
    if pm is not None and not isinstance(pm, pluggy.PluginManager):
        raise ValidationError.at("pm", "expected a pluggy PluginManager")
    pm = pm or default_plugin_manager()
    return sorted(_BROKEN.get(pm, ()), key=lambda info: info.name)


def _distribution_of(
    pm: pluggy.PluginManager, name: str, plugin: Any
) -> tuple[str | None, str | None]:
    origin = _ORIGINS.get(pm, {}).get(name)
    if origin is not None:
        return origin
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
        dist, version = _distribution_of(pm, name, plugin)
        result.append(
            PluginInfo(
                name=name,
                version=version,
                distribution=dist,
                hooks=tuple(sorted(caller.name for caller in callers)),
            )
        )
    return sorted(result, key=lambda info: info.name)


# -- configuration of entry-point plugins ----------------------------------------------------

_CONFIG_FILE: Path | None = None
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api_?key|private_?key)$", re.IGNORECASE)


def use_config_file(path: str | os.PathLike[str] | None) -> None:
    """Make ``path`` the config file of this process (``csdomain dispatch --config``).

    ``None`` goes back to ``$CSDOMAIN_CONFIG``. The file must exist.
    """
    global _CONFIG_FILE  # noqa: PLW0603 - one config file per process, by design
    if path is None:
        _CONFIG_FILE = None
        return
    if not isinstance(path, str | os.PathLike):
        raise ValidationError.at("path", f"expected a file path, got {describe(path)}")
    found = Path(path)
    if not found.is_file():
        raise ValidationError.at("config", f"no config file at {describe(str(found))}")
    _CONFIG_FILE = found


def config_file() -> Path | None:
    """The config file in use: :func:`use_config_file`'s, else ``$CSDOMAIN_CONFIG``."""
    if _CONFIG_FILE is not None:
        return _CONFIG_FILE
    named = os.environ.get(CONFIG_ENV, "").strip()
    return Path(named) if named else None


def read_config(path: str | os.PathLike[str] | None = None) -> Mapping[str, Any]:
    """The config file (TOML) as a mapping; ``{}`` when no file is configured.

    ``path`` defaults to :func:`config_file`. A file that is named but missing or not
    TOML is a :class:`~csdomain.errors.ValidationError` naming it.
    """
    found = Path(path) if path is not None else config_file()
    if found is None:
        return {}
    try:
        with found.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValidationError.at("config", f"no config file at {describe(str(found))}") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"cannot read the config file {describe(str(found))}: {_one_line(err)}"
        raise ValidationError.at("config", msg) from None
    return data


def _env_prefix(plugin: str) -> str:
    return f"CSDOMAIN_{re.sub(r'[^A-Za-z0-9]', '_', plugin).upper()}_"


def _setting_text(value: object, path: str) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValidationError.at(path, f"expected text, a number or true/false, got {describe(value)}")


@attrs.frozen
class PluginSettings(Mapping[str, str]):
    """The settings of one plugin: a read-only mapping of lower-case keys to text.

    Read with :func:`plugin_settings`. ``source(key)`` says where a value came from;
    :meth:`require` names both places a missing value can be set. ``repr`` masks the
    secret values.
    """

    plugin: str
    data: Mapping[str, str] = attrs.field(repr=False)
    sources: Mapping[str, str] = attrs.field(repr=False)
    secrets: frozenset[str] = attrs.field(repr=False)
    config: Path | None = attrs.field(repr=False, default=None)

    def __getitem__(self, key: str) -> str:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def env_name(self, key: str) -> str:
        """The environment variable that sets ``key`` (``CSDOMAIN_ROBOT_URL``)."""
        return _env_prefix(self.plugin) + key.upper()

    def source(self, key: str) -> str:
        """Where ``key``'s value came from (an environment variable or the config file)."""
        return self.sources[key]

    def require(self, key: str) -> str:
        """The value of ``key``; a :class:`~csdomain.errors.PluginError` saying where to
        set it when it is missing or blank."""
        value = self.data.get(key, "")
        if not value.strip():
            where = str(self.config) if self.config is not None else f"${CONFIG_ENV}"
            msg = (
                f"plugin {self.plugin!r} needs the setting {key!r}: set {self.env_name(key)} "
                f"or {key} under [plugins.{self.plugin}] in the config file ({where})"
            )
            raise PluginError(msg)
        return value

    def number(self, key: str, default: float) -> float:
        """``key`` as a finite number (``default`` when unset)."""
        raw = self.data.get(key)
        if raw is None or not raw.strip():
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = f"plugin {self.plugin!r}: {key} must be a number, got {describe(raw)}"
            raise PluginError(msg)
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        """``key`` as true/false (``1/0``, ``yes/no``, ``on/off``; ``default`` when unset)."""
        raw = self.data.get(key)
        if raw is None or not raw.strip():
            return default
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        msg = f"plugin {self.plugin!r}: {key} must be true or false, got {describe(raw)}"
        raise PluginError(msg)

    def __repr__(self) -> str:
        shown = {k: "***" if k in self.secrets else v for k, v in sorted(self.data.items())}
        return f"PluginSettings({self.plugin!r}, {shown!r})"


def plugin_settings(
    plugin: str,
    *,
    secrets: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    config: str | os.PathLike[str] | None = None,
) -> PluginSettings:
    """The settings of ``plugin``: its config-file table, then its environment variables.

    1. the ``[plugins.<plugin>]`` table of the config file (``config``, else
       :func:`config_file`: ``csdomain dispatch --config FILE`` or ``$CSDOMAIN_CONFIG``);
    2. every ``CSDOMAIN_<PLUGIN>_<KEY>`` environment variable (``PLUGIN`` upper-cased,
       other characters as ``_``), which wins over the file.

    Keys are lower-case. The values of ``secrets`` and of keys ending in ``secret``,
    ``token``, ``password`` or ``api_key`` are registered with
    :func:`csdomain.notifiers.register_secret`, so they never appear in a stored error.
    Read the settings when the plugin first needs them (not at import time), so the
    config file of the command that runs it is in place.
    """
    if not isinstance(plugin, str) or not plugin.strip():
        raise ValidationError.at("plugin", "expected the plugin's name")
    if isinstance(secrets, str) or not all(isinstance(k, str) for k in secrets):
        raise ValidationError.at("secrets", "expected a list of setting names")
    env = os.environ if environ is None else environ
    path = Path(config) if config is not None else config_file()
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    table = read_config(path).get("plugins", {}).get(plugin, {}) if path is not None else {}
    if not isinstance(table, Mapping):
        raise ValidationError.at(f"plugins.{plugin}", "expected a table of settings")
    for key, value in table.items():
        name = str(key).lower()
        values[name] = _setting_text(value, f"plugins.{plugin}.{key}")
        sources[name] = f"{path} [plugins.{plugin}]"
    prefix = _env_prefix(plugin)
    for name, value in env.items():
        if name.upper().startswith(prefix) and len(name) > len(prefix):
            key = name[len(prefix) :].lower()
            values[key] = value
            sources[key] = name
    secret_keys = frozenset(
        {k.lower() for k in secrets} | {k for k in values if _SECRET_KEY.search(k)}
    )
    from csdomain.notifiers import register_secret  # noqa: PLC0415 - notifiers need plugins' hooks

    for key in secret_keys & values.keys():
        register_secret(values[key])
    return PluginSettings(plugin, values, sources, secret_keys, path)
