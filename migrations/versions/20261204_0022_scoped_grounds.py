"""scoped grounds: a legal ground is a scoped, justified, reviewed disclosure basis

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

Existing cases with a ground other than consent become consent cases with one
scoped ground (docs/architecture.md, "Legal grounds as scoped exceptions"):

* ``ots``: the youth protector (role ``youth_protector`` and the child's
  youth-protector relations), every category: the leaflet gives the youth
  protector a right to information, so today's meaning stays for them only;
* ``tlv_or_extra_support``: the samenwerkingsverband organisations taking part;
* every other ground, and a TLV case without a samenwerkingsverband: the narrow
  default, the person who created the case (who invoked the ground).

Nothing was written as a justification then, so a migrated ground has none and
waits in the DPO's queue for a review. The duty the leaflet leaves (school:
inform; youth care: try to obtain consent) becomes a task for the creator, due
in 14 days.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASES = ("consent", "meldrecht_veilig_thuis", "verwijsindex", "raad_kinderbescherming",
         "tlv_or_extra_support", "ots", "legal_obligation", "safety_exception", "vital_interest")
# The duty per ground in a school / youth-care case (portal.consent.rules.LEGAL_GROUNDS).
MELDRECHT = ("inform", "try_to_obtain_consent")
DUTIES = {"meldrecht_veilig_thuis": MELDRECHT, "verwijsindex": MELDRECHT,
          "raad_kinderbescherming": MELDRECHT, "ots": MELDRECHT,
          "tlv_or_extra_support": ("inform", "inform")}
CATEGORIES = ["behaviour", "family_situation", "health", "other", "school_progress",
              "social_emotional"]


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, portal.db.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "case_ground",
        _id("id"), _id("case_id"),
        sa.Column("basis", _enum("ground_basis", *BASES), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("justification_ct", sa.LargeBinary(), nullable=True),
        _id("invoked_by"), _at("invoked_at"),
        _at("ended_at", nullable=True), _id("ended_by", nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        _at("reviewed_at", nullable=True), _id("reviewed_by", nullable=True),
        _fk("case_ground", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("case_ground", "invoked_by", "person"),
        _fk("case_ground", "ended_by", "person"),
        _fk("case_ground", "reviewed_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_ground")),
    )
    _index("case_ground", "case_id", "reviewed_at")
    op.create_table(
        "case_ground_event",
        _id("id"), _id("ground_id"), _id("case_id"),
        sa.Column("kind", _enum("ground_event", "invoked", "changed", "ended", "reviewed",
                                "migrated"), nullable=False),
        _id("person_id", nullable=True), _at("at"),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=True),
        _fk("case_ground_event", "ground_id", "case_ground", ondelete="CASCADE"),
        _fk("case_ground_event", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("case_ground_event", "person_id", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_ground_event")),
    )
    _index("case_ground_event", "ground_id", "case_id")
    op.create_table(
        "ground_task",
        _id("id"), _id("ground_id"), _id("case_id"),
        sa.Column("duty", _enum("ground_duty", "try_to_obtain_consent", "inform",
                                "document_and_notify_dpo"), nullable=False),
        _id("owner_id"), sa.Column("due_on", sa.Date(), nullable=False),
        _at("done_at", nullable=True), _id("done_by", nullable=True),
        sa.Column("note_ct", sa.LargeBinary(), nullable=True),
        _fk("ground_task", "ground_id", "case_ground", ondelete="CASCADE"),
        _fk("ground_task", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("ground_task", "owner_id", "person"),
        _fk("ground_task", "done_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ground_task")),
    )
    _index("ground_task", "ground_id", "case_id")
    op.create_table(
        "organisation_ground_role",
        _id("organisation_id"), sa.Column("role", sa.String(length=32), nullable=False),
        _fk("organisation_ground_role", "organisation_id", "organisation"),
        sa.PrimaryKeyConstraint("organisation_id", "role",
                                name=op.f("pk_organisation_ground_role")),
    )
    _migrate_case_grounds()


def _migrate_case_grounds() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    case = sa.table("mdo_case", sa.column("id"), sa.column("legal_basis"),
                    sa.column("created_by"), sa.column("child_id"),
                    sa.column("created_at", portal.db.UTCDateTime(timezone=True)))
    cases = bind.execute(sa.select(case.c.id, case.c.legal_basis, case.c.created_by,
                                   case.c.created_at, case.c.child_id)
                         .where(case.c.legal_basis != "consent")).all()
    ground = sa.table(
        "case_ground", sa.column("id"), sa.column("case_id"), sa.column("basis"),
        sa.column("recipients", sa.JSON()), sa.column("categories", sa.JSON()),
        sa.column("valid_from", sa.Date()), sa.column("invoked_by"),
        sa.column("invoked_at", portal.db.UTCDateTime(timezone=True)),
        sa.column("needs_review", sa.Boolean()))
    event = sa.table(
        "case_ground_event", sa.column("id"), sa.column("ground_id"), sa.column("case_id"),
        sa.column("kind"), sa.column("at", portal.db.UTCDateTime(timezone=True)))
    task = sa.table("ground_task", sa.column("id"), sa.column("ground_id"),
                    sa.column("case_id"), sa.column("duty"), sa.column("owner_id"),
                    sa.column("due_on", sa.Date()))
    for case_id, basis, created_by, created_at, child_id in cases:
        recipients = _recipients(bind, basis, case_id, child_id) or [f"person:{created_by}"]
        ground_id = str(uuid.uuid4())
        bind.execute(ground.insert().values(
            id=ground_id, case_id=case_id, basis=basis, recipients=recipients,
            categories=CATEGORIES, valid_from=created_at.date(), invoked_by=created_by,
            invoked_at=created_at, needs_review=True))
        bind.execute(event.insert().values(id=str(uuid.uuid4()), ground_id=ground_id,
                                           case_id=case_id, kind="migrated", at=now))
        if basis in DUTIES:
            duty = DUTIES[basis][1 if _youth_care(bind, case_id) else 0]
            bind.execute(task.insert().values(
                id=str(uuid.uuid4()), ground_id=ground_id, case_id=case_id, duty=duty,
                owner_id=created_by, due_on=(now + timedelta(days=14)).date()))
    bind.execute(sa.text("UPDATE mdo_case SET legal_basis = 'consent' "
                         "WHERE legal_basis <> 'consent'"))


def _youth_care(bind: sa.Connection, case_id: str) -> bool:
    """As portal.consent.facts.case_setting: a youth-care organisation takes part."""
    return bind.execute(sa.text(
        "SELECT 1 FROM organisation o WHERE o.kind = 'youth_care' AND (o.id IN "
        "(SELECT organisation_id FROM case_participant WHERE case_id = :case) OR o.id = "
        "(SELECT organisation_id FROM mdo_case WHERE id = :case))"),
        {"case": case_id}).first() is not None


def _recipients(bind: sa.Connection, basis: str, case_id: str, child_id: str | None
                ) -> list[str]:
    if basis == "ots":
        protectors = [] if child_id is None else bind.execute(sa.text(
            "SELECT person_id FROM child_relation WHERE child_id = :child "
            "AND relation = 'youth_protector_ots'"), {"child": child_id}).scalars().all()
        return ["role:youth_protector", *sorted(f"adult:{p}" for p in protectors)]
    if basis == "tlv_or_extra_support":
        organisations = bind.execute(sa.text(
            "SELECT DISTINCT o.id FROM case_participant p JOIN organisation o "
            "ON o.id = p.organisation_id WHERE p.case_id = :case "
            "AND o.kind = 'samenwerkingsverband'"), {"case": case_id}).scalars().all()
        return sorted(f"org:{o}" for o in organisations)
    return []


def downgrade() -> None:
    # The case's single ground comes back from its first scoped ground still in force.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT case_id, basis FROM case_ground WHERE ended_at IS NULL "
        "AND basis <> 'safety_exception' ORDER BY invoked_at")).all()
    restored: dict[str, str] = {}
    for case_id, basis in rows:
        restored.setdefault(case_id, basis)
    for case_id, basis in restored.items():
        bind.execute(sa.text("UPDATE mdo_case SET legal_basis = :basis WHERE id = :case"),
                     {"basis": basis, "case": case_id})
    op.drop_table("organisation_ground_role")
    op.drop_table("ground_task")
    op.drop_table("case_ground_event")
    op.drop_table("case_ground")
