"""A real SMTP server on loopback that keeps every mail it receives (decision 0090).

`make run` starts one so a newcomer can read what the system sent (each mail an `.eml` file in the
devstack state dir, `.data/mail/`); tests start one on a free port and assert on what it received.
aiosmtpd runs the server in its own thread, so it works beside a test's event loop and beside the
supervisor's blocking loop alike. `refuse` makes it answer every mail with a permanent error (a
failing channel).
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.servers import free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One mail as the sink took it: the SMTP envelope and the parsed message."""

    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    path: Path | None

    @property
    def subject(self) -> str:
        return str(self.message["subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text body (the first text/plain part)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class MailSink:
    """An SMTP server on 127.0.0.1:`port` storing mails in memory and, with `directory`, as .eml files."""

    directory: Path | None = None
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    refuse: bool = False
    received: list[ReceivedMail] = field(default_factory=list)
    _controller: Controller | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def url(self) -> str:
        """The apprise URL dispatch sends e-mail with (NOTIFY_EMAIL_URL): plain SMTP, no login."""
        return f"mailto://{self.host}:{self.port}?mode=insecure"

    # aiosmtpd calls this hook by its name
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "554 5.7.1 refused by the test sink"
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message: Any = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            path = None
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                path = self.directory / f"{len(list(self.directory.glob('*.eml'))) + 1:05d}.eml"
                path.write_bytes(data)
            self.received.append(ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, path))
        return "250 OK kept"

    def to(self, address: str) -> list[ReceivedMail]:
        """The mails received for `address`."""
        with self._lock:
            return [m for m in self.received if address.lower() in (r.lower() for r in m.recipients)]

    def start(self) -> MailSink:
        self._controller = Controller(self, hostname=self.host, port=self.port, decode_data=False)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
