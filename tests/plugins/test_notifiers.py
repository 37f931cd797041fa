"""The bundled notifiers against real local servers: SMTP (aiosmtpd) and HTTP webhooks."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from csdomain import notifiers
from csdomain.clock import FixedClock
from csdomain.errors import ValidationError
from csdomain.hookspecs import hookimpl
from csdomain.notifiers import (
    DeliveryError,
    LogNotifier,
    SmsFileNotifier,
    SmsGatewayNotifier,
    SmtpNotifier,
    SmtpSettings,
    WebhookNotifier,
    attempt_delivery,
    sign_body,
    verify_signature,
)
from csdomain.notify import (
    Message,
    MessageStatus,
    NotificationPolicy,
    RetryAfter,
    WaitReason,
    hold_for_quiet_hours,
)
from csdomain.plugins import get_plugin_manager


AT = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
PASSWORD = "s3cr3t-Pa55"  # noqa: S105 - a test credential
HOOK_SECRET = "hook-signing-secret-42"  # noqa: S105 - a test credential


def message(channel: str, recipient: str, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": channel,
        "recipient": recipient,
        "kind": "order_shipped",
        "subject": "Order SO-1 shipped",
        "body": "Your order SO-1 has been shipped. 您的订单已发货。",
        "at": AT,
        "customer_id": "C-1",
        "source": "OrderShipped:evt-1",
    }
    fields.update(changes)
    return Message.create(**fields)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def manager(*plugins: object) -> Any:
    pm = get_plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return pm


# -- SMTP --------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"cs", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=check_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def test_smtp_notifier_delivers_email_to_a_local_server(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    notifier = SmtpNotifier.from_url(
        f"smtp://127.0.0.1:{port}?from=cs@example.com&starttls=0&timeout=10"
    )
    pm = manager(notifier)
    sent = message("email", "li@example.com")
    assert pm.hook.csdomain_deliver(message=sent) is True
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "cs@example.com"
    assert envelope.rcpt_tos == ["li@example.com"]
    [mail] = mailbox.messages()
    assert mail["Subject"] == "Order SO-1 shipped"
    assert mail["To"] == "li@example.com"
    assert mail["X-Idempotency-Key"] == sent.idempotency_key
    assert mail["Message-ID"].endswith("@example.com>")
    assert "您的订单已发货" in mail.get_content()


def test_the_same_message_sent_twice_keeps_one_message_id(
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp_server
    notifier = SmtpNotifier.from_url(f"smtp://127.0.0.1:{port}?from=cs@example.com")
    sent = message("email", "li@example.com")
    notifier.deliver(sent)
    notifier.deliver(sent)
    other = notifier.deliver(message("email", "li@example.com", source="OrderShipped:evt-2"))
    assert other is True
    ids = [m["Message-ID"] for m in mailbox.messages()]
    assert ids[0] == ids[1] != ids[2]


def test_smtp_login_uses_the_url_credentials(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    notifier = SmtpNotifier.from_url(
        f"smtp://cs:{PASSWORD}@127.0.0.1:{port}?from=cs@example.com&starttls=0&timeout=10"
    )
    assert notifier.deliver(message("email", "li@example.com")) is True
    assert len(mailbox.envelopes) == 1


def test_smtp_login_failure_raises_without_revealing_the_password(
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp_server
    wrong = "Wr0ng-" + PASSWORD
    notifier = SmtpNotifier.from_url(f"smtp://cs:{wrong}@127.0.0.1:{port}?from=cs@example.com")
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(message("email", "li@example.com"))
    assert "SMTPAuthenticationError" in str(info.value)
    assert wrong not in str(info.value)
    assert info.value.__cause__ is None
    assert mailbox.envelopes == []


def test_smtp_server_down_raises_delivery_error() -> None:
    port = free_port()
    notifier = SmtpNotifier.from_url(
        f"smtp://cs:{PASSWORD}@127.0.0.1:{port}?from=cs@example.com&timeout=5"
    )
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(message("email", "li@example.com"))
    assert info.value.channel == "email"
    assert "ConnectionRefusedError" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_smtp_secrets_never_appear_in_repr() -> None:
    url = f"smtp://cs:{PASSWORD}@mail.example.com:2525?from=cs@example.com&starttls=1&timeout=7"
    notifier = SmtpNotifier.from_url(url)
    settings = notifier.settings
    assert settings.password == PASSWORD
    assert (settings.port, settings.starttls, settings.timeout) == (2525, True, 7.0)
    for text in (repr(notifier), repr(settings), str(settings), settings.url):
        assert PASSWORD not in text
        assert "***" in text


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (f"http://cs:{PASSWORD}@h?from=a@b.c", "url"),
        (f"smtp://cs:{PASSWORD}@h", "url.from"),
        (f"smtp://cs:{PASSWORD}@h:99999?from=a@b.c", "url"),
        (f"smtp://cs:{PASSWORD}@h?from=a@b.c&timeout=soon", "url.timeout"),
        (f"smtp://cs:{PASSWORD}@h?from=a@b.c&timeout=-1", "url.timeout"),
        (f"smtp://cs:{PASSWORD}@h?from=a@b.c&starttls=maybe", "url.starttls"),
        (f"smtp://cs:{PASSWORD}@h?from=a@b.c&pasword=x", "url.query"),
        (f"smtp://cs:{PASSWORD}@h?from=nobody", "url.sender"),
    ],
)
def test_bad_smtp_urls_are_validation_errors_without_the_password(url: str, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        SmtpNotifier.from_url(url)
    assert info.value.errors[0][0] == path
    assert PASSWORD not in str(info.value)


def test_smtps_urls_use_implicit_tls_on_port_465() -> None:
    settings = SmtpSettings.from_url("smtps://mail.example.com?from=cs@example.com")
    assert (settings.ssl, settings.starttls, settings.port) == (True, False, 465)


# -- webhooks ------------------------------------------------------------------------------


class Receiver:
    """What the webhook receiver saw, and how it answers."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.requests: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def webhook_server() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append((dict(self.headers.items()), body))
            self.send_response(receiver.status)
            if receiver.status in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/hooks/cs"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_webhook_posts_signed_json_that_the_receiver_verifies(
    webhook_server: tuple[Receiver, str],
) -> None:
    receiver, url = webhook_server
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5)
    pm = manager(notifier)
    sent = message("webhook", url)
    assert pm.hook.csdomain_deliver(message=sent) is True
    [(headers, body)] = receiver.requests
    assert verify_signature(body, headers["X-Csdomain-Signature"], HOOK_SECRET)
    assert headers["X-Csdomain-Signature"] == sign_body(body, HOOK_SECRET)
    assert headers["X-Idempotency-Key"] == sent.idempotency_key
    assert headers["Content-Type"] == "application/json"
    payload = orjson.loads(body)
    assert payload["id"] == sent.id
    assert payload["body"] == sent.body
    assert payload["kind"] == "order_shipped"


