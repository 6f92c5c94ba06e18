"""Build a prescription PDF on a worker thread: fetch it, then render it. No Qt here."""

from __future__ import annotations

from hms_contract.auth import HospitalRead
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.printing.prescription import HospitalInfo, render_prescription


def build_prescription_pdf(api: ClinicalApi, prescription_id: int, hospital: HospitalRead,
                           allergies: list[str]) -> bytes:
    """The prescription as the server holds it now, with the patient's allergies printed
    as a warning for the dispensing pharmacist."""
    prescription = api.get_prescription(prescription_id)
    return render_prescription(prescription, HospitalInfo(name=hospital.name or "Hospital"),
                               allergies=allergies)
