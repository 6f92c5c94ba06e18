"""Staff for the load test, created through the services like a real hospital's accounts:
one account per simulated person (staff do not share sign-ins; a shared account would make
every sign-in queue on one row lock), doctors bookable every day 08:00-18:00, and a few
appointments per doctor over the coming days so each doctor has patients to chart."""

from __future__ import annotations

import contextlib
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, text

from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.uow import Actor
from hms_server.bootstrap import build_runtime
from hms_server.config import Settings
from hms_server.domain.errors import DomainError
from hms_server.domain.scheduling import SessionTemplate
from hms_server.services import appointments, scheduling
from hms_server.services.users import create_user

PASSWORD = "Bench-Harbor-Lantern-42"


def prepare_staff(url: str, receptionists: int, doctors: int) -> dict[str, object]:
    runtime = build_runtime(Settings(database_url=url), as_owner=True, pool_size=2)
    actor = Actor.system("bench")
    try:
        department = scheduling.create_department(runtime.uow(actor), name="Outpatients").id
        reception = []
        for i in range(receptionists):
            username = f"rec{i:03d}"
            create_user(
                runtime.uow(actor),
                runtime.settings,
                username=username,
                full_name=f"Receptionist {i}",
                roles=["receptionist"],
                password=PASSWORD,
            )
            reception.append(username)
        with runtime.session_factory() as s:
            patients = list(s.scalars(select(Patient.id).order_by(Patient.id)))
        rng = random.Random(13)
        doctor_rows = []
        for i in range(doctors):
            username = f"doc{i:03d}"
            user = create_user(
                runtime.uow(actor),
                runtime.settings,
                username=username,
                full_name=f"Dr Bench {i}",
                roles=["doctor"],
                password=PASSWORD,
            ).user
            doctor = scheduling.create_doctor(
                runtime.uow(actor),
                user_id=user.id,
                department_id=department,
                specialty="General Medicine",
            )
            scheduling.replace_templates(
                runtime.uow(actor),
                doctor.id,
                [SessionTemplate(d, time(8), time(18), 15, 0, f"Room {i + 1}") for d in range(7)],
            )
            for offset in range(1, 11):
                start = datetime.combine(
                    date.today() + timedelta(days=offset),
                    time(8 + rng.randint(0, 9), 15 * rng.randint(0, 3)),
                )
                # DomainError: the patient already has an appointment then.
                with contextlib.suppress(DomainError):
                    appointments.book_appointment(
                        runtime.uow(actor),
                        patient_id=rng.choice(patients),
                        doctor_id=doctor.id,
                        start=start,
                    )
            doctor_rows.append({"username": username, "doctor_id": doctor.id})
        with runtime.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return {
            "receptionist": reception,
            "doctor": [d["username"] for d in doctor_rows],
            "doctors": doctor_rows,
        }
    finally:
        runtime.close()