def test_webhook_signature_rejects_tampering_and_wrong_secrets() -> None:
    body = b'{"id":"msg-1"}'
    header = sign_body(body, HOOK_SECRET)
    assert header.startswith("sha256=")
    assert verify_signature(body, header, HOOK_SECRET.encode())
    assert not verify_signature(body + b" ", header, HOOK_SECRET)
    assert not verify_signature(body, header, "another-secret")
    assert not verify_signature(body, None, HOOK_SECRET)
    assert not verify_signature(body, "sha256=" + "0" * 64, HOOK_SECRET)


@pytest.mark.parametrize("status", [400, 404, 500, 503, 302])
def test_webhook_non_2xx_answers_raise(webhook_server: tuple[Receiver, str], status: int) -> None:
    receiver, url = webhook_server
    receiver.status = status
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5)
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(message("webhook", url))
    assert f"HTTP {status}" in str(info.value)
    assert HOOK_SECRET not in str(info.value)
    assert len(receiver.requests) == 1


def test_webhook_accepts_any_2xx(webhook_server: tuple[Receiver, str]) -> None:
    receiver, url = webhook_server
    receiver.status = 204
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5)
    assert notifier.deliver(message("webhook", url)) is True


def test_webhook_server_down_raises_delivery_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/cs"
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5)
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(message("webhook", url))
    assert "Connection refused" in str(info.value) or "URLError" in str(info.value)
    assert HOOK_SECRET not in str(info.value)


