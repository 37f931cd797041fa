"""The bundled notifiers against real local servers: SMTP (aiosmtpd) and HTTP webhooks."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import attrs
import orjson
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from csdomain import notifiers
from csdomain.clock import FixedClock
from csdomain.errors import ValidationError
from csdomain.notifiers import (
    DeliveryError,
    LogNotifier,
    SmtpNotifier,
    SmtpSettings,
    WebhookNotifier,
    attempt_delivery,
    sign_body,
    verify_signature,
)
from csdomain.notify import Message, MessageStatus, NotificationPolicy
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
