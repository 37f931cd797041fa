"""Plugin system rules: discovery through entry points, documentation, listing, blocking."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import csdomain
import csdomain.plugins
from csdomain import hookspecs
from csdomain.errors import BackendNotFound, PluginError, ValidationError
from csdomain.store import open_store


ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name in hookspecs.__all__ if name.startswith("csdomain_"))


def test_hook_names_are_prefixed_and_every_spec_is_in_all() -> None:
    specs = sorted(n for n, _ in inspect.getmembers(hookspecs) if n.startswith("csdomain_"))
    assert specs == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    guide = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
    signature = f"{hook}({', '.join(inspect.signature(getattr(hookspecs, hook)).parameters)}"
    assert f"### `{hook}(" in guide
    assert signature in guide
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    assert f"def test_hook_{hook}" in sources


def test_hook_csdomain_open_store_finds_bundled_backends_through_entry_points() -> None:
    pm = csdomain.plugins.get_plugin_manager()
    names = {info.name for info in csdomain.plugins.list_plugins(pm)}
    assert {"memory", "sqlite"} <= names
    backend = pm.hook.csdomain_open_store(url="memory://")
    assert type(backend).__name__ == "MemoryBackend"
    assert pm.hook.csdomain_open_store(url="nobody://here") is None


def test_core_finds_backends_only_through_pluggy() -> None:
    code = (
        "import sys, csdomain, csdomain.store, csdomain.plugins\n"
        "assert 'csdomain_sqlite' not in sys.modules and 'sqlite3' not in sys.modules\n"
        "pm = csdomain.plugins.get_plugin_manager(load_entrypoints=False)\n"
        "try:\n"
        "    csdomain.store.open_store('sqlite://', plugin_manager=pm)\n"
        "except csdomain.BackendNotFound as err:\n"
        "    print('not found:', err)\n"
        "store = csdomain.store.open_store('sqlite://')\n"
        "print(type(store.backend).__module__)\n"
        "store.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "not found: no backend for 'sqlite' URLs" in result.stdout
    assert "csdomain_sqlite.backend" in result.stdout


def test_unknown_scheme_lists_installed_schemes() -> None:
    with pytest.raises(BackendNotFound) as info:
        open_store("postgresqlx://somewhere/db")
    assert "memory" in str(info.value)
    assert "sqlite" in str(info.value)
    assert {"memory", "sqlite"} <= set(info.value.schemes)


def test_a_url_without_scheme_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        open_store("cs.db")


def test_plugins_can_be_registered_and_removed_at_run_time() -> None:
    class Answering:
        SCHEMES = ("answer",)

        @csdomain.hookimpl
        def csdomain_open_store(self, url: str) -> object | None:
            from csdomain_memory import MemoryBackend

            return MemoryBackend(url) if url.startswith("answer:") else None

    name = csdomain.plugins.register(Answering(), name="answering")
    try:
        store = open_store("answer://")
        assert store.url == "answer://"
        listed = {info.name: info for info in csdomain.plugins.list_plugins()}
        assert listed["answering"].hooks == ("csdomain_open_store",)
    finally:
        csdomain.plugins.unregister(name)
    with pytest.raises(BackendNotFound):
        open_store("answer://")


def test_blocked_plugins_are_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSDOMAIN_DISABLED_PLUGINS", "sqlite, other")
    pm = csdomain.plugins.get_plugin_manager()
    assert pm.is_blocked("sqlite")
    assert pm.hook.csdomain_open_store(url="sqlite://") is None
    with pytest.raises(BackendNotFound):
        open_store("sqlite://", plugin_manager=pm)


def test_list_plugins_reports_distribution_and_version() -> None:
    infos = {
        i.name: i for i in csdomain.plugins.list_plugins(csdomain.plugins.get_plugin_manager())
    }
    assert infos["sqlite"].distribution == "csdomain"
    assert infos["sqlite"].version == csdomain.__version__
    assert infos["memory"].hooks == ("csdomain_open_store",)


# -- the built-in plugins ----------------------------------------------------------------


def test_built_in_hook_implementations_are_registered_from_one_table() -> None:
    """Rule: csdomain's own hooks are plugins like any other, registered in one place."""
    pm = csdomain.plugins.get_plugin_manager(load_entrypoints=False)
    registered = dict(pm.list_name_plugin())
    assert set(registered) == {name for name, _ in csdomain.plugins.DEFAULT_PLUGINS}
    for name, module in csdomain.plugins.DEFAULT_PLUGINS:
        assert registered[name] is importlib.import_module(module)
    assert tuple(registered) == csdomain.plugins.INTERNAL_PLUGINS
    assert (
        csdomain.plugins.ESCALATION_NOTICES_PLUGIN,
        "csdomain.notify.escalation_notices",
    ) in csdomain.plugins.DEFAULT_PLUGINS


