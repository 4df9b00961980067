"""The import: a dry run that says what would change and what is refused, then all or nothing.

``preview`` reads the file, checks every row, and compares it with the
register; ``commit`` runs the same preview and writes only when no row is
refused, in the caller's one transaction, so an error or a crash anywhere
leaves nothing half-imported. Rows are matched by pupil number; adults by
the blind index of their e-mail address, so neither a re-import nor a
sibling nor a parent at two schools makes a second person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from portal.errors import N_
from portal.people.blind_index import BlindIndex
from portal.people.models import Enrolment
from portal.register import csvfile, rows
from portal.register.rows import PupilRow, RowRefused
from portal.register.store import PupilView, Writer, find_enrolments

# Reads enrolments' pupils through the vault (by enrolment id); the service records each.
ReadPupils = Callable[[Sequence[Enrolment]], dict[str, PupilView]]


@dataclass(frozen=True)
class Refusal:
    line: int
    column: str
    reason: str  # a message id
    detail: str = ""


@dataclass
class Plan:
    """What an import would do, line by line."""

    add: list[int] = field(default_factory=list)
    update: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    file_error: Refusal | None = None
    # (line, the row, the enrolment it updates and what it holds now)
    work: list[tuple[int, PupilRow, Enrolment | None, PupilView | None]] = \
        field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.refused

    @property
    def refused_lines(self) -> list[int]:
        return sorted({r.line for r in self.refused})

    def counts(self) -> dict[str, int]:
        return {"add": len(self.add), "update": len(self.update),
                "unchanged": len(self.unchanged), "refused": len(self.refused_lines)}


def preview(db: Session, read: ReadPupils, index: BlindIndex, organisation_id: str,
            data: bytes, today: date) -> Plan:
    plan = Plan()
    try:
        parsed = _parse(csvfile.lines(csvfile.decode(data)), today, plan)
    except csvfile.FileRefused as refused:
        plan.file_error = Refusal(0, "", refused.reason, refused.detail)
        return plan
    found = find_enrolments(db, index, organisation_id, (row.pupil_number for _, row in parsed))
    views = read([found[row.pupil_number] for _, row in parsed if row.pupil_number in found])
    for line, row in parsed:
        enrolment = found.get(row.pupil_number)
        if enrolment is None:
            plan.add.append(line)
            plan.work.append((line, row, None, None))
            continue
        current = views[enrolment.id]
        conflict = _custody_conflict(current, row)
        if conflict:
            plan.refused.append(Refusal(line, conflict, N_(
                "Conflicting custody: the custody form recorded otherwise for this adult; "
                "change custody there.")))
        elif current.active and _same(current, row):
            plan.unchanged.append(line)
        else:
            plan.update.append(line)
            plan.work.append((line, row, enrolment, current))
    return plan


def commit(writer: Writer, plan: Plan) -> list[tuple[str, bool]]:
    """Write what ``plan`` found (it must be ``ok``); returns (child id, created) per row."""
    if not plan.ok:
        raise ValueError("a plan with refused rows is never written")
    writer.prefetch_adults(a.email for _, row, _, _ in plan.work for a in row.adults)
    writer.prefetch_children(row for _, row, enrolment, _ in plan.work
                             if enrolment is None and row.adults)
    written = []
    for _, row, enrolment, current in plan.work:
        if enrolment is None:
            written.append((writer.create(row), True))
        else:
            assert current is not None
            writer.update(enrolment, current, row)
            written.append((enrolment.child_id, False))
    return written


def _parse(lines: Iterable[csvfile.Line], today: date, plan: Plan) -> list[tuple[int, PupilRow]]:
    parsed: list[tuple[int, PupilRow]] = []
    numbers: dict[str, int] = {}
    adult_names: dict[str, tuple[str, int]] = {}
    for line in lines:
        try:
            row = rows.pupil(line.fields, today)
        except RowRefused as refused:
            plan.refused.extend(Refusal(line.number, column, reason)
                                for column, reason in refused.errors.items())
            continue
        first = numbers.get(row.pupil_number)
        if first is not None:
            plan.refused.append(Refusal(line.number, "leerlingnummer",
                                        N_("Duplicate pupil number (also on line %(line)s)."),
                                        str(first)))
            continue
        numbers[row.pupil_number] = line.number
        clash = _adult_clash(row, line.number, adult_names)
        if clash is not None:
            plan.refused.append(clash)
            continue
        parsed.append((line.number, row))
    return parsed


def _adult_clash(row: PupilRow, line: int,
                 seen: dict[str, tuple[str, int]]) -> Refusal | None:
    """One e-mail address is one person: the file must give it one name."""
    for position, adult in enumerate(row.adults, start=1):
        email = adult.email.lower()
        first = seen.get(email)
        if first is not None and first[0] != adult.name:
            return Refusal(line, f"verzorger{position}_naam",
                           N_("This e-mail address has another name on line %(line)s."),
                           str(first[1]))
    for adult in row.adults:
        seen.setdefault(adult.email.lower(), (adult.name, line))
    return None


def _same(current: PupilView, row: PupilRow) -> bool:
    if (current.pupil_number, current.name, current.birthdate, current.group) != \
            (row.pupil_number, row.name, row.birthdate, row.group):
        return False
    have = {(a.email.lower(), a.name, a.relation) for a in current.adults}
    return all((a.email.lower(), a.name, a.relation) in have for a in row.adults)


def _custody_conflict(current: PupilView, row: PupilRow) -> str | None:
    """The column of an adult whose custody the form recorded and the file contradicts."""
    recorded = {a.email.lower(): a for a in current.adults if a.custody_recorded}
    for position, adult in enumerate(row.adults, start=1):
        before = recorded.get(adult.email.lower())
        if before is not None and before.relation is not adult.relation:
            return f"verzorger{position}_gezag"
    return None
