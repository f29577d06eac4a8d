"""The notification port and its adapters (decision 0090), chosen by `NOTIFY_ADAPTER`.

- `apprise`: every channel through the apprise library. E-mail goes to the SMTP server of
  `NOTIFY_EMAIL_URL` (an apprise `mailto://` or `mailtos://` URL) addressed to the recipient; a phone
  number goes by the SMS service of `NOTIFY_SMS_URL` (an apprise URL with `{phone}` in it); a WeCom,
  DingTalk or Feishu address is itself an apprise URL (`wecombot://`, `dingtalk://`, `feishu://`).
- `log`: development without any server: each message is a log line, and counts as sent.

apprise is synchronous (smtplib, requests): a send runs in a worker thread, bounded by
`NOTIFY_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise
from apprise.plugins.email import base as apprise_email

from services.dispatch.notifications.domain import Channel, message_id, truncate
from services.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    id: str
    address: str
    channel: Channel
    subject: str
    body: str
    language: str


class NotificationFailed(Exception):
    """The channel did not take the message; the text says why (it is recorded on the message)."""


class Notifier(Protocol):
    """The port: hand one message to its channel, or raise NotificationFailed (or anything: also a failure)."""

    name: str

    async def send(self, message: OutgoingMessage) -> None: ...


class LogNotifier:
    """Development: the message is written to the log and counts as sent."""

    name = "log"

    async def send(self, message: OutgoingMessage) -> None:
        log.info("notification %s to %s (%s, %s): %s\n%s", message.id, message.address, message.channel,
                 message.language, message.subject, message.body)


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to (or replacing those of) its query."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class AppriseNotifier:
    """E-mail, SMS and the enterprise messengers through apprise; the address decides the channel."""

    name = "apprise"
    _capture = threading.Lock()  # apprise reports failures only through its logger: one capture at a time

    def __init__(self, settings: DispatchSettings) -> None:
        self.email_url = settings.notify_email_url.get_secret_value() if settings.notify_email_url else None
        self.email_from = settings.notify_email_from
        self.sender_name = settings.notify_sender_name
        self.sms_url = settings.notify_sms_url.get_secret_value() if settings.notify_sms_url else None
        self.timeout = settings.notify_timeout_seconds

    def url_for(self, message: OutgoingMessage) -> str:
        """The apprise URL that reaches the message's address (NotificationFailed: no way configured)."""
        if message.channel == Channel.EMAIL:
            if not self.email_url:
                raise NotificationFailed("e-mail is not configured (NOTIFY_EMAIL_URL)")
            return with_query(self.email_url, to=message.address, **{"from": self.email_from},
                              name=self.sender_name, format="text")
        if message.channel == Channel.SMS:
            if not self.sms_url:
                raise NotificationFailed("SMS is not configured (NOTIFY_SMS_URL)")
            return self.sms_url.replace("{phone}", "".join(c for c in message.address if c.isdigit() or c == "+"))
        return message.address  # a messenger's apprise URL, checked when the recipient was registered

    def _send_blocking(self, url: str, message: OutgoingMessage, deadline: float) -> None:
        client = apprise.Apprise()
        if not client.add(url):
            raise NotificationFailed(f"apprise does not accept the {message.channel} address")
        # A send still waiting for its turn when the caller gave up must not go: the attempt is already
        # recorded failed and will be retried, and sending it late would be a second copy.
        if not self._capture.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise NotificationFailed("not sent: other sends held the channel until the time limit")
        try:
            if time.monotonic() >= deadline:
                raise NotificationFailed("not sent: the time limit passed while waiting for the channel")
            with apprise.LogCapture(level=logging.WARNING) as captured, self._message_id(message):
                result = client.notify(title=message.subject, body=message.body,
                                       body_format=apprise.NotifyFormat.TEXT)
                if not result:
                    lines = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines() if line.strip()]
                    raise NotificationFailed(truncate("; ".join(lines) or
                                                      f"the {message.channel} service refused it"))
        finally:
            self._capture.release()

    @contextlib.contextmanager
    def _message_id(self, message: OutgoingMessage) -> Iterator[None]:
        """A mail's Message-ID is the notification's own (`domain.message_id`), the same on every attempt, so
        a mail sent twice (at least once: the worker died after the send) is one mail to mail clients.
        apprise writes a random one and has no option for it (a `+Message-ID` header would make two): its
        generator is replaced for this send, under `_capture`, which already makes apprise sends one at a
        time."""
        if message.channel != Channel.EMAIL or not hasattr(apprise_email, "make_msgid"):
            yield
            return
        fixed = message_id(message.id, self.email_from or "")
        original = apprise_email.make_msgid
        apprise_email.make_msgid = lambda *args, **kwargs: fixed
        try:
            yield
        finally:
            apprise_email.make_msgid = original

    async def send(self, message: OutgoingMessage) -> None:
        url = self.url_for(message)
        try:
            deadline = time.monotonic() + self.timeout
            await asyncio.wait_for(asyncio.to_thread(self._send_blocking, url, message, deadline), self.timeout)
        except TimeoutError:
            # the thread may still finish; the message is then sent twice at worst (at least once)
            raise NotificationFailed(f"no answer within {self.timeout:g} s") from None


def notifier_from_settings(settings: DispatchSettings) -> Notifier:
    if settings.notify_adapter == "apprise":
        return AppriseNotifier(settings)
    return LogNotifier()
