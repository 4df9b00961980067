"""Which fields of an access record are sealed, and how a stored row is checked against them.

The canonical encoding (``portal.audit.chain``) of :func:`sealed_fields` is
computed once, when the record is appended, and stored with it. The
verifier replays the chain over those stored bytes; :func:`column_changes`
then checks that the searchable columns still say what the sealed encoding
says, so editing a column (without touching the encoding) is caught too.

Columns added later (:data:`OPTIONAL_COLUMNS`) are sealed only when they
hold a value: a record without one encodes, and so hashes, exactly as it did
before the column existed, and a sealed value cannot be removed unseen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from portal.audit.chain import format_timestamp

# Every column that describes the access, in the encoding under its column name.
# ``seq`` is sealed too, so a record cannot be moved to another position.
SEALED_COLUMNS: tuple[str, ...] = (
    "id", "seq", "occurred_at", "action_code", "event_type", "outcome", "reason",
    "purpose_of_use", "basis", "legal_ground", "consent_id", "break_glass_id",
    "break_glass_reason", "authorised", "relation_to_case", "consent_present",
    "emergency_procedure", "user_id", "user_name", "user_role", "user_organisation_id",
    "on_behalf_of_id", "session_ref", "client_address", "case_id", "child_id",
    "object_type", "object_id", "document_id", "document_version", "data_categories",
    "sensitivity", "query", "source",
)
# Sealed only when not None (added after records were already written without them).
OPTIONAL_COLUMNS: tuple[str, ...] = ("request_id",)
# What the verifier reads per row: the sealed columns, then the optional ones.
ROW_COLUMNS: tuple[str, ...] = SEALED_COLUMNS + OPTIONAL_COLUMNS
_BOOLEANS = frozenset({"authorised", "relation_to_case", "consent_present",
                       "emergency_procedure"})


def join_categories(categories: Iterable[str]) -> str | None:
    """Data categories as stored in their column: sorted, unique, comma-joined."""
    unique = sorted(set(categories))
    for category in unique:
        if not category or "," in category:
            raise ValueError(f"invalid data category {category!r}")
    return ",".join(unique) or None


def split_categories(stored: str | None) -> list[str]:
    return stored.split(",") if stored else []


def sealed_fields(values: Mapping[Any, Any]) -> dict[str, object]:
    """The mapping that is encoded and sealed, from a record's column values."""
    fields: dict[str, object] = {name: values[name] for name in SEALED_COLUMNS}
    for name in OPTIONAL_COLUMNS:
        if values.get(name) is not None:
            fields[name] = values[name]
    occurred = values["occurred_at"]
    if not isinstance(occurred, datetime):
        raise TypeError("occurred_at must be a datetime")
    fields["occurred_at"] = format_timestamp(occurred)
    fields["data_categories"] = split_categories(values["data_categories"])
    for name in _BOOLEANS:
        fields[name] = bool(values[name])
    return fields


_OCCURRED = SEALED_COLUMNS.index("occurred_at")
_CATEGORIES = SEALED_COLUMNS.index("data_categories")
_FLAGS = frozenset(SEALED_COLUMNS.index(name) for name in _BOOLEANS)
_EMPTY: tuple[object, ...] = (None, False, [])
_MISSING = object()
_SEALED = frozenset(ROW_COLUMNS)


# The canonical encoding's JSON settings (portal.audit.chain), as a reusable C encoder.
# Keys are put in sorted order once, here, rather than sorted again for every row.
_DUMPS = json.JSONEncoder(sort_keys=False, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False).encode
_SORTED_NAMES = tuple(sorted(SEALED_COLUMNS))
_IN_SORTED_ORDER = itemgetter(*(SEALED_COLUMNS.index(name) for name in _SORTED_NAMES))
# The same with every optional column present (a row that has them all set).
_SORTED_ALL = tuple(sorted(ROW_COLUMNS))
_ALL_IN_SORTED_ORDER = itemgetter(*(ROW_COLUMNS.index(name) for name in _SORTED_ALL))
_OPTIONAL_AT = tuple(ROW_COLUMNS.index(name) for name in OPTIONAL_COLUMNS)


