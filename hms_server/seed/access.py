"""Demo clinic assignment: the demo nurse works the General Medicine clinic (standing), so
her clinical workspace lists the patients checked in there today (issue 12's outpatient
nurse: triage with vitals, allergies and the reason for the visit).

Idempotent: skipped when the assignment exists.
"""

from __future__ import annotations

from sqlalchemy import func, select

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.scheduling import Department
from hms_server.adapters.repositories.security import ClinicAssignmentRepository
from hms_server.seed.demo import SeedContext
from hms_server.services.clinic_assignments import assign_clinic

SEED_ORDER = 25  # after scheduling (departments), before the charts
NURSE, CLINIC = "nurse", "General Medicine"


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as s:
        nurse = s.scalar(select(User.id).where(func.lower(User.username) == NURSE))
        department = s.scalar(select(Department.id).where(Department.name == CLINIC))
        if nurse is None or department is None:
            return
        if ClinicAssignmentRepository(s).assignment_of(nurse, department) is not None:
            return
    assign_clinic(ctx.uow(), user_id=nurse, department_id=department, on_date=None)