def test_webhook_refuses_urls_that_are_not_http() -> None:
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={})
    with pytest.raises(DeliveryError, match="http"):
        notifier.deliver(message("webhook", "file:///etc/passwd"))


def test_webhook_secret_never_appears_in_repr_and_is_required() -> None:
    notifier = WebhookNotifier(secret=HOOK_SECRET, url="https://hooks.example.com/cs")
    assert HOOK_SECRET not in repr(notifier)
    assert "***" in repr(notifier)
    with pytest.raises(ValidationError, match="secret"):
        WebhookNotifier(secret="")


def test_webhook_falls_back_to_its_configured_url(webhook_server: tuple[Receiver, str]) -> None:
    receiver, url = webhook_server
    notifier = WebhookNotifier(secret=HOOK_SECRET, url=url, proxies={}, timeout=5)
    to_ops = attrs.evolve(message("webhook", "placeholder", customer_id=None), recipient="")
    assert notifier.deliver(to_ops) is True
    assert len(receiver.requests) == 1


# -- routing and the dispatcher's step ---------------------------------------------------


def test_hook_csdomain_deliver_routes_each_channel_to_its_notifier(
    smtp_server: tuple[Mailbox, int],
    webhook_server: tuple[Receiver, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox, port = smtp_server
    receiver, url = webhook_server
    pm = manager(
        notifiers,
        SmtpNotifier.from_url(f"smtp://127.0.0.1:{port}?from=cs@example.com"),
        WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5),
    )
    with caplog.at_level(logging.INFO, logger="csdomain.notify"):
        assert pm.hook.csdomain_deliver(message=message("log", "dev")) is True
        assert pm.hook.csdomain_deliver(message=message("email", "li@example.com")) is True
        assert pm.hook.csdomain_deliver(message=message("webhook", url)) is True
        assert pm.hook.csdomain_deliver(message=message("sms", "13800000000")) is None
    [record] = [r for r in caplog.records if r.name == "csdomain.notify"]
    assert record.csdomain_message.channel == "log"  # type: ignore[attr-defined]
    assert "Order SO-1 shipped" in record.getMessage()
    assert len(mailbox.envelopes) == 1
    assert len(receiver.requests) == 1


def test_log_notifier_can_stand_in_for_other_channels(caplog: pytest.LogCaptureFixture) -> None:
    demo = LogNotifier("demo.outbox", channels=("sms", "email"))
    with caplog.at_level(logging.INFO, logger="demo.outbox"):
        assert demo.deliver(message("sms", "13800000000")) is True
        assert demo.deliver(message("webhook", "http://x")) is None
    assert [r.name for r in caplog.records] == ["demo.outbox"]
    assert "sms" in repr(demo)


def test_attempt_delivery_records_success_and_failure(
    webhook_server: tuple[Receiver, str],
) -> None:
    receiver, url = webhook_server
    policy = NotificationPolicy()
    pm = manager(WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5))
    clock = FixedClock(AT)
    claimed = message("webhook", url).claim("worker-1", AT, policy.lease)
    delivered = attempt_delivery(claimed, pm, clock=clock, policy=policy)
    assert delivered.status is MessageStatus.DELIVERED
    assert delivered.delivered_at == AT
    receiver.status = 503
    claimed = message("webhook", url, source="OrderShipped:evt-2").claim("w", AT, policy.lease)
    failed = attempt_delivery(claimed, pm, clock=clock, policy=policy)
    assert failed.status is MessageStatus.PENDING
    assert failed.last_error is not None
    assert failed.last_error.startswith("DeliveryError: webhook delivery of")
    assert "HTTP 503" in failed.last_error
    assert HOOK_SECRET not in failed.last_error
    with pytest.raises(ValidationError):
        attempt_delivery(message("webhook", url), pm, clock=clock, policy=policy)


