"""The guide's packaged notifier example, installed through its entry point and run by
``csdomain dispatch`` against a local group robot (issue 21, items 9 and 10)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from csdomain.kinds import MESSAGES
from csdomain.notify import Message, MessageStatus, WaitReason
from csdomain.store import open_store


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "robot_notifier"
SECRET = "robot-signing-secret-77"  # noqa: S105 - a test credential


def _installer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("robot_install", EXAMPLE / "install.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fenced(language: str, first_line: str) -> str:
    """The body of the guide's ``language`` code block that starts with ``first_line``."""
    guide = (ROOT / "docs" / "notifications.md").read_text(encoding="utf-8")
    pattern = rf"^```{language}\n({re.escape(first_line)}.*?)^```"
    found = re.search(pattern, guide, re.DOTALL | re.MULTILINE)
    assert found is not None, f"no {language} block starting {first_line!r} in the guide"
    return found.group(1)


def test_the_guide_shows_the_tested_package_word_for_word() -> None:
    """Rule: the guide's example is the package these tests install and run."""
    module = (EXAMPLE / "csdomain_robot" / "__init__.py").read_text(encoding="utf-8")
    project = (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    assert _fenced("python", '"""A group-robot notifier for csdomain') == module
    assert _fenced("toml", '[project]\nname = "csdomain-robot"') == project


def robot_signature(timestamp: str, secret: str) -> str:
    """The robot protocol's signature, computed here independently of the example."""
    text = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()


class Robot:
    """A local group robot: checks the signature, answers errcodes as told."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []


@pytest.fixture
def robot() -> Iterator[tuple[Robot, str]]:
    state = Robot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            query = parse_qs(urlsplit(self.path).query)
            expected = robot_signature(query.get("timestamp", ["0"])[0], SECRET)
            state.seen.append(
                {
                    "body": json.loads(body),
                    "headers": dict(self.headers.items()),
                    "signed": query.get("sign", [None])[0] == expected,
                }
            )
            answer = state.answers.pop(0) if state.answers else {"errcode": 0, "errmsg": "ok"}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=tok-9"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = _installer().install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop("csdomain_robot", None)


def test_the_installed_example_is_found_through_its_entry_point(installed: Path) -> None:
    from csdomain.plugins import broken_plugins, get_plugin_manager, list_plugins

    pm = get_plugin_manager(strict=True)
    [info] = [i for i in list_plugins(pm) if i.name == "robot"]
    assert (info.distribution, info.version, info.hooks) == (
        "csdomain-robot",
        "0.1.0",
        ("csdomain_deliver",),
    )
    assert broken_plugins(pm) == []


def _message(n: int, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "channel": "robot",
        "recipient": "ops-group",
        "kind": "complaint_escalated",
        "subject": f"Complaint CP-{n} escalated",
        "body": "Level 2: response overdue.",
        "at": datetime.now(UTC),
        "source": f"manual:{n}",
    }
    values.update(fields)
    return Message.create(**values)


def test_csdomain_dispatch_runs_the_packaged_notifier_with_its_configuration(
    installed: Path, robot: tuple[Robot, str], tmp_path: Path
) -> None:
    """Rule: an entry-point notifier gets its URL and secret through plugin_settings;
    rate limits defer, other errcodes fail, secrets never reach the stored errors."""
    state, url = robot
    state.answers = [{"errcode": 130101, "errmsg": "send too fast"}]
    store_url = f"sqlite:///{tmp_path / 'cs.db'}"
    messages = [_message(n) for n in range(3)]
    store = open_store(store_url)
    try:
        with store.unit_of_work() as uow:
            uow.repo(MESSAGES).add_many(messages)
    finally:
        store.close()
    config = tmp_path / "csdomain.toml"
    config.write_text(
        f'[notifications.channel_limits.robot]\nconcurrency = 1\n\n[plugins.robot]\nurl = "{url}"\n'
        "timeout = 5\nrate_limit_wait = 600\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed), *sys.path]),
        "CSDOMAIN_ROBOT_SECRET": SECRET,
        "CSDOMAIN_CONFIG": str(config),
    }
    result = subprocess.run(
        [sys.executable, "-m", "csdomain", "dispatch", "--once", "--store", store_url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "deferred 1, held 2" in result.stdout  # the robot's rate limit paused the channel

    store = open_store(store_url)
    try:
        with store.unit_of_work(readonly=True) as uow:
            after = {m.id: m for m in uow.repo(MESSAGES).find()}
    finally:
        store.close()
    [first] = state.seen
    assert first["signed"]
    assert first["headers"]["Idempotency-Key"] == first["body"]["msgid"]
    assert first["headers"]["X-Csdomain-Attempt"] == "1"
    deferred = [m for m in after.values() if m.waiting_for is WaitReason.RETRY_AFTER]
    assert len(deferred) == 1
    assert deferred[0].idempotency_key == first["body"]["msgid"]
    assert deferred[0].attempts == 0
    assert {m.status for m in after.values()} == {MessageStatus.PENDING}
    for message in after.values():
        for text in (message.last_error or "", *(c.note for c in message.history)):
            assert SECRET not in text
            assert "tok-9" not in text


def test_the_packaged_notifier_fails_on_other_errcodes_and_delivers_on_zero(
    installed: Path, robot: tuple[Robot, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from csdomain.clock import FixedClock
    from csdomain.notifiers import attempt_delivery
    from csdomain.notify import NotificationPolicy
    from csdomain.plugins import get_plugin_manager

    state, url = robot
    monkeypatch.setenv("CSDOMAIN_ROBOT_URL", url)
    monkeypatch.setenv("CSDOMAIN_ROBOT_SECRET", SECRET)
    monkeypatch.delenv("CSDOMAIN_CONFIG", raising=False)
    pm = get_plugin_manager(strict=True)
    policy = NotificationPolicy()
    now = datetime.now(UTC)
    clock = FixedClock(now)
    state.answers = [{"errcode": 310000, "errmsg": "keywords not in content"}]
    claimed = _message(1, at=now).claim("w-1", now, policy.lease)
    failed = attempt_delivery(claimed, pm, clock=clock, policy=policy)
    assert failed.waiting_for is WaitReason.BACKOFF
    assert failed.last_error == (
        f"DeliveryError: robot delivery of {claimed.id!r} failed: "
        "errcode 310000: keywords not in content"
    )
    again = failed.claim("w-1", failed.due_at or now, policy.lease)
    assert attempt_delivery(again, pm, clock=clock, policy=policy).status is (
        MessageStatus.DELIVERED
    )
    first, second = state.seen
    assert first["body"] == second["body"]  # the same message, recognisably
    assert [s["headers"]["X-Csdomain-Attempt"] for s in state.seen] == ["1", "2"]
    assert all(s["signed"] for s in state.seen)
