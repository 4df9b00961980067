"""The minutes editor's form: numbered section slots, parsed leniently or strictly.

Field names per slot ``i``: ``s{i}_key`` (the section's identity, empty for a
new one), ``s{i}_heading``, ``s{i}_body``, ``s{i}_kind``, ``s{i}_nature``,
``s{i}_shared``, ``s{i}_remove`` and one ``s{i}_category_<name>`` checkbox per
data category; ``slots`` says how many there are. An autosaved draft stores
the lenient parse (what was typed, errors and all) as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from portal.cases.gate import is_uuid
from portal.documents.models import CATEGORIES
from portal.errors import N_, InvalidInput
from portal.minutes.models import SectionKind, SectionNature
from portal.web.text import check_text

HEADING_MAX = 200
BODY_MAX = 20_000
MAX_SLOTS = 60
EMPTY_SLOTS = 3  # the editor always offers this many new sections


@dataclass(frozen=True)
class Slot:
    key: str  # "" for a new section
    heading: str
    body: str
    kind: str = SectionKind.DISCUSSION.value
    nature: str = SectionNature.FACT.value
    shared: bool = False
    categories: tuple[str, ...] = ()
    remove: bool = False

    @property
    def empty(self) -> bool:
        return not self.key and not self.heading.strip() and not self.body.strip()


def parse_slots(form: Mapping[str, str]) -> list[Slot]:
    """What the form holds, unchecked (the autosave keeps even half-written input)."""
    try:
        count = min(int(form.get("slots", "0")), MAX_SLOTS)
    except ValueError:
        count = 0
    slots = []
    for i in range(count):
        def get(name: str, i: int = i) -> str:
            return form.get(f"s{i}_{name}", "")
        key = get("key")
        slots.append(Slot(
            key=key if is_uuid(key) else "",
            heading=get("heading")[:HEADING_MAX * 2], body=get("body")[:BODY_MAX * 2],
            kind=get("kind") or SectionKind.DISCUSSION.value,
            nature=get("nature") or SectionNature.FACT.value,
            shared=get("shared") == "on",
            categories=tuple(c for c in CATEGORIES if get(f"category_{c}") == "on"),
            remove=get("remove") == "on"))
    return slots


def validate(slots: list[Slot]) -> list[Slot]:
    """The sections to store: empty new slots dropped, the rest complete and valid."""
    errors: dict[str, str] = {}
    kept = []
    for i, slot in enumerate(slots):
        if slot.empty or slot.remove:
            if slot.remove and slot.key:
                kept.append(slot)
            continue
        if not slot.heading.strip():
            errors[f"s{i}_heading"] = N_("Give the section a heading.")
        elif len(slot.heading.strip()) > HEADING_MAX:
            errors[f"s{i}_heading"] = N_("The heading is too long.")
        if not slot.body.strip():
            errors[f"s{i}_body"] = N_("The section is empty.")
        elif len(slot.body) > BODY_MAX:
            errors[f"s{i}_body"] = N_("The section is too long.")
        check_text(errors, {f"s{i}_heading": slot.heading, f"s{i}_body": slot.body},
                   multiline=(f"s{i}_body",))
        if not slot.categories:
            errors[f"s{i}_categories"] = N_("Choose at least one data category.")
        if slot.kind not in {k.value for k in SectionKind}:
            errors[f"s{i}_kind"] = N_("Choose what kind of section this is.")
        if slot.nature not in {n.value for n in SectionNature}:
            errors[f"s{i}_nature"] = N_("Say whether this is a fact or a professional opinion.")
        kept.append(slot)
    if not errors and not any(not s.remove for s in kept):
        errors["s0_heading"] = N_("Write at least one section.")
    if errors:
        raise InvalidInput(errors)
    return kept


def to_json(slots: list[Slot]) -> str:
    return json.dumps([asdict(s) for s in slots], ensure_ascii=False)


def from_json(text: str) -> list[Slot]:
    return [Slot(**{**item, "categories": tuple(item.get("categories", ()))})
            for item in json.loads(text)]


def with_empty_slots(slots: list[Slot]) -> list[Slot]:
    """The editor's slots: what exists, plus room for new sections."""
    filled = [s for s in slots if not s.empty]
    return filled + [Slot(key="", heading="", body="")] * EMPTY_SLOTS
