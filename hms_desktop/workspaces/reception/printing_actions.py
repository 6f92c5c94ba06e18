"""Printing from reception: patient ID label / wristband and the appointment slip.

PDFs are built on the task runner, then shown in the shared print preview (nothing is
written to disk unless the clerk saves a copy). Printing a label is recorded on the
server, because prints of patient documents are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from hms_contract.patients import AllergyAlertRead, PatientSummary
from hms_contract.scheduling import AppointmentRead
from hms_desktop.printing.appointment_slip import AppointmentSlip, render_appointment_slip
from hms_desktop.printing.labels import PatientLabel, render_label
from hms_desktop.qt import QWidget, translate
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.print_preview import PrintPreviewDialog


def _t(text: str) -> str:
    return translate("ReceptionPrinting", text)


def alert_texts(alert: AllergyAlertRead | None) -> tuple[str, ...] | None:
    """What the wristband prints for each active allergy ("penicillin (severe)");
    ``None`` when no allergy was ever recorded."""
    if alert is None or not alert.recorded:
        return None
    return tuple(f"{a.substance} ({a.severity})" for a in alert.allergies)


def label_pdf(
    patient: PatientSummary,
    kind: Literal["id_card", "wristband"] = "id_card",
    *,
    hospital_name: str = "",
    alert: AllergyAlertRead | None = None,
) -> bytes:
    """The ID card (or wristband) PDF for ``patient`` (``PatientSummary``/``PatientRead``),
    with the hospital's name and, on a wristband, the allergy flag from ``alert``."""
    label = PatientLabel(
        mrn=patient.mrn,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        birth_date_estimated=patient.birth_date_estimated,
        hospital_name=hospital_name,
        allergies=alert_texts(alert),
    )
    return render_label(label, kind)


def slip_pdf(
    appointment: AppointmentRead,
    *,
    token: int | None = None,
    department: str = "",
    hospital_name: str,
) -> bytes:
    """The appointment slip; ``token`` (after check-in) prints large at the top."""
    slip = AppointmentSlip(
        patient_name=appointment.patient_name or "",
        mrn=appointment.patient_mrn or "",
        doctor=appointment.doctor_name or "",
        when=appointment.start.strftime("%a %d %b %Y, %H:%M"),
        department=department,
        location=appointment.location or "",
        token=token,
        reference=appointment.booking_reference,
        hospital=hospital_name,
        heading=_t("Appointment"),
        token_caption=_t("Your number"),
        labels=(_t("Patient"), _t("MRN"), _t("Doctor"), _t("Time"), _t("Department")),
    )
    return render_appointment_slip(slip)


def open_print_preview(
    parent: QWidget,
    tasks: TaskRunner,
    render: Callable[[], bytes],
    *,
    title: str,
    file_name: str,
    on_printed: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_open: Callable[[PrintPreviewDialog], None] | None = None,
) -> None:
    """Render on a worker, then open a (non-blocking) preview owned by ``parent``."""

    def show(pdf: bytes) -> None:
        dialog = PrintPreviewDialog(tasks, pdf, title=title, file_name=file_name, parent=parent)
        if on_printed is not None:
            dialog.sig_printed.connect(on_printed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        if on_open is not None:
            on_open(dialog)

    tasks.run(render, show, on_error, owner=parent)