@pytest.mark.parametrize("name", [name for name, _ in csdomain.plugins.DEFAULT_PLUGINS])
def test_each_built_in_plugin_can_be_blocked_by_name(name: str) -> None:
    pm = csdomain.plugins.get_plugin_manager(load_entrypoints=False, blocked=[name])
    assert pm.is_blocked(name)
    assert pm.get_plugin(name) is None
    others = {n for n, _ in csdomain.plugins.DEFAULT_PLUGINS} - {name}
    assert {n for n, plugin in pm.list_name_plugin() if plugin is not None} == others


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"blocked": "sqlite"}, "blocked"),
        ({"blocked": [3]}, "blocked.0"),
        ({"load_entrypoints": "no"}, "load_entrypoints"),
    ],
)
def test_plugin_manager_arguments_are_checked(arguments: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        csdomain.plugins.get_plugin_manager(**arguments)
    assert info.value.errors[0][0] == path


def test_registering_a_plugin_twice_or_with_unknown_hooks_is_refused() -> None:
    class Quiet:
        @csdomain.hookimpl
        def csdomain_deliver(self, message: object) -> bool | None:
            return None

    class Misspelt:
        @csdomain.hookimpl
        def csdomain_delivr(self, message: object) -> bool | None:
            return None

    plugin = Quiet()
    name = csdomain.plugins.register(plugin, name="quiet-for-test")
    try:
        with pytest.raises(ValidationError):
            csdomain.plugins.register(plugin, name="quiet-again")
        with pytest.raises(ValidationError):
            csdomain.plugins.register(Quiet(), name="quiet-for-test")
    finally:
        csdomain.plugins.unregister(name)
    with pytest.raises(PluginError, match="csdomain_delivr"):
        csdomain.plugins.register(Misspelt(), name="misspelt")
    assert csdomain.plugins.default_plugin_manager().get_plugin("misspelt") is None
    with pytest.raises(ValidationError, match="quiet-for-test"):
        csdomain.plugins.unregister("quiet-for-test")


def install_fake_distribution(
    folder: Path, name: str, entry_points: dict[str, str], version: str = "1.0"
) -> None:
    """What ``pip install`` leaves for a distribution: a ``.dist-info`` with entry points."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[csdomain]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    info.joinpath("entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution whose plugin module is missing (issue 21's repro)."""
    install_fake_distribution(
        tmp_path, "csdomain-broken", {"broken": "csdomain_broken_missing.plugin"}, "0.3"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_plugin_that_cannot_be_imported_is_a_plugin_error_when_strict(
    broken_distribution: Path,
) -> None:
    with pytest.raises(PluginError, match="csdomain_broken_missing"):
        csdomain.plugins.get_plugin_manager(strict=True)


def test_a_plugin_that_cannot_be_loaded_is_left_out_and_reported(
    broken_distribution: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule (issue 21): a broken third-party plugin is contained; the rest works."""
    with caplog.at_level("WARNING", logger="csdomain.plugins"):
        pm = csdomain.plugins.get_plugin_manager()
    [broken] = csdomain.plugins.broken_plugins(pm)
    assert (broken.name, broken.distribution, broken.version) == (
        "broken",
        "csdomain-broken",
        "0.3",
    )
    assert broken.target == "csdomain_broken_missing.plugin"
    assert broken.error == "ModuleNotFoundError: No module named 'csdomain_broken_missing'"
    assert broken.disable == "CSDOMAIN_DISABLED_PLUGINS=broken"
    assert "CSDOMAIN_DISABLED_PLUGINS=broken" in caplog.text
    assert "csdomain-broken 0.3" in caplog.text
    assert {"memory", "sqlite"} <= {info.name for info in csdomain.plugins.list_plugins(pm)}
    assert open_store("memory://", plugin_manager=pm).url == "memory://"


def test_a_disabled_broken_plugin_is_not_reported(
    broken_distribution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSDOMAIN_DISABLED_PLUGINS", "broken")
    pm = csdomain.plugins.get_plugin_manager(strict=True)
    assert csdomain.plugins.broken_plugins(pm) == []


def test_a_plugin_with_hooks_that_match_no_spec_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "csdomain_misspelt_plugin.py").write_text(
        "import csdomain\n\n@csdomain.hookimpl\ndef csdomain_delivr(message):\n    return None\n",
        encoding="utf-8",
    )
    install_fake_distribution(tmp_path, "misspelt", {"misspelt": "csdomain_misspelt_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = csdomain.plugins.get_plugin_manager()
    [broken] = csdomain.plugins.broken_plugins(pm)
    assert broken.name == "misspelt"
    assert "csdomain_delivr" in broken.error
    assert pm.get_plugin("misspelt") is None


def test_cli_plugins_lists_a_broken_plugin_and_every_other_command_still_works(
    broken_distribution: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(broken_distribution), *sys.path])}
    listed = subprocess.run(
        [sys.executable, "-m", "csdomain", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "broken" in listed.stdout
    assert "ModuleNotFoundError" in listed.stdout
    assert "csdomain-broken 0.3" in listed.stdout
    assert "CSDOMAIN_DISABLED_PLUGINS=broken" in listed.stdout
    assert "Traceback" not in listed.stderr
    store = tmp_path / "cs.db"  # a store on file: the CLI refuses an in-memory one to read
    open_store(f"sqlite:///{store}").close()
    other = subprocess.run(
        [sys.executable, "-m", "csdomain", "outbox", "--store", f"sqlite:///{store}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "Traceback" not in other.stderr
    assert "CSDOMAIN_DISABLED_PLUGINS=broken" in other.stderr  # one warning line
    assert len(other.stderr.splitlines()) <= 3


# -- settings of entry-point plugins -------------------------------------------------------


def test_plugin_settings_come_from_the_config_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "csdomain.toml"
    config.write_text(
        '[plugins.group-robot]\nurl = "https://oapi.example.com/robot/send"\n'
        'timeout = 5\nsecret = "from-file-secret"\nsigned = true\n',
        encoding="utf-8",
    )
    env = {"CSDOMAIN_GROUP_ROBOT_SECRET": "env-secret-123", "CSDOMAIN_OTHER_URL": "x"}
    settings = csdomain.plugins.plugin_settings("group-robot", environ=env, config=config)
    assert settings.require("url") == "https://oapi.example.com/robot/send"
    assert settings["secret"] == "env-secret-123"  # noqa: S105 - the environment wins
    assert settings.source("secret") == "CSDOMAIN_GROUP_ROBOT_SECRET"
    assert settings.number("timeout", 10) == 5
    assert settings.flag("signed", default=False) is True
    assert "other" not in settings
    assert "url" in settings
    assert "env-secret-123" not in repr(settings)
    from csdomain.notifiers import redact_secrets

    assert redact_secrets("bad signature env-secret-123") == "bad signature ***"
    with pytest.raises(PluginError) as missing:
        settings.require("token")
    assert "CSDOMAIN_GROUP_ROBOT_TOKEN" in str(missing.value)
    assert "[plugins.group-robot]" in str(missing.value)
    with pytest.raises(PluginError, match="timeout"):
        csdomain.plugins.plugin_settings(
            "group-robot", environ={"CSDOMAIN_GROUP_ROBOT_TIMEOUT": "soon"}, config=config
        ).number("timeout", 1)


def test_the_config_file_is_named_by_option_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cs.toml"
    config.write_text('[plugins.robot]\nurl = "http://127.0.0.1:9/"\n', encoding="utf-8")
    monkeypatch.setenv("CSDOMAIN_CONFIG", str(config))
    assert csdomain.plugins.config_file() == config
    assert csdomain.plugins.plugin_settings("robot", environ={})["url"] == "http://127.0.0.1:9/"
    other = tmp_path / "other.toml"
    other.write_text("[plugins.robot]\nurl = 'http://127.0.0.1:8/'\n", encoding="utf-8")
    csdomain.plugins.use_config_file(other)
    try:
        assert csdomain.plugins.plugin_settings("robot", environ={})["url"] == "http://127.0.0.1:8/"
    finally:
        csdomain.plugins.use_config_file(None)
    with pytest.raises(ValidationError, match="config"):
        csdomain.plugins.use_config_file(tmp_path / "typo.toml")
    (tmp_path / "bad.toml").write_text("url = = 1", encoding="utf-8")
    with pytest.raises(ValidationError, match="cannot read the config file"):
        csdomain.plugins.read_config(tmp_path / "bad.toml")
