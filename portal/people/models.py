"""Organisations, the people in them, and children with the adults around them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class OrganisationKind(enum.StrEnum):
    SCHOOL = "school"
    YOUTH_CARE = "youth_care"
    SAMENWERKINGSVERBAND = "samenwerkingsverband"
    MUNICIPALITY = "municipality"
    PORTAL = "portal"  # the operator: administrators and the DPO's office


class PersonKind(enum.StrEnum):
    PROFESSIONAL = "professional"
    CITIZEN = "citizen"  # parents, guardians, foster parents, pupils


class Role(enum.StrEnum):
    """What a professional does in their organisation (from the IdP's claims)."""

    MENTOR = "mentor"
    CARE_COORDINATOR = "care_coordinator"  # intern begeleider / zorgcoördinator
    SCHOOL_LEADER = "school_leader"
    YOUTH_CARE_WORKER = "youth_care_worker"
    SCHOOL_SOCIAL_WORKER = "school_social_worker"
    YOUTH_PROTECTOR = "youth_protector"
    MINUTE_TAKER = "minute_taker"
    DPO = "dpo"
    ADMIN = "admin"


class Relation(enum.StrEnum):
    """How an adult stands to a child (DOMAIN.md: custody and information rights)."""

    PARENT_WITH_CUSTODY = "parent_with_custody"
    PARENT_WITHOUT_CUSTODY = "parent_without_custody"
    GUARDIAN = "guardian"
    FOSTER_PARENT = "foster_parent"
    YOUTH_PROTECTOR_OTS = "youth_protector_ots"


CUSTODY_RELATIONS = frozenset({Relation.PARENT_WITH_CUSTODY, Relation.GUARDIAN})


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, "organisation_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    __tablename__ = "person"
    # Accounts are keyed by the configured provider's stable id, not its URL,
    # so moving an IdP to a new address does not orphan its users.
    # One family member per e-mail address, even under two imports at once.
    __table_args__ = (UniqueConstraint("idp", "subject"),
                      Index("uq_person_citizen_email_bidx", "email_bidx", unique=True,
                            sqlite_where=text("kind = 'citizen'"),
                            postgresql_where=text("kind = 'citizen'")))

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    kind: Mapped[PersonKind] = mapped_column(str_enum(PersonKind, "person_kind"))
    # A professional's name, in clear (it is in the access log by design). A
    # citizen's is empty here and sealed in ``name_ct``: read names through
    # ``portal.people.names`` only.
    display_name: Mapped[str] = mapped_column(String(200))
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email: Mapped[str | None] = mapped_column(String(320))
    # HMAC of the normalised e-mail address (portal.people.blind_index): how an
    # import finds the same adult again without searching on the address.
    email_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    # Both empty for a family member the school registered who has not yet
    # redeemed an invitation: no login is bound to them until then.
    idp: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Membership(Base):
    """A professional's role in an organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id", "role"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))


class Child(Base):
    """A pupil. Name and birthdate identify the child and are stored encrypted."""

    __tablename__ = "child"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    school_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Set when the pupil has an account (16+ pupils see their own data).
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), unique=True)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    birthdate_ct: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of name and birthdate: recognises a child who moves to another
    # organisation (with an adult's e-mail in common) without a clear identifier.
    identity_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enrolment(Base):
    """A child on one organisation's register: its own pupil number and group.

    The pupil number and group are sealed under the child's data key; the
    blind index keeps the number unique per organisation and findable.
    """

    __tablename__ = "child_enrolment"
    __table_args__ = (UniqueConstraint("organisation_id", "pupil_number_bidx"),
                      UniqueConstraint("child_id", "organisation_id"))

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"),
                                          index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    pupil_number_ct: Mapped[bytes] = mapped_column(LargeBinary)
    pupil_number_bidx: Mapped[str] = mapped_column(String(64))
    group_ct: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChildRelation(Base):
    """An adult around a child, typed as DOMAIN.md types them."""

    __tablename__ = "child_relation"
    __table_args__ = (UniqueConstraint("child_id", "person_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"),
                                          index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    relation: Mapped[Relation] = mapped_column(str_enum(Relation, "relation"))
    # What the school saw when a parent claimed sole custody (gezagsregister,
    # brp, parent_statement); the consent issue adds the form.
    custody_evidence: Mapped[str | None] = mapped_column(String(32))
