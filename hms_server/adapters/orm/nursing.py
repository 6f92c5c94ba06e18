"""Nursing records of an admission: scored assessments, fluid intake and output, and care
tasks with due times. (Nursing notes are clinical notes of type ``nursing``; vitals are the
chart's vital signs.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.domain.nursing import (
    ASSESSMENT_KINDS,
    FLUID_KINDS,
    INTAKE_ROUTES,
    OUTPUT_ROUTES,
    TASK_KINDS,
    TASK_STATUSES,
)


def _in(values: tuple[str, ...]) -> str:
    return ",".join(f"'{v}'" for v in values)


class NursingAssessment(Base):
    """A scored assessment (NEWS2, Morse falls, Braden). The server computes ``total``,
    ``risk`` and the points per item (``parts``) from the ``answers``."""

    __tablename__ = "nursing_assessments"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ASSESSMENT_KINDS)})", name="kind_code"),
        Index("ix_nursing_assessments_admission", "admission_id", "kind", text("assessed_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    total: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    risk: Mapped[str] = mapped_column(String(16), nullable=False)
    parts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    vitals_id: Mapped[int | None] = mapped_column(ForeignKey("vital_signs.id"))
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)
    assessed_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)


class FluidEntry(Base):
    """One intake or output volume; the balance per shift is summed from these."""

    __tablename__ = "fluid_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(FLUID_KINDS)})", name="kind_code"),
        CheckConstraint(
            f"(kind = 'intake' AND route IN ({_in(INTAKE_ROUTES)})) OR "
            f"(kind = 'output' AND route IN ({_in(OUTPUT_ROUTES)}))",
            name="route_code",
        ),
        CheckConstraint("volume_ml BETWEEN 1 AND 10000", name="volume_range"),
        Index("ix_fluid_entries_admission_at", "admission_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    route: Mapped[str] = mapped_column(String(16), nullable=False)
    volume_ml: Mapped[int] = mapped_column(Integer, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))


class CareTask(Base):
    """A nursing task due at a time (turn the patient, change a dressing). Completing a
    repeating task creates the next one ``repeat_every_minutes`` after the due time."""

    __tablename__ = "care_tasks"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(TASK_KINDS)})", name="kind_code"),
        CheckConstraint(f"status IN ({_in(TASK_STATUSES)})", name="status_code"),
        CheckConstraint(
            "repeat_every_minutes IS NULL OR repeat_every_minutes BETWEEN 15 AND 10080",
            name="repeat_range",
        ),
        CheckConstraint("status <> 'done' OR completed_at IS NOT NULL", name="done_has_time"),
        Index("ix_care_tasks_admission_due", "admission_id", "due_at"),
        Index("ix_care_tasks_open_due", "due_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    repeat_every_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    completed_at: Mapped[datetime | None]
    completed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
