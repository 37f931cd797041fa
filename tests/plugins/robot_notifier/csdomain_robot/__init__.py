"""A group-robot notifier for csdomain: signed JSON posts, ``errcode`` replies, rate limits.

Settings (``csdomain.plugins.plugin_settings("robot")``: the ``[plugins.robot]`` table of
the config file, or ``CSDOMAIN_ROBOT_<KEY>`` environment variables):

- ``url``: the robot's webhook URL (required);
- ``secret``: the signing secret (required; masked in every stored error);
- ``timeout``: seconds to wait for an answer (default 10, well within the lease);
- ``rate_limit_wait``: seconds to wait after a "send too fast" reply (default 60).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import csdomain
from csdomain.notifiers import ATTEMPT_HEADER, IDEMPOTENCY_HEADERS, DeliveryError
from csdomain.plugins import PluginSettings, plugin_settings


#: ``errcode`` values that mean "send too fast": a deferral, not a failure.
RATE_LIMITED = frozenset({130101, 45009})


def sign(timestamp_ms: int, secret: str) -> str:
    """The robot's signature: base64 of HMAC-SHA256 over ``"<timestamp>\\n<secret>"``."""
    text = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class RobotNotifier:
    """Delivers ``"robot"`` messages to a group robot; one instance, many threads."""

    channel = "robot"

    def __init__(self, settings: PluginSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> PluginSettings:
        """Read when first needed, so the config file of the running command is used."""
        if self._settings is None:
            self._settings = plugin_settings("robot", secrets=("secret",))
        return self._settings

    def request(self, message: csdomain.Message, now_ms: int) -> urllib.request.Request:
        """The signed POST for ``message``: the same body and key on every attempt."""
        settings = self.settings
        query = urllib.parse.urlencode(
            {"timestamp": now_ms, "sign": sign(now_ms, settings.require("secret"))}
        )
        body = json.dumps(
            {
                "msgtype": "text",
                "text": {"content": f"{message.subject}\n{message.body}".strip()},
                "msgid": message.idempotency_key,
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            ATTEMPT_HEADER: str(message.attempts),
            **dict.fromkeys(IDEMPOTENCY_HEADERS, message.idempotency_key),
        }
        url = settings.require("url")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError(self.channel, message.id, "the robot URL must be http(s)")
        separator = "&" if "?" in url else "?"
        return urllib.request.Request(  # noqa: S310 - the scheme is checked above
            f"{url}{separator}{query}", data=body, method="POST", headers=headers
        )

    @csdomain.hookimpl
    def csdomain_deliver(self, message: csdomain.Message) -> bool | None:
        """Post ``message`` if its channel is ``"robot"``; raise DeliveryError otherwise."""
        if message.channel != self.channel:
            return None
        settings = self.settings
        timeout = settings.number("timeout", 10.0)
        request = self.request(message, int(time.time() * 1000))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                reply = json.loads(response.read(65536) or b"{}")
        except urllib.error.HTTPError as err:
            err.close()
            wait = settings.number("rate_limit_wait", 60.0) if err.code == 429 else None
            reason = f"HTTP {err.code}"
            raise DeliveryError(self.channel, message.id, reason, retry_after=wait) from None
        except (OSError, ValueError) as err:  # timeouts, refused connections, bad JSON
            raise DeliveryError(self.channel, message.id, type(err).__name__) from None
        code = reply.get("errcode", 0) if isinstance(reply, dict) else -1
        if code == 0:
            return True
        reason = f"errcode {code}: {reply.get('errmsg', '')}".strip()
        if code in RATE_LIMITED:
            wait = settings.number("rate_limit_wait", 60.0)
            raise DeliveryError(self.channel, message.id, reason, retry_after=wait)
        raise DeliveryError(self.channel, message.id, reason)


#: What the ``csdomain`` entry point registers.
notifier = RobotNotifier()
