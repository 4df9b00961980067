"""The development mail catcher: a real SMTP server on loopback, kept in memory.

Only dev mode starts it, so ``make run`` needs no mail server and every message
the portal sends can be read on /dev/mail.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

MAX_KEPT = 200


@dataclass(frozen=True)
class CaughtMessage:
    received_at: datetime
    recipients: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[str, ...]
    raw: bytes = b""  # the whole message as received, for tests that check every part


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body_part = parsed.get_body(preferencelist=("plain",))
        self.catcher.add(CaughtMessage(
            received_at=datetime.now(UTC),
            recipients=tuple(envelope.rcpt_tos),
            subject=str(parsed["Subject"]),
            body=body_part.get_content() if body_part is not None else "",
            attachments=tuple(part.get_filename() or part.get_content_type()
                              for part in parsed.iter_attachments()),
            raw=bytes(envelope.content),
        ))
        return "250 OK"


def free_port() -> int:
    """A port that was free a moment ago (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    def __init__(self, port: int | None = None) -> None:
        self._lock = threading.Lock()
        self.messages: list[CaughtMessage] = []
        self.port = port or free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def add(self, message: CaughtMessage) -> None:
        with self._lock:
            self.messages.append(message)
            del self.messages[:-MAX_KEPT]

    def snapshot(self) -> list[CaughtMessage]:
        with self._lock:
            return list(reversed(self.messages))