# -- wrong arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: SmtpSettings(host="mail", sender="cs@example.com", starttls="yes"), "starttls"),
        (lambda: SmtpSettings(host="mail", sender="cs@example.com", ssl=1), "ssl"),
        (lambda: SmtpSettings(host="mail", sender="cs@example.com", password=123), "password"),
        (lambda: SmtpSettings(host="mail", sender="cs@example.com", username=b"cs"), "username"),
        (
            lambda: SmtpSettings(host="mail", sender="cs@example.com", timeout=float("inf")),
            "timeout",
        ),
        (lambda: LogNotifier(level="INFO"), "level"),
        (lambda: LogNotifier(logger=42), "logger"),
        (lambda: LogNotifier(channels=5), "channels"),
        (lambda: LogNotifier(channels=[["sms"]]), "channels"),
        (lambda: WebhookNotifier(HOOK_SECRET, channel=""), "channel"),
        (lambda: WebhookNotifier(HOOK_SECRET, url=7), "url"),
        (lambda: WebhookNotifier(HOOK_SECRET, proxies={"https": 3}), "proxies"),
        (lambda: sign_body("not bytes", HOOK_SECRET), "body"),
        (lambda: notifiers.webhook_payload("msg-1"), "message"),
        (lambda: notifiers.build_email(message("email", "li@example.com"), 5), "sender"),
        (
            lambda: attempt_delivery(
                "msg-1",
                get_plugin_manager(load_entrypoints=False),
                clock=FixedClock(AT),
                policy=NotificationPolicy(),
            ),
            "message",
        ),
    ],
)
def test_notifiers_refuse_wrong_arguments_with_a_validation_error(build: Any, path: str) -> None:
    """Rule: only csdomain errors leave the library, and they name the bad argument."""
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.errors[0][0] == path


def test_a_signature_header_that_is_not_text_does_not_verify() -> None:
    body = b"{}"
    assert not verify_signature(body, 12345, HOOK_SECRET)  # type: ignore[arg-type]


# -- idempotency keys, deferrals and secrets (issue 21) ------------------------------------


def test_every_webhook_attempt_carries_the_same_idempotency_key_and_body(
    webhook_server: tuple[Receiver, str],
) -> None:
    """Rule: a retry after a timeout is recognisably the same message (issue 21)."""
    receiver, url = webhook_server
    notifier = WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5)
    policy = NotificationPolicy()
    first = message("webhook", url).claim("w1", AT, policy.lease)
    notifier.deliver(first)
    second = first.mark_failed("timeout", AT, policy).claim("w1", AT + policy.lease, policy.lease)
    notifier.deliver(second)
    [(one, body_one), (two, body_two)] = receiver.requests
    for name in notifiers.IDEMPOTENCY_HEADERS:
        assert one[name] == two[name] == first.idempotency_key
    assert (one[notifiers.ATTEMPT_HEADER], two[notifiers.ATTEMPT_HEADER]) == ("1", "2")
    assert body_one == body_two


