"""Streaming request bodies for file uploads, in constant memory.

Starlette's ``request.form()`` spools whole files before the handler runs.
Uploads instead run the handler in a worker thread that pulls the body from
the event loop on demand (``RequestBody``), and parse ``multipart/form-data``
with python-multipart's push parser (``read_upload``): the small fields that
come *before* the file are collected first -- so the CSRF token is checked
before a single byte of the file is read -- and the file is then handed over
as an iterator of chunks. Memory per upload stays at a few MiB
whatever the file size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import anyio
import anyio.from_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

# How much body one hop from the worker thread to the event loop collects: a
# hop and its thread switches cost about as much as parsing a MiB, so hops
# are few (an upload from 1 to 4 MiB per hop: 465 -> 645 MiB/s on one core).
PULL_BYTES = 4 * 1024 * 1024
FIRST_PULL_BYTES = 256 * 1024
# Longest silence tolerated from an uploading client before the upload is
# abandoned (its transaction rolls back and the locks it holds are released).
STALL_SECONDS = 20.0
# A hop hands over what it has once the client has paused this long, so code
# between hops (an upload's heartbeat) runs while a slow client trickles.
HAND_OVER_SECONDS = 1.0
MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024


class UploadError(Exception):
    """The body cannot be used; ``code`` names why (safe to log and record)."""

    code = "malformed"


class BodyTooLarge(UploadError):
    code = "too_large"


class UploadCancelled(UploadError):
    code = "cancelled"


class MalformedUpload(UploadError):
    code = "malformed"


class RequestBody:
    """The request body as a blocking iterator, for code running in a worker thread.

    Counts every byte and raises ``BodyTooLarge`` past ``limit``; a client
    that goes away raises ``UploadCancelled``.
    """

    def __init__(self, request: Request, limit: int,
                 stall_seconds: float = STALL_SECONDS) -> None:
        self._receive = request.receive
        self.limit = limit
        self.stall_seconds = stall_seconds
        self.received = 0
        self._done = False
        # The first hop is small: the form's fields (the CSRF token first of
        # all) are checked before much of the file is taken in.
        self._hop = FIRST_PULL_BYTES
        self._error: UploadError | None = None

    def __iter__(self) -> Iterator[bytes]:
        while not self._done:
            yield from anyio.from_thread.run(self._pull)
            self._hop = PULL_BYTES
            if self._error is not None:
                # Raised after what came before it was handed over: a handler
                # counting its own, lower limit (the file's) or recording what
                # it had begun says so first.
                raise self._error

    async def _pull(self) -> list[bytes]:
        """The next body chunks: at least one message, at most about one hop's bytes.

        The first message may take up to the stall limit; what arrives within
        ``HAND_OVER_SECONDS`` after it joins the hop. One timer per hop, not
        per message: this is an upload's hot path (a message is ~64 KiB).
        """
        chunks: list[bytes] = []
        try:
            with anyio.fail_after(self.stall_seconds):
                gathered = self._take(await self._next(), chunks)
            # Waiting for a message consumes nothing, so giving up is safe.
            with anyio.move_on_after(HAND_OVER_SECONDS):
                while gathered < self._hop and not self._done:
                    gathered += self._take(await self._next(), chunks)
        except TimeoutError as exc:
            # A client that stops sending must not keep its transaction
            # (and on SQLite the write lock) open.
            raise UploadCancelled from exc
        except UploadError as error:
            if not chunks:
                raise
            self._error = error
            self._done = True
        return chunks

    async def _next(self) -> Message:
        try:
            message = await self._receive()
        except HTTPException as exc:  # Starlette's own body limit (a backstop)
            raise BodyTooLarge from exc
        except ClientDisconnect as exc:
            raise UploadCancelled from exc
        if message["type"] == "http.disconnect":
            raise UploadCancelled
        return message

    def _take(self, message: Message, chunks: list[bytes]) -> int:
        body: bytes = message.get("body", b"")
        self.received += len(body)
        if self.received > self.limit:
            raise BodyTooLarge
        if body:
            chunks.append(body)
        self._done = not message.get("more_body", False)
        return len(body)


@dataclass
class FilePart:
    """The file of an upload: what the client says about it, and its bytes."""

    field: str
    filename: str  # as sent, unsanitised: never trust it
    content_type: str
    _events: Iterator[tuple[str, bytes]]

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes; raises ``UploadError`` if the body breaks off or is malformed.

        Only one file per request, and it must be the last part.
        """
        for event, data in self._events:
            if event == "data":
                yield data
            elif event == "part_end":
                break
        else:
            raise MalformedUpload
        ended = False
        # Read on to the end of the body: a request cut short is not an upload,
        # even when the multipart message inside it looked complete.
        for event, _ in self._events:
            if event in ("headers", "data"):
                raise MalformedUpload
            ended = ended or event == "end"
        if not ended:
            raise MalformedUpload


