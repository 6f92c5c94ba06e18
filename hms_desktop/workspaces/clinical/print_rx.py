"""Build a prescription PDF on a worker thread: fetch it, then render it. No Qt here."""

from __future__ import annotations

from typing import Any

from hms_desktop.printing.prescription import HospitalInfo, render_prescription


def build_prescription_pdf(api: Any, prescription_id: int, me: dict,
                           allergies: list[str]) -> bytes:
    """The prescription as the server holds it now, with the patient's allergies printed
    as a warning for the dispensing pharmacist."""
    prescription = api.get_prescription(prescription_id)
    hospital = HospitalInfo(name=(me.get("hospital") or {}).get("name") or "Hospital")
    return render_prescription(prescription, hospital, allergies=allergies)