@pytest.mark.parametrize("status", [429, 503])
def test_webhook_retry_after_answer_is_a_deferral(
    webhook_server: tuple[Receiver, str], status: int
) -> None:
    receiver, url = webhook_server
    receiver.status = status
    receiver.headers = {"Retry-After": "30"}
    pm = manager(WebhookNotifier(secret=HOOK_SECRET, proxies={}, timeout=5))
    policy = NotificationPolicy()
    claimed = message("webhook", url).claim("w1", AT, policy.lease)
    outcome = notifiers.deliver_claimed(claimed, pm, clock=FixedClock(AT), policy=policy)
    deferred = outcome.message
    assert deferred.status is MessageStatus.PENDING
    assert deferred.attempts == 0
    assert deferred.waiting_for is WaitReason.RETRY_AFTER
    assert deferred.next_attempt_at == AT + timedelta(seconds=30)
    assert outcome.pause_channel_until == AT + timedelta(seconds=30)
    receiver.headers = {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}
    failed = attempt_delivery(claimed, pm, clock=FixedClock(AT), policy=policy)
    assert failed.waiting_for is WaitReason.BACKOFF  # a date: an ordinary failure


class RateLimitedRobot:
    """A group robot that answers errcode 130101 (rate limited) for its first calls."""

    def __init__(self, limited: int, *, answer: bool = False) -> None:
        self.limited = limited
        self.answer = answer
        self.calls = 0

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | RetryAfter | None:
        if message.channel != "robot":
            return None
        self.calls += 1
        if self.calls <= self.limited:
            if self.answer:
                return RetryAfter(60, "errcode 130101: send too fast", pause_channel=False)
            raise DeliveryError("robot", message.id, "errcode 130101", retry_after=60)
        return True


@pytest.mark.parametrize("answer", [False, True])
def test_a_notifier_can_defer_by_exception_or_answer(answer: bool) -> None:
    robot = RateLimitedRobot(1, answer=answer)
    pm = manager(robot)
    policy = NotificationPolicy(max_attempts=1)
    clock = FixedClock(AT)
    claimed = message("robot", "group-1", customer_id=None).claim("w1", AT, policy.lease)
    outcome = notifiers.deliver_claimed(claimed, pm, clock=clock, policy=policy)
    assert outcome.message.waiting_for is WaitReason.RETRY_AFTER
    assert (outcome.pause_channel_until is None) is answer
    assert "130101" in outcome.message.history[-1].note
    clock.set(AT + timedelta(minutes=1))
    again = outcome.message.claim("w1", clock.now(), policy.lease)
    assert attempt_delivery(again, pm, clock=clock, policy=policy).status is (
        MessageStatus.DELIVERED
    )


def test_hook_csdomain_deliver_retry_after_is_checked() -> None:
    with pytest.raises(ValidationError, match="retry_after"):
        RetryAfter(-1)
    with pytest.raises(ValidationError, match="retry_after"):
        DeliveryError("robot", "msg-1", "busy", retry_after=float("nan"))
    assert (
        DeliveryError("robot", "msg-1", "busy", retry_after=timedelta(minutes=1)).retry_after == 60
    )


class LeakyRobot:
    """A careless third-party notifier that puts its URL, token and secret in errors."""

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel != "robot":
            return None
        url = "https://bot:pa55word@oapi.example.com/robot/send?access_token=tok-123&sign=s1g"
        msg = f"POST {url} failed; secret={HOOK_SECRET}"
        raise ConnectionError(msg)


def test_secrets_are_redacted_from_stored_errors() -> None:
    """Rule (issue 21): secrets inside URLs never end up in last_error."""
    notifiers.register_secret(HOOK_SECRET)
    pm = manager(LeakyRobot())
    policy = NotificationPolicy()
    claimed = message("robot", "group-1", customer_id=None).claim("w1", AT, policy.lease)
    failed = attempt_delivery(claimed, pm, clock=FixedClock(AT), policy=policy)
    error = failed.last_error or ""
    for secret in ("pa55word", "tok-123", "s1g", HOOK_SECRET):
        assert secret not in error
        assert all(secret not in change.note for change in failed.history)
    assert "https://bot:***@oapi.example.com/robot/send?access_token=***&sign=***" in error


