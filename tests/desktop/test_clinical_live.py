"""The clinical client against the real server and PostgreSQL (root conftest fixtures).

A receptionist registers a patient; a doctor outside the care team is refused the chart
(``care_relationship_required``), breaks the glass with a reason, then records vitals,
adds an allergy and prescribes through the same wrappers the workspace uses.
"""

import uuid

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.api.clinical import ClinicalApi, SafetyConflictError
from hms_desktop.api.errors import ApiProblem
from hms_desktop.api.patients import PatientsApi


def _client(url: str, made: tuple) -> ApiClient:
    api = ApiClient(url, workstation="CLINICAL-LIVE-TEST")
    api.login(made[0], made[1])
    return api


def test_doctor_charts_and_prescribes_for_a_new_patient(live_server, make_user):
    reception = _client(live_server.url, make_user("receptionist"))
    doctor_api = _client(live_server.url, make_user("doctor"))
    try:
        family = "Live" + uuid.uuid4().hex[:8]
        patient = PatientsApi(reception).register(
            {
                "given_name": "Clinical",
                "family_name": family,
                "date_of_birth": "1980-04-02",
                "sex": "female",
                "phone": "+44 20 7946 0000",
            },
            confirm_new=True,
        )
        clinical = ClinicalApi(doctor_api)
        pid = patient.id
        # Any other answer (a missing route's 404 included) fails: a skip would hide it.
        with pytest.raises(ApiProblem) as refused:
            clinical.get_chart(pid)
        assert refused.value.code == "care_relationship_required"

        clinical.break_glass(pid, "Unconscious in A&E; no treating doctor reachable")
        chart = clinical.get_chart(pid)
        assert chart.access == "break_glass"
        assert chart.patient.family_name == family
        assert chart.allergies == []

        vitals = clinical.record_vitals(
            pid, {"systolic_mmhg": 165, "diastolic_mmhg": 95, "heart_rate_bpm": 72}
        )
        assert vitals.flags["systolic_mmhg"] in ("H", "HH")
        clinical.add_allergy(pid, substance="penicillin", reaction="rash", severity="severe")
        assert [a.substance for a in clinical.get_chart(pid).allergies] == ["penicillin"]

        drug = clinical.search_formulary("amoxicillin")[0]
        item = {
            "drug_id": drug.id,
            "dose": 500,
            "unit": "mg",
            "route": drug.route,
            "frequency": "three times daily",
            "duration_days": 5,
            "quantity": 15,
        }
        with pytest.raises(SafetyConflictError) as conflict:
            clinical.create_prescription(pid, [item])
        assert conflict.value.code == "allergy_conflict"
        assert conflict.value.conflicts and conflict.value.conflicts[0].severity
        created = clinical.create_prescription(
            pid, [item], override_reason="Allergy label disputed; tested negative in 2024"
        )
        assert created.id
        assert any(m.drug_id == drug.id for m in clinical.list_medications(pid))
    finally:
        reception.close()
        doctor_api.close()