def row_matches(row: Sequence[Any], encoding: bytes) -> bool:
    """True when the row's ``ROW_COLUMNS`` re-encode to exactly ``encoding``.

    The verifier's fast path: one C-level JSON encode and a byte comparison
    instead of decoding the sealed bytes and comparing field by field. Equal
    bytes prove every column says what was sealed; anything else (a changed
    column, an older encoding without a later field) goes to
    :func:`row_changes` for the precise answer. A row of only the
    ``SEALED_COLUMNS`` counts as one whose optional columns are empty.
    """
    optional = [row[i] for i in _OPTIONAL_AT if i < len(row)]
    if all(value is None for value in optional):
        fields = dict(zip(_SORTED_NAMES, _IN_SORTED_ORDER(row), strict=True))
    elif all(value is not None for value in optional):
        fields = dict(zip(_SORTED_ALL, _ALL_IN_SORTED_ORDER(row), strict=True))
    else:  # some optional columns set, some not: rare, and the slow path is exact
        return not row_changes(row, encoding)
    fields["occurred_at"] = format_timestamp(fields["occurred_at"])
    categories = fields["data_categories"]
    fields["data_categories"] = categories.split(",") if categories else []
    for name in _BOOLEANS:
        fields[name] = bool(fields[name])
    try:
        return _DUMPS(fields).encode("ascii") == encoding
    except (TypeError, ValueError, UnicodeEncodeError):
        return False


def row_changes(row: Sequence[Any], encoding: bytes) -> list[str]:
    """:func:`column_changes` for a row of the ``ROW_COLUMNS`` in order (the verifier's
    hot loop: no intermediate mapping); a shorter row's optional columns count as empty."""
    try:
        sealed = json.loads(encoding)
    except ValueError:
        return ["encoding"]
    if not isinstance(sealed, dict):
        return ["encoding"]
    changed = []
    present = 0
    get = sealed.get
    missing = _MISSING
    width = len(row)
    for index, name in enumerate(ROW_COLUMNS):
        value: Any = row[index] if index < width else None
        if index == _OCCURRED:
            value = format_timestamp(value)
        elif index == _CATEGORIES:
            value = value.split(",") if value else []
        elif index in _FLAGS:
            value = bool(value)
        found = get(name, missing)
        if found is missing:
            if value not in _EMPTY:
                changed.append(name)
            continue
        present += 1
        # The type matters too: JSON true is not the integer 1.
        if found != value or type(found) is not type(value):
            changed.append(name)
    if present != len(sealed):
        changed.extend(name for name in sealed if name not in _SEALED)
    return changed


def column_changes(values: Mapping[Any, Any], encoding: bytes) -> Sequence[str]:
    """Names of the columns whose value no longer matches the sealed ``encoding``.

    Fields a later format adds are absent from older encodings; their columns
    must then be empty.
    """
    try:
        sealed = json.loads(encoding)
    except ValueError:
        return ["encoding"]
    if not isinstance(sealed, dict):
        return ["encoding"]
    current = sealed_fields(values)
    changed = [name for name, value in current.items()
               if (sealed[name] != value if name in sealed else value not in (None, False, []))]
    changed.extend(name for name in sealed if name not in current)
    return changed


# -- the sealed encoding from raw driver values ----------------------------------------------

# A flag as the drivers return it (SQLite 0/1, PostgreSQL a bool), as its JSON token;
# anything else (NULL, 2, text) is left to the exact path.
_FLAG_TOKENS: dict[object, str] = {0: "false", 1: "true"}
_encode_str = json.encoder.encode_basestring_ascii  # the C escaper the canonical JSON uses
_NOT_TEXT = "\x00"  # not ASCII-safe JSON: a row holding it never matches
_SPECIAL = frozenset({"seq", "document_version", "occurred_at", "data_categories", *_BOOLEANS})