def test_redact_secrets_masks_registered_values_and_url_credentials() -> None:
    notifiers.register_secret("sms-gateway-key-9")
    text = "gateway sms-gateway-key-9 refused smtp://cs:pw@mail:25 and ?api_key=abc&x=1"
    assert notifiers.redact_secrets(text) == (
        "gateway *** refused smtp://cs:***@mail:25 and ?api_key=***&x=1"
    )
    notifiers.register_secret("ab")  # too short to mask safely: words would vanish
    assert notifiers.redact_secrets("tab") == "tab"
    with pytest.raises(ValidationError):
        notifiers.redact_secrets(b"bytes")  # type: ignore[arg-type]


def test_delivery_is_refused_when_rest_hours_began_after_the_claim() -> None:
    """Rule: rest hours are checked again just before the notifier is called."""
    delivered: list[Message] = []

    class Gateway:
        @hookimpl
        def csdomain_deliver(self, message: Message) -> bool | None:
            delivered.append(message)
            return True

    policy = NotificationPolicy()
    evening = datetime(2026, 3, 10, 12, 59, 50, tzinfo=UTC)  # 20:59:50 in Shanghai
    held = hold_for_quiet_hours(message("sms", "13800000000"), None, policy)
    claimed = held.claim("w1", evening, policy.lease)
    clock = FixedClock(evening + timedelta(seconds=20))  # 21:00:10: resting now
    outcome = attempt_delivery(claimed, manager(Gateway()), clock=clock, policy=policy)
    assert delivered == []
    assert outcome.status is MessageStatus.PENDING
    assert outcome.attempts == 0
    assert outcome.waiting_for is WaitReason.REST_HOURS
    assert outcome.next_attempt_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)


def test_sms_gateway_posts_signed_json_with_phone_and_text(
    webhook_server: tuple[Receiver, str],
) -> None:
    # Rule: an "sms" channel that works: the gateway gets the number, the text, the
    # idempotency key, signed like a webhook.
    receiver, url = webhook_server
    notifier = SmsGatewayNotifier(url, HOOK_SECRET, proxies={}, timeout=5)
    sent = message("sms", "+86 138 0013 8000")
    assert manager(notifier).hook.csdomain_deliver(message=sent) is True
    [(headers, body)] = receiver.requests
    assert verify_signature(body, headers["X-Csdomain-Signature"], HOOK_SECRET)
    assert headers["X-Idempotency-Key"] == sent.idempotency_key
    payload = orjson.loads(body)
    assert payload["to"] == "+86 138 0013 8000"
    assert payload["text"] == f"{sent.subject}\n{sent.body}"
    assert HOOK_SECRET not in repr(notifier)


def test_sms_gateway_failures_are_delivery_errors_and_defer_on_retry_after(
    webhook_server: tuple[Receiver, str],
) -> None:
    # Rule: a refused or overloaded gateway is retried, never a crash.
    receiver, url = webhook_server
    notifier = SmsGatewayNotifier(url, HOOK_SECRET, proxies={}, timeout=5)
    receiver.status = 503
    receiver.headers = {"Retry-After": "30"}
    with pytest.raises(DeliveryError) as deferred:
        notifier.deliver(message("sms", "13800138000"))
    assert deferred.value.retry_after == 30
    with pytest.raises(DeliveryError, match="no phone number"):
        notifier.deliver(message("sms", "not a number"))
    assert notifier.deliver(message("email", "a@example.com")) is None
    with pytest.raises(ValidationError):
        SmsGatewayNotifier("ftp://gateway", HOOK_SECRET)


def test_sms_file_notifier_writes_one_json_line_per_text(tmp_path: Path) -> None:
    # Rule: a development sender for "sms" shows what would be sent without sending it.
    target = tmp_path / "sms.jsonl"
    notifier = SmsFileNotifier(str(target))
    first, second = message("sms", "13800138000"), message("sms", "13900139000", body="再见")
    assert notifier.deliver(first) is True
    assert notifier.deliver(second) is True
    assert notifier.deliver(message("log", "ops")) is None
    lines = [orjson.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [line["to"] for line in lines] == ["13800138000", "13900139000"]
    assert lines[1]["text"].endswith("再见")
