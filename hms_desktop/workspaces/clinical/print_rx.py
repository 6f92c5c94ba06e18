"""Build a prescription PDF on a worker thread: fetch what it prints, then render it. No Qt.

A pharmacy must be able to accept the printout, so it carries the letterhead (with the
logo when the hospital has one), the prescriber's registration number, the patient's address
and latest weight, the encounter, every active allergy with its severity, and any safety
override with its reason — each read fresh from the server at print time.
"""

from __future__ import annotations

from hms_contract.auth import HospitalRead
from hms_contract.clinical import AllergyRead
from hms_contract.patients import PatientRead
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.hospital import HospitalApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.clinical import local_time
from hms_desktop.printing.prescription import HospitalInfo, PatientFacts, render_prescription
from hms_desktop.widgets.patient_header import active_allergies


def allergy_line(allergy: AllergyRead) -> str:
    """``penicillin (severe — anaphylaxis)``."""
    detail = " — ".join(x for x in (allergy.severity, allergy.reaction) if x)
    return f"{allergy.substance} ({detail})"


def address_text(patient: PatientRead) -> str:
    a = patient.address
    if a is None:
        return ""
    return ", ".join(x for x in (*a.line, a.city or "", a.postal_code or "", a.country or "") if x)


def build_prescription_pdf(
    clinical: ClinicalApi,
    patients: PatientsApi,
    hospital_api: HospitalApi,
    prescription_id: int,
    hospital: HospitalRead,
) -> bytes:
    """The prescription as the server holds it now, with what a pharmacist needs around it."""
    prescription = clinical.get_prescription(prescription_id)
    pid = prescription.patient_id
    chart = clinical.get_chart(pid)
    weights = [v for v in clinical.list_vitals(pid, limit=50).items if v.weight_kg is not None]
    weighed = max(weights, key=lambda v: v.recorded_at) if weights else None
    patient = patients.get(pid)
    logo = hospital_api.logo() if hospital.has_logo else None
    facts = PatientFacts(
        address=address_text(patient),
        weight=(
            f"{weighed.weight_kg:g} kg ({local_time(weighed.recorded_at, '%Y-%m-%d')})"
            if weighed is not None
            else ""
        ),
        allergies_recorded=bool(chart.allergies),
    )
    letterhead = HospitalInfo(
        name=hospital.name or "Hospital",
        address=hospital.address,
        phone=hospital.phone,
        email=hospital.email,
        logo=logo,
    )
    return render_prescription(
        prescription,
        letterhead,
        allergies=[allergy_line(a) for a in active_allergies(chart.allergies)],
        patient_facts=facts,
    )
