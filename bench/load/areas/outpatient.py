"""Outpatient morning (after the Bahmni performance mix): reception registers, searches by
name, MRN and phone, books and checks in; doctors open charts, read and write notes, record
vitals and prescribe for the patients booked with them."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import Any

from locust import task

from .common import HmsUser

GIVEN = [
    "Amara",
    "Jonas",
    "Mei",
    "Olu",
    "Sofia",
    "Ravi",
    "Lena",
    "Tomasz",
    "Aylin",
    "Kwame",
    "Elena",
    "Hugo",
    "Noor",
    "Ines",
    "Yusuf",
    "Maja",
    "Diego",
    "Anika",
    "Chen",
    "Zara",
]


def _letters(n: int) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n)).title()


class Receptionist(HmsUser):
    weight = 3
    account = "receptionist"

    @task(5)
    def search_by_name(self) -> None:
        fragment = random.choice(self.data["name_fragments"])
        self.get("/patients", "search: name", q=fragment, limit=20)

    @task(2)
    def search_by_mrn(self) -> None:
        self.get("/patients", "search: MRN", q=random.choice(self.data["mrns"]), limit=20)

    @task(1)
    def search_by_phone(self) -> None:
        self.get("/patients", "search: phone", q=random.choice(self.data["phones"]), limit=20)

    @task(2)
    def register(self) -> None:
        self.post(
            "/patients",
            "register patient",
            {
                "given_name": random.choice(GIVEN),
                "family_name": _letters(9),
                "date_of_birth": (
                    date(1940, 1, 1) + timedelta(days=random.randint(0, 30000))
                ).isoformat(),
                "sex": random.choice(["female", "male"]),
                "phone": f"+1 555 {random.randint(1000000, 9999999)}",
                "confirm_new": True,
            },
        )

    @task(2)
    def book_and_check_in(self) -> None:
        doctor = random.choice(self.data["doctors"])
        day = (date.today() + timedelta(days=random.randint(1, 20))).isoformat()
        page = self.get("/slots", "book: free slots", doctor_id=doctor["doctor_id"], date=day)
        free = [s for s in (page or {}).get("items", []) if s.get("available")]
        if not free:
            return
        booked = self.post(
            "/appointments",
            "book: appointment",
            {
                "patient_id": random.choice(self.data["patient_ids"]),
                "doctor_id": doctor["doctor_id"],
                "start": random.choice(free)["start"],
            },
            expected=(409,),
        )  # another receptionist took the slot a moment earlier
        if booked and random.random() < 0.5:
            self.post(f"/appointments/{booked['id']}/check-in", "check in", {}, idempotent=False)


class Doctor(HmsUser):
    weight = 2
    account = "doctor"

    def on_start(self) -> None:
        super().on_start()
        self.doctor_id = next(
            d["doctor_id"] for d in self.data["doctors"] if d["username"] == self.username
        )
        self.patients: list[int] = []
        self._refresh_list()

    def _refresh_list(self) -> None:
        today = date.today()
        page = self.get(
            "/appointments",
            "doctor: appointment list",
            doctor_id=self.doctor_id,
            date=today.isoformat(),
            date_to=(today + timedelta(days=20)).isoformat(),
            limit=200,
        )
        self.patients = (
            sorted({a["patient_id"] for a in (page or {}).get("items", [])}) or self.patients
        )

    def _patient(self) -> int | None:
        return random.choice(self.patients) if self.patients else None

    @task(1)
    def appointment_list(self) -> None:
        self._refresh_list()

    @task(5)
    def open_chart(self) -> None:
        if (pid := self._patient()) is not None:
            self.get(f"/patients/{pid}/chart", "chart: open")

    @task(2)
    def read_notes(self) -> None:
        if (pid := self._patient()) is not None:
            self.get(f"/patients/{pid}/notes", "chart: notes")

    @task(1)
    def write_note(self) -> None:
        if (pid := self._patient()) is not None:
            self.post(
                f"/patients/{pid}/notes",
                "chart: write note",
                {
                    "note_type": "soap",
                    "subjective": "Review of symptoms; feeling better.",
                    "assessment": "Stable.",
                    "plan": "Continue; review in four weeks.",
                },
            )

    @task(2)
    def record_vitals(self) -> None:
        if (pid := self._patient()) is not None:
            self.post(
                f"/patients/{pid}/vitals",
                "chart: record vitals",
                {
                    "systolic_mmhg": random.randint(105, 165),
                    "diastolic_mmhg": random.randint(60, 95),
                    "heart_rate_bpm": random.randint(55, 105),
                    "spo2_pct": random.randint(94, 99),
                },
            )

    @task(1)
    def prescribe(self) -> None:
        if (pid := self._patient()) is None:
            return
        body: dict[str, Any] = {
            "patient_id": pid,
            "items": [
                {
                    "drug_id": random.choice(self.data["drug_ids"]),
                    "dose": "500",
                    "unit": "mg",
                    "route": "oral",
                    "frequency": "three times daily",
                    "duration_days": 5,
                    "quantity": "15",
                }
            ],
        }
        # A safety stop (allergy, interaction) is a correct answer, not an error.
        self.post("/prescriptions", "chart: prescribe", body, expected=(409,))


USERS = [Receptionist, Doctor]
