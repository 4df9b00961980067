"""Reading the one import format (docs/import-format.md) into rows with line numbers (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from portal.errors import N_

REQUIRED = ("leerlingnummer", "naam", "geboortedatum")
MAX_ROWS = 10_000


class FileRefused(ValueError):
    """The whole file cannot be read; ``reason`` is a message id."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Line:
    number: int  # the physical line the record starts on (the header is line 1)
    fields: dict[str, str]


def decode(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(N_("The file is not UTF-8: export it as UTF-8 (CSV UTF-8)."),
                          f"byte {exc.start}") from exc


def lines(text: str) -> Iterator[Line]:
    """The records under the header, as {column: value}; ``;`` or ``,`` as the header uses."""
    header, _, _ = text.partition("\n")
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        names = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise FileRefused(N_("The file is empty.")) from None
    except csv.Error as exc:
        raise FileRefused(N_("The file is not a readable CSV file."), str(exc)) from exc
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise FileRefused(N_("Required columns are missing: %(columns)s"), ", ".join(missing))
    if len(set(names)) != len(names):
        raise FileRefused(N_("A column name appears twice in the header."))
    start = reader.line_num + 1
    count = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileRefused(N_("The file is not a readable CSV file."),
                              f"line {start}: {exc}") from exc
        if any(value.strip() for value in values):
            count += 1
            if count > MAX_ROWS:
                raise FileRefused(N_("The file has more than 10,000 pupils."))
            yield Line(start, dict(zip(names, (v.strip() for v in values), strict=False)))
        start = reader.line_num + 1
