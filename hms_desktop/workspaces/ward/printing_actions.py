"""Printing from the ward: the wristband (band printer or A4), the discharge summary and
the shift handover. PDFs are built on the task runner and shown in the shared print
preview; printing a patient's document is recorded on the server (prints are audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hms_contract.nursing import HandoverReport
from hms_contract.wards import DischargeSummaryRead
from hms_desktop.api.wards import WardsApi
from hms_desktop.printing.labels import PatientLabel, render_label
from hms_desktop.printing.ward_documents import render_discharge_summary, render_handover
from hms_desktop.qt import QWidget
from hms_desktop.widgets.print_preview import PrintPreviewDialog


def wristband_pdf(
    wards: WardsApi, patient_id: int, *, a4: bool = False, hospital_name: str = ""
) -> bytes:
    """Fetch identity and active allergies, then render (runs on a worker thread)."""
    patient = wards.patient(patient_id)
    allergies = tuple(a.substance for a in wards.allergies(patient_id) if a.status == "active")
    label = PatientLabel(
        mrn=patient.mrn,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        birth_date_estimated=patient.birth_date_estimated,
        hospital_name=hospital_name,
        allergies=allergies,
    )
    return render_label(label, "wristband_a4" if a4 else "wristband")


def discharge_summary_pdf(wards: WardsApi, admission_id: int) -> tuple[bytes, DischargeSummaryRead]:
    summary = wards.discharge_summary(admission_id)
    return render_discharge_summary(summary), summary


def handover_pdf(wards: WardsApi, ward_id: int) -> tuple[bytes, HandoverReport]:
    report = wards.handover(ward_id)
    return render_handover(report), report


def preview(
    parent: QWidget,
    tasks: Any,
    render: Callable[[], bytes],
    *,
    title: str,
    file_name: str,
    on_printed: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_open: Callable[[PrintPreviewDialog], None] | None = None,
) -> None:
    """Render on a worker, then open the (non-blocking) preview owned by ``parent``."""

    def show(pdf: bytes) -> None:
        dialog = PrintPreviewDialog(tasks, pdf, title=title, file_name=file_name, parent=parent)
        if on_printed is not None:
            dialog.sig_printed.connect(on_printed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        if on_open is not None:
            on_open(dialog)

    tasks.run(render, show, on_error, owner=parent)