def read_upload(body: RequestBody, content_type: str) -> tuple[dict[str, str], FilePart | None]:
    """Read the fields before the file and return them with the (unread) file.

    A url-encoded body (a form without a file) is read whole, within the
    field limits. ``UploadError`` if the body is malformed or too large.
    """
    media_type, options = parse_options_header(content_type)
    if media_type == b"application/x-www-form-urlencoded":
        return _read_urlencoded(body), None
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise MalformedUpload
    events = _multipart_events(body, boundary)
    fields: dict[str, str] = {}
    size = 0
    name, filename, part_type, value = "", None, "", bytearray()
    for event, data in events:
        if event == "headers":
            name, filename, part_type = _disposition(data)
            value = bytearray()
            if filename is not None:
                return fields, FilePart(name, filename, part_type, events)
        elif event == "data":
            size += len(data)
            if size > MAX_FIELD_BYTES:
                raise MalformedUpload
            value += data
        elif event == "part_end":
            if len(fields) >= MAX_FIELDS:
                raise MalformedUpload
            fields[name] = value.decode("utf-8", errors="replace")
        elif event == "end":
            return fields, None
    raise MalformedUpload


def _read_urlencoded(body: RequestBody) -> dict[str, str]:
    raw = bytearray()
    for chunk in body:
        raw += chunk
        if len(raw) > MAX_FIELD_BYTES:
            raise MalformedUpload
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                      encoding="utf-8", errors="replace")
    return dict(pairs)


def _disposition(headers: bytes) -> tuple[str, str | None, str]:
    """(field name, file name or None, content type) from a part's raw headers."""
    disposition = part_type = b""
    for line in headers.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-disposition":
            disposition = value.strip()
        elif key.strip().lower() == b"content-type":
            part_type = value.strip()
    kind, options = parse_options_header(disposition)
    if kind != b"form-data" or b"name" not in options:
        raise MalformedUpload
    # Browsers send file names as raw UTF-8 bytes inside the quotes.
    filename = options.get(b"filename")
    return (options[b"name"].decode("utf-8", errors="replace"),
            None if filename is None else filename.decode("utf-8", errors="replace"),
            part_type.decode("latin-1"))


def _multipart_events(body: RequestBody, boundary: bytes) -> Iterator[tuple[str, bytes]]:
    """Turn python-multipart's callbacks into a pull-style event stream.

    Events: ``headers`` (a part's raw header block), ``data``, ``part_end``,
    ``end``. At most one body chunk's worth of events is buffered.
    """
    pending: deque[tuple[str, bytes]] = deque()
    header, name, value = bytearray(), bytearray(), bytearray()

    # Header names and values may arrive in pieces split across body chunks.
    def on_header_field(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        header.extend(bytes(name) + b":" + bytes(value) + b"\r\n")
        name.clear()
        value.clear()
        if len(header) > 8192:
            raise MalformedUpload

    def on_headers_finished() -> None:
        pending.append(("headers", bytes(header)))
        header.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        pending.append(("data", data[start:end]))

    parser = MultipartParser(boundary, {
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": lambda: pending.append(("part_end", b"")),
        "on_end": lambda: pending.append(("end", b"")),
    })
    for chunk in body:
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            raise MalformedUpload from exc
        while pending:
            yield pending.popleft()
    try:
        parser.finalize()
    except MultipartParseError as exc:
        raise MalformedUpload from exc
    while pending:
        yield pending.popleft()
