"""Patients: demographics and identifiers (reception). Clinical data lives in its own modules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base


class Patient(Base):
    """A person registered at the hospital. ``mrn`` is server-generated, unique, never reused;
    a merged-away record keeps its row (``merged_into_id``) so its MRN still resolves."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("sex IN ('male','female','other','unknown')", name="sex_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    given_name: Mapped[str] = mapped_column(String(100), nullable=False)
    family_name: Mapped[str] = mapped_column(String(100), nullable=False)
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    birth_date_estimated: Mapped[bool] = mapped_column(nullable=False, default=False)
    sex: Mapped[str] = mapped_column(String(16), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)
