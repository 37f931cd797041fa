"""Dispatcher benchmarks: parallel delivery against a local HTTP receiver (issue 21).

Run with ``nox -s bench`` (or ``python benchmarks/bench_dispatch.py [--quick]``). The
script starts its own HTTP server on 127.0.0.1 (a thread, torn down at the end), stores
messages in a SQLite file and runs one :class:`~csdomain.desk.notifications.Dispatcher`
with the bundled :class:`~csdomain.notifiers.WebhookNotifier`:

- **throughput**: 2,000 messages to a channel that answers after 50 ms, from one
  dispatcher with the default channel limits; the target is at least 150 messages/s,
  and the same run one message at a time (``concurrency=1``) is the baseline;
- **isolation**: a fast channel's rate alone, against its rate while a slow channel (2 s
  per answer) has a backlog of its own; the target is "unchanged" (within 20 %).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from csdomain.clock import SystemClock
from csdomain.desk.notifications import Dispatcher
from csdomain.kinds import MESSAGES
from csdomain.notifiers import WebhookNotifier
from csdomain.notify import ChannelLimits, Message, NotificationPolicy
from csdomain.plugins import get_plugin_manager
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, print_table


SECRET = "bench-secret"  # noqa: S105 - a local benchmark's signing secret


class Receiver:
    """What the local server saw: per path, the moments requests were answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answered: dict[str, list[float]] = {}
        self.delays: dict[str, float] = {}

    def record(self, path: str) -> None:
        with self.lock:
            self.answered.setdefault(path, []).append(time.perf_counter())


@contextmanager
def local_server(receiver: Receiver) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers 200 after the path's delay."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            path = self.path.strip("/")
            delay = receiver.delays.get(path, 0.0)
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            receiver.record(path)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def seed(url: str, channel: str, target: str, count: int, prefix: str) -> None:
    now = datetime.now(UTC)
    store = open_store(url)
    try:
        with store.unit_of_work() as uow:
            uow.repo(MESSAGES).add_many(
                Message.create(
                    channel=channel,
                    recipient=target,
                    kind="dealer_announcement",
                    body=f"Announcement {n}",
                    at=now,
                    source=f"{prefix}:{n}",
                )
                for n in range(count)
            )
    finally:
        store.close()


def dispatch(url: str, policy: NotificationPolicy, *channels: str) -> float:
    """Run one dispatcher until nothing is due; its wall time in seconds."""
    pm = get_plugin_manager(load_entrypoints=False)
    for channel in channels:
        pm.register(WebhookNotifier(SECRET, channel=channel, proxies={}, timeout=30))
    store = open_store(url)
    try:
        dispatcher = Dispatcher(store, pm, SystemClock(), policy=policy, worker_id="bench")
        start = time.perf_counter()
        total = dispatcher.run_forever(0, until_idle=True)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    if total.delivered == 0:
        msg = f"nothing was delivered: {total}"
        raise RuntimeError(msg)
    return elapsed


def throughput(folder: Path, count: int, receiver: Receiver, base: str) -> Result:
    """Messages per second to a 50 ms channel: default limits against one at a time."""
    receiver.delays["slow50"] = 0.05
    rates = {}
    for name, concurrency in (("parallel", None), ("serial", 1)):
        url = f"sqlite:///{folder / f'throughput-{name}.db'}"
        size = count if concurrency is None else max(count // 10, 20)
        seed(url, "webhook", f"{base}/slow50", size, name)
        limits = {} if concurrency is None else {"webhook": ChannelLimits(concurrency=1)}
        policy = NotificationPolicy(default_rest_hours=None, channel_limits=limits)
        rates[name] = size / dispatch(url, policy, "webhook")
    print(f"throughput: {rates['parallel']:,.0f} messages/s ({count:,} messages, 50 ms channel)")
    return Result(
        f"{count:,} messages to a 50 ms channel, one dispatcher (messages/s)",
        rates["parallel"],
        rates["serial"],
        5.0,
        "one at a time",
        higher_is_better=True,
        unit="messages/s",
    )


def target_rate(result: Result) -> Result:
    """The issue's absolute target, as a ratio against 150 messages/s."""
    return Result(
        "the same run against the target rate",
        result.ours,
        150.0,
        1.0,
        "target",
        higher_is_better=True,
        unit="messages/s",
    )


def isolation(folder: Path, count: int, receiver: Receiver, base: str) -> Result:
    """A fast channel's rate alone, and while a slow channel is busy."""
    receiver.delays["slow2s"] = 2.0
    rates = {}
    for name in ("alone", "beside"):
        url = f"sqlite:///{folder / f'isolation-{name}.db'}"
        path = f"fast-{name}"
        if name == "beside":  # older than the fast messages: first in line, busy throughout
            seed(url, "slowhook", f"{base}/slow2s", 16, "slow")
        seed(url, "fasthook", f"{base}/{path}", count, "fast")
        policy = NotificationPolicy(
            default_rest_hours=None,
            channel_limits={"slowhook": ChannelLimits(concurrency=4)},
        )
        start = time.perf_counter()
        dispatch(url, policy, "fasthook", "slowhook")
        answered = receiver.answered[path]
        rates[name] = len(answered) / (max(answered) - start)
    print(f"fast channel alone {rates['alone']:,.0f}/s, beside a slow one {rates['beside']:,.0f}/s")
    return Result(
        f"fast channel ({count:,} messages) beside a slow one (2 s answers) (messages/s)",
        rates["beside"],
        rates["alone"],
        0.8,
        "fast channel alone",
        higher_is_better=True,
        unit="messages/s",
    )


def main() -> None:
    args = arguments(__doc__ or "")
    count = 300 if args.quick else 2000
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp, local_server(receiver) as base:
        folder = Path(tmp)
        rate = throughput(folder, count, receiver, base)
        results = [rate, target_rate(rate), isolation(folder, count // 2, receiver, base)]
    print_table("Dispatcher: parallel delivery to a local HTTP receiver", results)


if __name__ == "__main__":
    main()
