"""Label printing for dispensed lines: fetch each line's label data, render the PDF (70 × 36
mm labels or an A4 sheet) off the GUI thread, and always show the print preview."""

from __future__ import annotations

from typing import Any, Literal

from hms_contract.dispensing import LabelRead
from hms_desktop.printing.dispense_labels import DispenseLabel, render_labels
from hms_desktop.qt import QWidget
from hms_desktop.widgets.print_preview import PrintPreviewDialog


def to_label(data: LabelRead) -> DispenseLabel:
    return DispenseLabel(
        barcode=data.barcode,
        patient_name=data.patient_name,
        mrn=data.mrn,
        drug=data.drug,
        strength=data.strength,
        form=data.form,
        instructions=data.instructions,
        quantity=format(data.quantity.normalize(), "f")
        if data.quantity == data.quantity.to_integral_value()
        else format(data.quantity, "f"),
        unit=data.unit,
        lot=data.lot,
        expiry=data.expiry,
        dispensed_on=data.dispensed_on,
        pharmacist=data.pharmacist,
        prescription_number=data.prescription_number,
        hospital_name=data.hospital_name,
    )


def labels_pdf(
    pharmacy: Any, line_ids: list[int], layout: Literal["label", "a4"] = "label"
) -> bytes:
    """Blocking: label data from the server, then the PDF (run on the task runner)."""
    return render_labels([to_label(pharmacy.label(i)) for i in line_ids], layout)


def print_labels(
    context: Any,
    line_ids: list[int],
    parent: QWidget,
    layout: Literal["label", "a4"] = "label",
    on_preview: Any = None,
) -> None:
    """Render and open the preview (Print… / Save PDF…) for these dispensed lines."""
    if not line_ids:
        return

    def show(pdf: bytes) -> None:
        dialog = PrintPreviewDialog(
            context.tasks,
            pdf,
            title=parent.tr("Dispensing labels"),
            file_name="dispensing-labels.pdf",
            parent=parent,
        )
        if on_preview is not None:
            on_preview(dialog)
        dialog.open()

    context.tasks.run(
        lambda: labels_pdf(context.pharmacy, line_ids, layout),
        on_done=show,
        on_error=lambda exc: context.show_status(
            parent.tr("Labels could not be printed: {error}").format(error=exc)
        ),
        owner=parent,
    )
