"""Notifiers shipped with csdomain: log (development), e-mail over SMTP, signed webhooks.

Each notifier is a plugin object whose ``csdomain_deliver`` hook delivers messages of the
channel(s) it owns and returns ``None`` for any other channel, so several notifiers sit on
one plugin manager side by side. A failed attempt raises :class:`DeliveryError`, whose
text never contains a password or signing secret (nor does any ``repr``). A receiver that
answers "not now" (a rate limit) is a deferral, not a failure: raise
``DeliveryError(..., retry_after=seconds)`` or return :class:`RetryAfter`; the message is
tried again then without spending an attempt.

This module is itself a plugin: its module-level hook delivers ``"log"`` messages to the
``csdomain.notify`` logger, so a development setup works without configuration. Real
notifiers are registered at run time::

    csdomain.plugins.register(SmtpNotifier.from_url("smtp://user:pw@mail:587?from=cs@x.cn&starttls=1"))
    csdomain.plugins.register(WebhookNotifier(secret=os.environ["HOOK_SECRET"]))

:func:`attempt_delivery` is the dispatcher's step for one claimed message: it checks the
recipient's rest hours once more, calls the hook and records the outcome with the pure
state changes of :mod:`csdomain.notify`; every error text kept on a message goes through
:func:`redact_secrets` first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import smtplib
import ssl
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
import orjson
import pluggy

from csdomain.clock import Clock
from csdomain.errors import CsDomainError, ValidationError, describe
from csdomain.hookspecs import hookimpl
from csdomain.notify import Message, MessageStatus, NotificationPolicy, RetryAfter, WaitReason
from csdomain.notify.model import MAX_RETRY_AFTER_SECONDS, retry_after_seconds
from csdomain.validators import flag, optional_text


__all__ = [
    "ATTEMPT_HEADER",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_HEADERS",
    "SIGNATURE_HEADER",
    "DeliveryError",
    "DeliveryOutcome",
    "LogNotifier",
    "RetryAfter",
    "SmsFileNotifier",
    "SmsGatewayNotifier",
    "SmtpNotifier",
    "SmtpSettings",
    "WebhookNotifier",
    "attempt_delivery",
    "build_email",
    "csdomain_deliver",
    "deliver_claimed",
    "describe_error",
    "redact_secrets",
    "register_secret",
    "sign_body",
    "sms_payload",
    "verify_signature",
    "webhook_payload",
]

_MASK = "***"
SIGNATURE_HEADER = "X-Csdomain-Signature"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
#: Every header that carries the idempotency key on a webhook request: the common
#: ``X-Idempotency-Key`` and the IETF draft's ``Idempotency-Key``.
IDEMPOTENCY_HEADERS = (IDEMPOTENCY_HEADER, "Idempotency-Key")
#: The attempt number (1 for the first); a repeat with the same key is the same message.
ATTEMPT_HEADER = "X-Csdomain-Attempt"


class DeliveryError(CsDomainError):
    """A notifier could not deliver a message; the text never contains secrets.

    With ``retry_after`` (seconds or a ``timedelta``) it is a *deferral*, not a failure:
    the receiver said "not now" (HTTP 429, a robot's rate-limit ``errcode``), and the
    message is tried again after that long without spending an attempt.
    ``pause_channel`` (the default) holds the channel's other due messages just as long.
    """

    def __init__(
        self,
        channel: str,
        message_id: str,
        reason: str,
        *,
        retry_after: float | timedelta | None = None,
        pause_channel: bool = True,
    ) -> None:
        self.channel = channel
        self.message_id = message_id
        self.reason = reason
        self.retry_after = None if retry_after is None else retry_after_seconds(retry_after)
        self.pause_channel = pause_channel is True
        verb = "deferred" if self.retry_after is not None else "failed"
        super().__init__(f"{channel} delivery of {message_id!r} {verb}: {reason}")


# -- secrets in error texts ----------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
#: Secrets shorter than this are not masked (they would mask ordinary words).
_SHORTEST_SECRET = 4
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&;](?:access_?token|token|api_?key|apikey|key|secret|sign|signature|sig|"
    r"password|passwd|pwd|auth|authorization|client_secret)=)[^&#\s'\"]+",
    re.IGNORECASE,
)


def register_secret(value: str | bytes | None) -> None:
    """Mask ``value`` in every error text kept on a message from now on (this process).

    The bundled notifiers register their passwords and signing secrets, and
    :func:`csdomain.plugins.plugin_settings` registers every secret setting it reads.
    """
    if value is None:
        return
    text_value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(text_value, str):
        raise ValidationError.at("value", f"expected a secret string, got {describe(value)}")
    if len(text_value) >= _SHORTEST_SECRET:
        with _SECRETS_LOCK:
            _SECRETS.add(text_value)


def redact_secrets(text: str, extra: Iterable[str | bytes | None] = ()) -> str:
    """``text`` without secrets: URL passwords, secret query values and known secrets.

    ``https://u:pw@host`` becomes ``https://u:***@host``; ``?access_token=...``,
    ``&sign=...`` and the like become ``=***``; every value given to
    :func:`register_secret` (and ``extra``) becomes ``***``.
    """
    if not isinstance(text, str):
        raise ValidationError.at("text", f"expected text, got {describe(text)}")
    with _SECRETS_LOCK:
        known = sorted(_SECRETS, key=len, reverse=True)
    text = _redact(text, [*extra, *known])
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{_MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['name']}{_MASK}", text)


def _redact(text: str, secrets: Iterable[str | bytes | None]) -> str:
    for secret in secrets:
        if not secret:
            continue
        value = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        text = text.replace(value, _MASK)
    return text


def describe_error(error: BaseException) -> str:
    """The text kept as ``Message.last_error`` for a failed attempt."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _require_message(value: object) -> None:
    if not isinstance(value, Message):
        raise ValidationError.at("message", f"expected a Message, got {type(value).__name__}")


def _channel(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at("channel", "expected a channel name")
    return value


def _channels(value: str | Iterable[str]) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise ValidationError.at("channels", "expected one or more channel names")
    names = list(items)
    if not names or not all(isinstance(c, str) and c for c in names):
        raise ValidationError.at("channels", "expected one or more channel names")
    return frozenset(names)


# -- log -------------------------------------------------------------------------------------


class LogNotifier:
    """Writes messages to a :mod:`logging` logger instead of sending them (development).

    Owns ``"log"`` by default; pass ``channels=("sms", "email")`` to have it stand in for
    real gateways in a demo. The record carries the message as ``record.csdomain_message``.
    """

    def __init__(
        self,
        logger: logging.Logger | str = "csdomain.notify",
        *,
        channels: str | Iterable[str] = "log",
        level: int = logging.INFO,
    ) -> None:
        if not isinstance(logger, str | logging.Logger):
            raise ValidationError.at("logger", "expected a logger or a logger name")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValidationError.at("level", f"expected a logging level, got {describe(level)}")
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.channels = _channels(channels)
        self.level = level

    def deliver(self, message: Message) -> bool | None:
        """Log ``message`` if its channel is one of ours."""
        if message.channel not in self.channels:
            return None
        self.logger.log(
            self.level,
            "%s message %s to %s [%s]: %s | %s",
            message.kind,
            message.id,
            message.recipient,
            message.idempotency_key,
            message.subject,
            message.body,
            extra={"csdomain_message": message},
        )
        return True

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        """Hook: log the message when its channel is ours."""
        return self.deliver(message)

    def __repr__(self) -> str:
        return f"LogNotifier(logger={self.logger.name!r}, channels={sorted(self.channels)!r})"


_DEVELOPMENT_LOG = LogNotifier()


@hookimpl
def csdomain_deliver(message: Message) -> bool | None:
    """Hook: deliver ``"log"`` messages to the ``csdomain.notify`` logger."""
    return _DEVELOPMENT_LOG.deliver(message)


# -- e-mail --------------------------------------------------------------------------------


def _bool_text(value: str, path: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValidationError.at(path, f"expected 0/1 or true/false, got {describe(value)}")


def _positive_timeout(value: object, path: str = "timeout") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        msg = f"must be a positive number of seconds, got {describe(value)}"
        raise ValidationError.at(path, msg)
    if not math.isfinite(value):
        raise ValidationError.at(path, f"must be a finite number of seconds, got {value}")
    return float(value)


def _port(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValidationError.at(attribute.name, f"not a TCP port: {describe(value)}")


def _address(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or "@" not in parseaddr(value)[1]:
        raise ValidationError.at(attribute.name, f"not an e-mail address: {describe(value)}")


def _host(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValidationError.at(attribute.name, "expected a host name")


@attrs.frozen(kw_only=True)
class SmtpSettings:
    """Where and how to send e-mail; the password never appears in ``repr`` or errors.

    ``ssl`` is implicit TLS (``smtps://``, port 465); ``starttls`` upgrades a plain
    connection. The port defaults to 465 with ``ssl``, 587 with ``starttls``, else 25.
    """

    host: str = attrs.field(validator=_host)
    sender: str = attrs.field(validator=_address)
    username: str | None = attrs.field(default=None, validator=optional_text)
    password: str | None = attrs.field(default=None, repr=False, validator=optional_text)
    starttls: bool = attrs.field(default=False, validator=flag)
    ssl: bool = attrs.field(default=False, validator=flag)
    port: int = attrs.field(validator=_port)
    timeout: float = attrs.field(default=10.0, converter=_positive_timeout)
    local_hostname: str | None = attrs.field(default=None, validator=optional_text)

    @port.default
    def _default_port(self) -> int:
        if self.ssl:
            return 465
        return 587 if self.starttls else 25

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse ``smtp[s]://[user[:password]@]host[:port]?from=addr[&starttls=1][&timeout=s]``.

        Query keys: ``from`` (required), ``starttls``, ``timeout``, ``helo``. User name
        and password are percent-decoded. Errors name the bad part, never the password.
        """
        if not isinstance(url, str):
            raise ValidationError.at("url", "expected an smtp:// or smtps:// URL")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValidationError.at("url", "not a valid SMTP URL (bad host or port)") from None
        if parts.scheme not in ("smtp", "smtps"):
            msg = f"unsupported scheme {describe(parts.scheme)}; use smtp(s)://"
            raise ValidationError.at("url", msg)
        if not parts.hostname:
            raise ValidationError.at("url.host", "the URL names no host")
        try:
            query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            query = {} if not parts.query else {"": [parts.query]}
        unknown = sorted(set(query) - {"from", "starttls", "timeout", "helo"})
        if unknown:
            raise ValidationError.at("url.query", f"unknown parameter(s): {', '.join(unknown)}")
        single: dict[str, str] = {}
        for key, values in query.items():
            if len(values) != 1:
                raise ValidationError.at(f"url.{key}", "given more than once")
            single[key] = values[0]
        if "from" not in single:
            raise ValidationError.at("url.from", "the sender address (?from=...) is required")
        timeout: float = 10.0
        if "timeout" in single:
            try:
                timeout = float(single["timeout"])
            except ValueError:
                raise ValidationError.at("url.timeout", "not a number of seconds") from None
        use_ssl = parts.scheme == "smtps"
        starttls = _bool_text(single.get("starttls", "0"), "url.starttls")
        fields: dict[str, Any] = {
            "host": parts.hostname,
            "sender": single["from"],
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password is not None else None,
            "starttls": starttls and not use_ssl,
            "ssl": use_ssl,
            "timeout": _positive_timeout(timeout, "url.timeout"),
            "local_hostname": single.get("helo") or None,
        }
        if port is not None:
            fields["port"] = port
        try:
            return cls(**fields)
        except ValidationError as err:
            raise err.prefixed("url") from None

    @property
    def url(self) -> str:
        """The settings as a URL with the password masked."""
        scheme = "smtps" if self.ssl else "smtp"
        auth = ""
        if self.username:
            auth = self.username + (f":{_MASK}" if self.password else "") + "@"
        query = f"from={self.sender}&starttls={int(self.starttls)}&timeout={self.timeout:g}"
        return f"{scheme}://{auth}{self.host}:{self.port}?{query}"

    def __repr__(self) -> str:
        return f"SmtpSettings({self.url!r})"


def build_email(message: Message, sender: str) -> EmailMessage:
    """The e-mail for ``message``: ``Message-ID`` derived from its idempotency key.

    The same message sent twice gets the same ``Message-ID`` (and ``X-Idempotency-Key``),
    so mail systems and receivers can drop the duplicate.
    """
    _require_message(message)
    if not isinstance(sender, str):
        raise ValidationError.at("sender", f"expected an address, got {type(sender).__name__}")
    domain = parseaddr(sender)[1].rpartition("@")[2] or "csdomain.invalid"
    key = message.idempotency_key or message.id
    email = EmailMessage()
    try:
        email["From"] = sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or message.kind.replace("_", " ")
        email["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
        email[IDEMPOTENCY_HEADER] = key
        email["X-Csdomain-Kind"] = message.kind
        if message.created_at is not None:
            email["Date"] = format_datetime(message.created_at)
        if message.urgent:
            email["Importance"] = "high"
            email["X-Priority"] = "1"
        email.set_content(message.body)
    except (ValueError, TypeError) as err:
        raise ValidationError.at("message", f"cannot build the e-mail: {err}") from None
    return email


class SmtpNotifier:
    """Delivers ``"email"`` messages through an SMTP server (stdlib :mod:`smtplib`)."""

    def __init__(self, settings: SmtpSettings, *, channel: str = "email") -> None:
        if not isinstance(settings, SmtpSettings):
            raise ValidationError.at("settings", "expected SmtpSettings")
        self.settings = settings
        self.channel = _channel(channel)
        register_secret(settings.password)

    @classmethod
    def from_url(cls, url: str, *, channel: str = "email") -> SmtpNotifier:
        """A notifier for ``smtp://user:pass@host:port?from=addr&starttls=0&timeout=10``."""
        return cls(SmtpSettings.from_url(url), channel=channel)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            return smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=s.local_hostname,
                timeout=s.timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout)

    def deliver(self, message: Message) -> bool | None:
        """Send ``message`` as e-mail if its channel is ours; raise :class:`DeliveryError`."""
        if message.channel != self.channel:
            return None
        s = self.settings
        try:
            email = build_email(message, s.sender)
        except ValidationError as err:
            raise DeliveryError(self.channel, message.id, str(err)) from None
        try:
            with self._connect() as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as err:
            reason = _redact(describe_error(err), [s.password])
            raise DeliveryError(self.channel, message.id, reason) from None
        return True

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        """Hook: e-mail the message when its channel is ours."""
        return self.deliver(message)

    def __repr__(self) -> str:
        return f"SmtpNotifier({self.settings.url!r}, channel={self.channel!r})"


# -- webhooks ---------------------------------------------------------------------------------


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ValidationError.at("secret", "a non-empty signing secret is required")
    return secret


def sign_body(body: bytes, secret: str | bytes) -> str:
    """The ``X-Csdomain-Signature`` value: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    if not isinstance(body, bytes | bytearray):
        raise ValidationError.at("body", f"expected bytes, got {type(body).__name__}")
    digest = hmac.new(_secret_bytes(secret), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """Whether ``header`` is the signature of the raw ``body`` (constant-time compare).

    For receivers of :class:`WebhookNotifier` requests: verify before parsing the body.
    """
    if not header or not isinstance(header, str) or not isinstance(body, bytes):
        return False
    return hmac.compare_digest(header.strip().encode(), sign_body(body, secret).encode())


def webhook_payload(message: Message) -> bytes:
    """The JSON body a webhook receives for ``message`` (sorted keys, UTF-8)."""
    _require_message(message)
    data = {
        "id": message.id,
        "idempotency_key": message.idempotency_key,
        "kind": message.kind,
        "channel": message.channel,
        "customer_id": message.customer_id,
        "subject": message.subject,
        "body": message.body,
        "urgent": message.urgent,
        "source": message.source,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def _retry_after_header(status: int, value: str | None) -> float | None:
    """The seconds of a ``Retry-After`` header on a 429/503 answer (``None`` otherwise)."""
    if status not in (429, 503) or value is None:
        return None
    text_value = value.strip()
    if not text_value.isascii() or not text_value.isdigit() or len(text_value) > 6:
        return None  # an HTTP date or garbage: an ordinary failure with backoff
    return min(float(text_value), MAX_RETRY_AFTER_SECONDS)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not a delivery: let it surface as an HTTP error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post_signed(
    opener: urllib.request.OpenerDirector,
    url: str,
    body: bytes,
    *,
    secret: bytes,
    message: Message,
    channel: str,
    timeout: float,
) -> None:
    """POST ``body`` signed with ``secret`` and ``message``'s idempotency key; raise on failure.

    A ``429``/``503`` with ``Retry-After`` is a deferral; any other non-2xx answer, redirect,
    timeout or connection error is a :class:`DeliveryError` (secrets redacted).
    """
    request = urllib.request.Request(  # noqa: S310 - callers check the scheme
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"csdomain-{channel}",
            SIGNATURE_HEADER: sign_body(body, secret),
            **dict.fromkeys(IDEMPOTENCY_HEADERS, message.idempotency_key or message.id),
            ATTEMPT_HEADER: str(max(message.attempts, 1)),
        },
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as err:
        retry_after = _retry_after_header(err.code, err.headers.get("Retry-After"))
        err.close()
        reason = f"HTTP {err.code} {err.reason}"
        raise DeliveryError(channel, message.id, reason, retry_after=retry_after) from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = redact_secrets(describe_error(err), [secret])
        raise DeliveryError(channel, message.id, reason) from None
    if not 200 <= status < 300:
        raise DeliveryError(channel, message.id, f"HTTP {status}")


def _opener(proxies: Mapping[str, str] | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
    if proxies is not None:
        if not isinstance(proxies, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in proxies.items()
        ):
            raise ValidationError.at("proxies", "expected a mapping of scheme to proxy URL")
        handlers.append(urllib.request.ProxyHandler(dict(proxies)))
    return urllib.request.build_opener(*handlers)


class WebhookNotifier:
    """POSTs ``"webhook"`` messages as signed JSON to ``message.recipient`` (or ``url``).

    Headers: ``X-Csdomain-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body with the
    shared secret), the message's idempotency key as ``X-Idempotency-Key`` and
    ``Idempotency-Key`` (the same on every attempt: a repeat after a timeout is the same
    message) and the attempt number as ``X-Csdomain-Attempt``; the body is the same on
    every attempt. A ``429`` or ``503`` answer with a ``Retry-After`` header (seconds) is a
    deferral (:class:`DeliveryError` with ``retry_after``); any other non-2xx answer,
    redirect, timeout or connection error raises :class:`DeliveryError`. ``proxies=None``
    uses the environment's proxy settings, ``{}`` connects directly.
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        channel: str = "webhook",
        url: str | None = None,
        timeout: float = 10.0,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        self._secret = _secret_bytes(secret)
        register_secret(self._secret)
        self.channel = _channel(channel)
        if url is not None and not isinstance(url, str):
            raise ValidationError.at("url", f"expected a URL, got {type(url).__name__}")
        self.url = url
        self.timeout = _positive_timeout(timeout)
        self._opener = _opener(proxies)

    def _target(self, message: Message) -> str:
        target = message.recipient or self.url or ""
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https"):
            raise DeliveryError(self.channel, message.id, "the webhook URL must be http(s)")
        return target

    def deliver(self, message: Message) -> bool | None:
        """POST ``message`` if its channel is ours; raise :class:`DeliveryError` on failure."""
        if message.channel != self.channel:
            return None
        body = webhook_payload(message)
        target = self._target(message)
        _post_signed(
            self._opener,
            target,
            body,
            secret=self._secret,
            message=message,
            channel=self.channel,
            timeout=self.timeout,
        )
        return True

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        """Hook: POST the message when its channel is ours."""
        return self.deliver(message)

    def __repr__(self) -> str:
        return (
            f"WebhookNotifier(channel={self.channel!r}, url={self.url!r}, "
            f"timeout={self.timeout:g}, secret={_MASK!r})"
        )


# -- the dispatcher's step ---------------------------------------------------------------------


def sms_payload(message: Message) -> bytes:
    """The JSON body an SMS gateway receives: the phone number, the text and the ids."""
    _require_message(message)
    text_body = message.body if not message.subject else f"{message.subject}\n{message.body}"
    data = {
        "id": message.id,
        "idempotency_key": message.idempotency_key,
        "to": message.recipient,
        "text": text_body,
        "kind": message.kind,
        "customer_id": message.customer_id,
        "urgent": message.urgent,
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def _sms_recipient(message: Message, channel: str) -> str:
    phone = (message.recipient or "").strip()
    if not phone or not any(ch.isdigit() for ch in phone):
        raise DeliveryError(channel, message.id, "the message has no phone number to send to")
    return phone


class SmsFileNotifier:
    """Writes ``"sms"`` messages as JSON lines to a file or the console (development).

    Each delivery appends one :func:`sms_payload` line to ``path``; ``"-"`` writes to
    standard error, so ``csdomain dispatch --sms-file -`` shows the texts a gateway would
    send without sending them. For production use :class:`SmsGatewayNotifier`.
    """

    def __init__(self, path: str = "-", *, channel: str = "sms") -> None:
        if not isinstance(path, str) or not path.strip():
            raise ValidationError.at("path", "expected a file path or - for the console")
        self.path = path
        self.channel = _channel(channel)
        self._lock = threading.Lock()

    def deliver(self, message: Message) -> bool | None:
        """Write ``message`` if its channel is ours; raise :class:`DeliveryError` on failure."""
        if message.channel != self.channel:
            return None
        _sms_recipient(message, self.channel)
        line = sms_payload(message).decode("utf-8") + "\n"
        with self._lock:
            if self.path == "-":
                sys.stderr.write(line)
                sys.stderr.flush()
                return True
            try:
                with open(self.path, "a", encoding="utf-8") as out:
                    out.write(line)
            except OSError as err:
                raise DeliveryError(self.channel, message.id, describe_error(err)) from None
        return True

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        """Hook: write the message when its channel is ours."""
        return self.deliver(message)

    def __repr__(self) -> str:
        return f"SmsFileNotifier(path={self.path!r}, channel={self.channel!r})"


class SmsGatewayNotifier:
    """POSTs ``"sms"`` messages to an HTTP SMS gateway, signed like :class:`WebhookNotifier`.

    The body is :func:`sms_payload` (``to``, ``text``, ``id``, ``idempotency_key`` ...);
    headers carry the HMAC-SHA256 signature (``X-Csdomain-Signature``), the idempotency
    key (the same on every attempt, so a gateway drops a repeat) and the attempt number.
    ``429``/``503`` with ``Retry-After`` defers; other failures raise
    :class:`DeliveryError` and are retried with the policy's backoff.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        channel: str = "sms",
        timeout: float = 10.0,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ValidationError.at("url", "expected the gateway's http(s):// URL")
        self.url = url
        self._secret = _secret_bytes(secret)
        register_secret(self._secret)
        self.channel = _channel(channel)
        self.timeout = _positive_timeout(timeout)
        self._opener = _opener(proxies)

    def deliver(self, message: Message) -> bool | None:
        """POST ``message`` if its channel is ours; raise :class:`DeliveryError` on failure."""
        if message.channel != self.channel:
            return None
        _sms_recipient(message, self.channel)
        _post_signed(
            self._opener,
            self.url,
            sms_payload(message),
            secret=self._secret,
            message=message,
            channel=self.channel,
            timeout=self.timeout,
        )
        return True

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        """Hook: POST the message when its channel is ours."""
        return self.deliver(message)

    def __repr__(self) -> str:
        return f"SmsGatewayNotifier(url={self.url!r}, channel={self.channel!r}, secret=***)"


@attrs.frozen
class DeliveryOutcome:
    """One delivery attempt's result: the message's new state, and whether to pause.

    ``pause_channel_until`` is set when the notifier deferred the message for its whole
    channel (a rate limit): the dispatcher holds the channel's other due messages until
    then.
    """

    message: Message
    pause_channel_until: datetime | None = None


def deliver_claimed(
    message: Message,
    pm: pluggy.PluginManager,
    *,
    clock: Clock,
    policy: NotificationPolicy,
) -> DeliveryOutcome:
    """Deliver one claimed message through the ``csdomain_deliver`` hook (see
    :func:`attempt_delivery`), also saying whether the notifier paused its channel."""
    _require_message(message)
    if not isinstance(pm, pluggy.PluginManager):
        raise ValidationError.at("pm", "expected a pluggy PluginManager")
    if message.status is not MessageStatus.CLAIMED:
        raise ValidationError.at(
            "status", f"only a claimed message is delivered, not {message.status}"
        )
    now = clock.now()
    resting = message.resting_until(now)
    if resting is not None:  # the rest hours began between the claim and now
        held = message.release(
            now,
            by=message.claimed_by or "dispatcher",
            reason="the recipient's rest hours began before sending",
            attempted=False,
            hold=WaitReason.REST_HOURS,
            until=resting,
        )
        return DeliveryOutcome(held)
    try:
        delivered = pm.hook.csdomain_deliver(message=message)
    except DeliveryError as err:
        if err.retry_after is None:
            return DeliveryOutcome(_failed(message, describe_error(err), clock, policy))
        answer = RetryAfter(err.retry_after, err.reason, err.pause_channel)
        return _deferred(message, answer, clock, policy)
    except Exception as err:  # any notifier failure is a failed attempt
        return DeliveryOutcome(_failed(message, describe_error(err), clock, policy))
    if isinstance(delivered, RetryAfter):
        return _deferred(message, delivered, clock, policy)
    if delivered is None:
        reason = f"no notifier handles channel {describe(message.channel)}"
        return DeliveryOutcome(_failed(message, reason, clock, policy))
    if delivered is False:
        reason = "the notifier declined the message"
        return DeliveryOutcome(_failed(message, reason, clock, policy))
    return DeliveryOutcome(message.mark_delivered(clock.now()))


def _failed(message: Message, error: str, clock: Clock, policy: NotificationPolicy) -> Message:
    return message.mark_failed(redact_secrets(error), clock.now(), policy)


def _deferred(
    message: Message,
    answer: RetryAfter,
    clock: Clock,
    policy: NotificationPolicy,
) -> DeliveryOutcome:
    now = clock.now()
    wait = timedelta(seconds=answer.seconds)
    text_reason = f"retry after {answer.seconds:g}s: {redact_secrets(answer.reason)}"
    deferred = message.defer(wait, text_reason, now, policy)
    pause = None
    if answer.pause_channel and deferred.status is MessageStatus.PENDING:
        pause = now + min(wait, policy.max_retry_after)
    return DeliveryOutcome(deferred, pause)


def attempt_delivery(
    message: Message,
    pm: pluggy.PluginManager,
    *,
    clock: Clock,
    policy: NotificationPolicy,
) -> Message:
    """Deliver one claimed message through the ``csdomain_deliver`` hook; return its new state.

    First the rest hours once more: a non-urgent message whose recipient started resting
    since the claim is released until they end, the attempt given back (docs/domain.md 3.5, 7).
    Delivered -> ``mark_delivered``; a "retry after" (``DeliveryError`` with
    ``retry_after``, or a :class:`RetryAfter` answer) -> ``defer`` (no attempt spent); an
    exception, no notifier for the channel, or a notifier answering ``False`` ->
    ``mark_failed`` (retry with backoff or dead letter). Error texts are kept with
    :func:`redact_secrets` applied. The outcome time is read from ``clock`` after the
    attempt.
    """
    return deliver_claimed(message, pm, clock=clock, policy=policy).message
