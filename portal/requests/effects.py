"""What filing and deciding a request do by themselves (called by the desk and the
family's filing, in the same transaction).

An objection about a named case restricts the case as soon as it is filed or
registered, and stays so until the FG decides: a refusal lifts it, a grant in
whole or in part keeps it as an upheld objection. The family's reason stays
between them and the FG: the restriction says only that an objection is being
considered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.models import Case
from portal.consent.models import Restriction
from portal.policy import Actor
from portal.requests.models import Outcome, RequestKind, SubjectRequest
from portal.rights.models import RestrictionGround, RestrictionNote
from portal.rights.restriction import restrict, unrestrict
from portal.vault.service import Vault


def on_filed(db: Session, vault: Vault, actor: Actor, now: datetime,
             request: SubjectRequest) -> None:
    """An objection about a named case restricts it at once, until the FG decides."""
    if request.kind is not RequestKind.OBJECTION or request.case_id is None:
        return
    case = db.get_one(Case, request.case_id)
    if case.erased_at is None:
        restrict(db, vault, case, actor.person_id, now, "", RestrictionGround.OBJECTION,
                 source_id=request.id)


def on_decided(db: Session, vault: Vault, actor: Actor, now: datetime,
               request: SubjectRequest, reasons: str) -> None:
    """The decision ends the objection's restriction: lifted on refusal, kept (as an
    upheld objection) when granted in whole or in part."""
    held = db.execute(select(Restriction, RestrictionNote)
                      .join(RestrictionNote, RestrictionNote.restriction_id == Restriction.id)
                      .where(RestrictionNote.source_id == request.id,
                             RestrictionNote.ground == RestrictionGround.OBJECTION,
                             Restriction.lifted_at.is_(None))).all()
    for restriction, note in held:
        if request.outcome is Outcome.REFUSED:
            unrestrict(db, vault, db.get_one(Case, restriction.case_id), restriction,
                       actor.person_id, now, reasons)
        else:
            note.ground = RestrictionGround.UPHELD_OBJECTION
    db.flush()
