"""Two dispatcher processes on one SQLite file deliver every message exactly once overall."""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain.clock import SystemClock
from csdomain.customers import Customer
from csdomain.desk.notifications import Dispatcher
from csdomain.hookspecs import hookimpl
from csdomain.kinds import CUSTOMERS, MESSAGES
from csdomain.notify import Message, MessageStatus, NotificationPolicy
from csdomain.orders import OrderShipped, ShipmentLine, ShippingMode
from csdomain.plugins import get_plugin_manager
from csdomain.store import open_store


DIRECT = 150
EVENTS = 50
#: No rest hours: the test must not depend on the time of day it runs at.
POLICY = NotificationPolicy(default_rest_hours=None, batch_size=20)


class FileNotifier:
    """A receiver that appends the idempotency key of each delivered message to a file."""

    def __init__(self, path: str, pause: float = 0.02) -> None:
        self.path = path
        self.pause = pause

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel not in ("file", "sms"):
            return None
        time.sleep(self.pause)  # a gateway takes a moment: lets the workers interleave
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(message.idempotency_key + "\n")
        return True


def run_worker(url: str, name: str, folder: str, go: Any, ready: Any) -> None:
    """One dispatcher process: say it is ready, wait for the start, run the loop until no
    message is due, then report."""
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(FileNotifier(str(Path(folder) / f"{name}.keys")))
    store = open_store(url)
    try:
        dispatcher = Dispatcher(store, pm, SystemClock(), policy=POLICY, worker_id=name)
        ready.set()
        go.wait(30)
        # a round can be idle for this worker while the other holds the due messages it
        # claimed: keep going until every message is delivered and the outbox relayed
        total = dispatcher.run_forever(0, until_idle=True)
        deadline = time.monotonic() + 60
        while not _all_done(store) and time.monotonic() < deadline:
            time.sleep(0.01)
            total += dispatcher.run_forever(0, until_idle=True)
    finally:
        store.close()
    summary = Path(folder) / f"{name}.json"
    summary.write_text(json.dumps(attrs.asdict(total)), encoding="utf-8")


def _all_done(store: Any) -> bool:
    """Whether every message is delivered and no outbox entry waits to be relayed."""
    with store.unit_of_work(readonly=True) as uow:
        waiting = uow.repo(MESSAGES).count(
            status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED]
        )
        return waiting == 0 and uow.outbox.count(status="pending") == 0


def seed(url: str) -> None:
    now = datetime.now(UTC)
    store = open_store(url)
    try:
        with store.unit_of_work() as uow:
            for n in range(EVENTS):
                uow.repo(CUSTOMERS).add(
                    Customer(
                        id=f"C-{n}",
                        code=f"SH-202611-C{n}-001",
                        name=f"Customer {n}",
                        phone=f"138{n:08d}",
                    )
                )
                uow.emit(
                    OrderShipped(
                        order_id=f"SO-{n}",
                        customer_id=f"C-{n}",
                        lines=(ShipmentLine("AB-100", 1),),
                        mode=ShippingMode.EXPRESS,
                        tracking=f"SF{n}",
                        expected_earliest=date(2026, 11, 4),
                        expected_latest=date(2026, 11, 5),
                        at=now,
                        by="wh-1",
                    ),
                    at=now,
                )
            uow.repo(MESSAGES).add_many(
                Message.create(
                    channel="file",
                    recipient="ops",
                    kind="dealer_announcement",
                    body=f"Announcement {n}",
                    at=now,
                    source=f"manual:{n}",
                )
                for n in range(DIRECT)
            )
    finally:
        store.close()


@pytest.mark.slow
def test_two_dispatcher_processes_deliver_each_message_exactly_once(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cs.db'}"
    seed(url)
    # spawned children import this module by name: make its package root importable
    monkeypatch.syspath_prepend(str(request.config.rootpath))
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    ready = {name: ctx.Event() for name in ("worker-a", "worker-b")}
    workers = [
        ctx.Process(target=run_worker, args=(url, name, str(tmp_path), go, ready[name]))
        for name in ("worker-a", "worker-b")
    ]
    for worker in workers:
        worker.start()
    # both set up (imports, store, plugins) before either starts: a slow start must not
    # let one process deliver everything before the other is there
    for name, event in ready.items():
        assert event.wait(60), f"{name} did not start"
    go.set()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]

    keys = {
        name: (tmp_path / f"{name}.keys").read_text(encoding="utf-8").split()
        if (tmp_path / f"{name}.keys").exists()
        else []
        for name in ("worker-a", "worker-b")
    }
    delivered = keys["worker-a"] + keys["worker-b"]
    totals = [
        json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("worker-a", "worker-b")
    ]
    store = open_store(url)
    try:
        with store.unit_of_work(readonly=True) as uow:
            messages = uow.repo(MESSAGES).find()
            pending_events = uow.outbox.count(status="pending")
    finally:
        store.close()

    assert len(messages) == DIRECT + EVENTS
    assert pending_events == 0
    assert sorted(delivered) == sorted(m.idempotency_key for m in messages)  # exactly once
    assert {(m.status, m.attempts) for m in messages} == {(MessageStatus.DELIVERED, 1)}
    assert sum(t["delivered"] for t in totals) == DIRECT + EVENTS
    assert sum(t["relayed"] for t in totals) == EVENTS
    assert all(keys.values()), "both processes delivered some of the messages"
