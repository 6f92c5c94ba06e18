"""Electronic health record: encounters, notes, vitals, allergies, problems, labs, documents,
and the access side of the chart (care team membership and break-the-glass grants).

History is appended, never overwritten: an amended note adds a ``clinical_note_versions``
row and the earlier versions stay readable.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from hms_server.adapters.orm.base import Base

ENCOUNTER_KINDS = ("outpatient", "inpatient", "emergency", "telehealth", "home")
ENCOUNTER_STATUSES = ("in_progress", "finished", "cancelled")


class Encounter(Base):
    """One contact between a patient and a clinician (an outpatient visit; inpatient stays
    link here later). ``appointment_id`` has no foreign key so the EHR does not depend on
    the scheduling tables' lifecycle."""

    __tablename__ = "encounters"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENCOUNTER_KINDS}", name="kind_code"),
        CheckConstraint(f"status IN {ENCOUNTER_STATUSES}", name="status_code"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="period_order"),
        Index("ix_encounters_patient_started", "patient_id", text("started_at DESC")),
        Index("ix_encounters_clinician_started", "clinician_user_id", "started_at"),
        Index(
            "ix_encounters_appointment",
            "appointment_id",
            postgresql_where=text("appointment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    clinician_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    appointment_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="outpatient")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="in_progress")
    reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


NOTE_TYPES = ("soap", "progress", "consult", "procedure", "discharge", "nursing")


class ClinicalNote(Base):
    """A note's identity; its text lives in ``ClinicalNoteVersion`` rows (one per amendment).
    ``current_version`` is the newest version number and doubles as the optimistic lock."""

    __tablename__ = "clinical_notes"
    __table_args__ = (
        CheckConstraint(f"note_type IN {NOTE_TYPES}", name="note_type_code"),
        Index("ix_clinical_notes_patient_created", "patient_id", text("created_at DESC")),
        Index("ix_clinical_notes_encounter", "encounter_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    note_type: Mapped[str] = mapped_column(String(16), nullable=False, default="soap")
    title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    current_version: Mapped[int] = mapped_column(nullable=False, default=1)

    # The number is domain data (version N of the text is ``clinical_note_versions`` row N),
    # so the amending service sets it; the mapper still guards UPDATEs with it.
    __mapper_args__ = {"version_id_col": current_version, "version_id_generator": False}


class ClinicalNoteVersion(Base):
    """Append-only text of a note. ``signed_at`` set means the author attested this version."""

    __tablename__ = "clinical_note_versions"
    __table_args__ = (
        UniqueConstraint("note_id", "version_no", name="uq_clinical_note_versions_note_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("clinical_notes.id"), nullable=False)
    version_no: Mapped[int] = mapped_column(nullable=False)
    subjective: Mapped[str | None] = mapped_column(Text)
    objective: Mapped[str | None] = mapped_column(Text)
    assessment: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    amendment_reason: Mapped[str | None] = mapped_column(String(500))
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    signed_at: Mapped[datetime | None]
    signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class VitalSigns(Base):
    """One set of observations taken together. BMI is derived by the server.

    ``source`` is ``manual`` (a person entered them: ``recorded_by_user_id``) or ``device``
    (a bedside monitor sent them over HL7: ``device_id``, no user)."""

    __tablename__ = "vital_signs"
    __table_args__ = (
        Index("ix_vital_signs_patient_recorded", "patient_id", text("recorded_at DESC")),
        Index("ix_vital_signs_encounter", "encounter_id"),
        CheckConstraint("source IN ('manual','device')", name="source_code"),
        CheckConstraint(
            "(source = 'manual') = (recorded_by_user_id IS NOT NULL)", name="manual_has_user"
        ),
        CheckConstraint("source <> 'device' OR device_id IS NOT NULL", name="device_has_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(
        String(8), nullable=False, default="manual", server_default="manual"
    )
    device_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    systolic_mmhg: Mapped[int | None] = mapped_column(SmallInteger)
    diastolic_mmhg: Mapped[int | None] = mapped_column(SmallInteger)
    heart_rate_bpm: Mapped[int | None] = mapped_column(SmallInteger)
    respiratory_rate: Mapped[int | None] = mapped_column(SmallInteger)
    temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    spo2_pct: Mapped[int | None] = mapped_column(SmallInteger)
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    height_cm: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    bmi: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    # {"systolic_mmhg": "H", ...}: abnormal flags computed when recorded.
    flags: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    notes: Mapped[str | None] = mapped_column(String(500))


ALLERGY_SEVERITIES = ("mild", "moderate", "severe")
ALLERGY_STATUSES = ("active", "inactive", "resolved", "entered_in_error")
ALLERGY_CATEGORIES = ("medication", "food", "environment", "biologic")


class Allergy(Base):
    """An allergy or intolerance. ``substance`` is matched against drug ingredients and
    therapeutic classes at prescribing time, case-insensitively."""

    __tablename__ = "allergies"
    __table_args__ = (
        CheckConstraint(f"severity IN {ALLERGY_SEVERITIES}", name="severity_code"),
        CheckConstraint(f"status IN {ALLERGY_STATUSES}", name="status_code"),
        CheckConstraint(f"category IN {ALLERGY_CATEGORIES}", name="category_code"),
        CheckConstraint("kind IN ('allergy','intolerance')", name="kind_code"),
        Index("ix_allergies_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    substance: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False, default="medication")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="allergy")
    reaction: Mapped[str | None] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(16), nullable=False, default="moderate")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    onset_date: Mapped[date | None] = mapped_column(Date)
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


PROBLEM_STATUSES = ("active", "inactive", "resolved", "entered_in_error")


class Problem(Base):
    """An entry on the problem list, coded in ICD-10."""

    __tablename__ = "problems"
    __table_args__ = (
        CheckConstraint(f"status IN {PROBLEM_STATUSES}", name="status_code"),
        Index("ix_problems_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    icd10_code: Mapped[str] = mapped_column(String(10), nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    onset_date: Mapped[date | None] = mapped_column(Date)
    resolved_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(String(1000))
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class LabTest(Base):
    """Catalogue entry (reference data: ``adapters.reference_data``)."""

    __tablename__ = "lab_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    loinc: Mapped[str | None] = mapped_column(String(16))
    specimen: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(32))
    ref_low: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    ref_high: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    critical_low: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    critical_high: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    value_type: Mapped[str] = mapped_column(String(16), nullable=False, default="numeric")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


LAB_ORDER_STATUSES = ("ordered", "resulted", "cancelled")
LAB_PRIORITIES = ("routine", "urgent", "stat")


class LabOrder(Base):
    __tablename__ = "lab_orders"
    __table_args__ = (
        CheckConstraint(f"status IN {LAB_ORDER_STATUSES}", name="status_code"),
        CheckConstraint(f"priority IN {LAB_PRIORITIES}", name="priority_code"),
        Index("ix_lab_orders_patient_ordered", "patient_id", text("ordered_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    test_id: Mapped[int] = mapped_column(ForeignKey("lab_tests.id"), nullable=False)
    ordered_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    ordered_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    priority: Mapped[str] = mapped_column(String(8), nullable=False, default="routine")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ordered")
    notes: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class LabResult(Base):
    """The result of one order. Units and reference range are copied from the catalogue at
    result time so a later catalogue change does not rewrite history."""

    __tablename__ = "lab_results"
    __table_args__ = (
        CheckConstraint("value_numeric IS NOT NULL OR value_text IS NOT NULL", name="has_value"),
        Index("ix_lab_results_patient_resulted", "patient_id", text("resulted_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("lab_orders.id"), nullable=False, unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    test_id: Mapped[int] = mapped_column(ForeignKey("lab_tests.id"), nullable=False)
    value_numeric: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    value_text: Mapped[str | None] = mapped_column(String(500))
    unit: Mapped[str | None] = mapped_column(String(32))
    ref_low: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    ref_high: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    flag: Mapped[str | None] = mapped_column(String(4))  # L, H, LL, HH, N, A
    comment: Mapped[str | None] = mapped_column(String(500))
    resulted_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    resulted_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class PatientDocument(Base):
    """An attached PDF or image. ``content_type`` comes from the file's magic bytes, never
    from the client; ``content`` is loaded only when the document itself is downloaded."""

    __tablename__ = "patient_documents"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index("ix_patient_documents_patient", "patient_id", text("uploaded_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())


class CareTeamMember(Base):
    """A clinician who looks after a patient; membership is what lets a doctor or nurse
    read the chart without breaking the glass."""

    __tablename__ = "care_team_members"
    __table_args__ = (Index("ix_care_team_members_user", "user_id", "patient_id"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False, default="clinician")
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="encounter")
    added_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why a colleague was added (a referral or handover); required for those since 0040.
    reason: Mapped[str | None] = mapped_column(String(1000))


class BreakGlassGrant(Base):
    """Emergency access to one patient's chart: reason required, expires, reviewed later."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        CheckConstraint("expires_at > granted_at", name="expires_after_granted"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_present"),
        Index("ix_break_glass_grants_user_patient", "user_id", "patient_id", "expires_at"),
        Index("ix_break_glass_grants_granted", "granted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    workstation: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(1000))