class _Tokens(dict[object, str]):
    """Text column values -> their JSON tokens, each escaped once (user names, roles,
    bases, case ids repeat from row to row); bounded, cleared when full."""

    LIMIT = 200_000

    def __init__(self) -> None:
        super().__init__({None: "null"})

    def __missing__(self, value: object) -> str:
        if type(value) is not str:
            return _NOT_TEXT  # bytes, a number in a text column ...: the exact path decides
        if len(self) >= self.LIMIT:
            self.clear()
            self[None] = "null"
        token = self[value] = _encode_str(value)
        return token


class RawRowEncoder:
    """The sealed encoding rebuilt from the raw column values the database driver returns.

    The verifier's fast path (``portal audit verify``, full mode): it reads the
    ``ROW_COLUMNS`` with a plain cursor, as tuples of driver values, and builds
    no ORM rows, parses no timestamps and calls no type processors. For each row
    :meth:`encode` returns the bytes that :func:`row_matches` would compare, or
    ``None`` when a value is not in the form the portal writes (a timestamp with
    sub-millisecond digits, a flag that is neither 0 nor 1, a blob in a text
    column ...): the caller then decides that row on the exact path
    (:func:`row_changes` over the ORM's values). So the fast path only ever says
    "these columns are what was sealed" when the exact path would say so too.

    The encoding is the canonical JSON (``portal.audit.chain``) written without
    the generic encoder: a template of the sorted keys is filled with each
    value's JSON token, made with the same C escaper; text values repeat, so
    their tokens are kept (:class:`_Tokens`).

    ``start`` is where the ``ROW_COLUMNS`` begin in each row (the verifier puts
    the chain's columns first). How the driver represents values:

    * ``occurred_at``: SQLite returns the text SQLAlchemy stored,
      ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC); PostgreSQL an aware datetime.
      Whole milliseconds in UTC become ``YYYY-MM-DDTHH:MM:SS.mmmZ`` by slicing;
      anything else goes the exact way.
    * the four flags: SQLite's 0/1, PostgreSQL's booleans.
    * ``seq`` and ``document_version``: integers; everything else text or ``None``.
    """

    def __init__(self, start: int = 0) -> None:
        self._tokens = _Tokens()
        self._optional_at = tuple(start + i for i in _OPTIONAL_AT)
        self._width = start + len(ROW_COLUMNS)
        self._plain = self._layout(_SORTED_NAMES, start)
        self._all = self._layout(_SORTED_ALL, start)
        at = {name: start + ROW_COLUMNS.index(name) for name in _SPECIAL}
        self._seq, self._version = at["seq"], at["document_version"]
        self._occurred, self._categories = at["occurred_at"], at["data_categories"]
        self._flags = itemgetter(*(at[name] for name in sorted(_BOOLEANS)))

    @staticmethod
    def _layout(names: tuple[str, ...], start: int) -> tuple[Any, str]:
        """A getter of the text columns, and the template: text tokens first ({0}...),
        then seq, document_version, occurred_at, data_categories and the flags."""
        text = [name for name in names if name not in _SPECIAL]
        order = {name: i for i, name in enumerate(
            [*text, "seq", "document_version", "occurred_at", "data_categories",
             *sorted(_BOOLEANS)])}
        fields = ",".join(f"{_encode_str(name)}:{{{order[name]}}}" for name in names)
        return itemgetter(*(start + ROW_COLUMNS.index(name) for name in text)), \
            "{{" + fields + "}}"

    def encode(self, row: Sequence[Any]) -> bytes | None:
        """The sealed encoding of ``row``'s raw values, or ``None`` (see the class)."""
        if len(row) < self._width:
            return None
        optional = [row[i] for i in self._optional_at]
        if all(value is None for value in optional):
            text, template = self._plain
        elif all(value is not None for value in optional):
            text, template = self._all
        else:
            return None
        seq, version = row[self._seq], row[self._version]
        if type(seq) is not int or (version is not None and type(version) is not int):
            return None
        stamp = _raw_timestamp(row[self._occurred])
        if stamp is None:
            return None
        joined = row[self._categories]
        if not joined:
            categories = "[]"
        elif type(joined) is str:
            categories = "[" + _encode_str(joined).replace(",", '","') + "]"
        else:
            return None
        flags = [_FLAG_TOKENS.get(flag) for flag in self._flags(row)]
        if None in flags:
            return None
        tokens = [*map(self._tokens.__getitem__, text(row)), str(seq),
                  "null" if version is None else str(version), f'"{stamp}"', categories,
                  *flags]
        if _NOT_TEXT in tokens:
            return None
        return template.format(*tokens).encode("ascii")


def _raw_timestamp(value: object) -> str | None:
    """``occurred_at`` as sealed, from the driver's value when it is whole milliseconds
    in UTC (what the portal writes); ``None`` for anything else."""
    if type(value) is str:
        # SQLite: "2026-03-02 07:00:01.537000"
        if len(value) == 26 and value[10] == " " and value.endswith("000"):
            return f"{value[:10]}T{value[11:23]}Z"
        return None
    if type(value) is datetime:
        # PostgreSQL: an aware datetime, in UTC for the verifier's session.
        text = value.isoformat()
        if len(text) == 32 and text.endswith("000+00:00"):
            return f"{text[:23]}Z"
        if len(text) == 25 and text.endswith("+00:00"):  # no fraction: .000
            return f"{text[:19]}.000Z"
        return None
    return None


def sealed_sql(dialect: str) -> str:
    """An SQL expression that rebuilds the sealed encoding inside the database, as text
    (NULL where a value is not in the form the portal writes): the verifier's first
    filter, so most rows never become Python objects column by column.

    Each value becomes the JSON token of the database's own JSON quoting (SQLite's
    ``json_quote``, PostgreSQL's ``to_json``); they escape quotes, backslashes and
    control characters as the canonical encoding does, but leave non-ASCII text
    unescaped, so a row with such text does not match here and goes to
    :class:`RawRowEncoder`. Equal bytes are proof enough: every token is a valid
    JSON encoding of its column, so the sealed encoding then decodes to exactly
    the columns' values. Column names are module constants, never input.
    """
    sqlite = dialect == "sqlite"

    def text(column: str) -> str:
        return f"json_quote({column})" if sqlite else f"coalesce(to_json({column})::text, 'null')"

    def token(column: str) -> str:
        if column in _BOOLEANS:
            return (f"CASE {column} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END" if sqlite
                    else f"CASE WHEN {column} THEN 'true' ELSE 'false' END")
        if column in ("seq", "document_version"):
            if sqlite:
                return (f"CASE typeof({column}) WHEN 'integer' THEN CAST({column} AS TEXT) "
                        "WHEN 'null' THEN 'null' END")
            return f"coalesce({column}::text, 'null')"
        if column == "occurred_at":
            if sqlite:
                return ("CASE WHEN typeof(occurred_at) = 'text' AND length(occurred_at) = 26 "
                        "AND substr(occurred_at, 11, 1) = ' ' "
                        "AND substr(occurred_at, 24) = '000' THEN '\"' || "
                        "substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12, 12) "
                        "|| 'Z\"' END")
            return ("CASE WHEN date_trunc('milliseconds', occurred_at) = occurred_at THEN '\"' "
                    "|| to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') "
                    "|| 'Z\"' END")
        if column == "data_categories":
            return ("CASE WHEN data_categories IS NULL OR data_categories = '' THEN '[]' "
                    f"ELSE '[' || replace({text(column)}, ',', '\",\"') || ']' END")
        return text(column)

    parts = []
    for index, name in enumerate(_SORTED_ALL):
        comma = "," if index else ""
        if name in OPTIONAL_COLUMNS:
            parts.append(f"CASE WHEN {name} IS NULL THEN '' "
                         f"ELSE '{comma}\"{name}\":' || {token(name)} END")
        else:
            parts.append(f"'{comma}\"{name}\":' || {token(name)}")
    return "'{' || " + " || ".join(parts) + " || '}'"
