# ruff: noqa: F811 - pytest fixtures shared with test_reception_patients are imported by name
"""Reception: the calendar, booking from a free slot, slot_taken, check-in, live events,
and the print preview of labels and slips."""

from __future__ import annotations

import json

import pypdfium2
import pytest

from hms_contract.patients import PatientRead
from hms_desktop.api.events import ServerEvent, parse_sse
from hms_desktop.qt import QModelIndex, Qt
from hms_desktop.widgets.print_preview import PrintPreviewDialog, pdf_page_count
from tests.desktop.fake_reception_server import today_at
from tests.desktop.test_reception_patients import (  # noqa: F401 - fixtures
    reception_api,
    reception_server,
    workspace,
)


@pytest.fixture
def booked(reception_server):
    """Patient 5 booked with doctor 1 at 09:30 today."""
    return reception_server.add_appointment(5, 1, today_at(9, 30))


def cell_index(calendar, hhmm: str, doctor_column: int) -> QModelIndex:
    model = calendar.day_model
    row = next(r for r in range(model.rowCount()) if model.time_at(r) == hhmm)
    return model.index(row, doctor_column)


def reload_calendar(qtbot, workspace):
    with qtbot.waitSignal(workspace.calendar.sig_loaded, timeout=15000):
        workspace.calendar.reload()


def select_patient(qtbot, workspace, q: str):
    workspace.search.search_now(q)
    qtbot.waitUntil(lambda: workspace.search.model.total == 1, timeout=15000)
    workspace.search.table.selectRow(0)
    qtbot.waitUntil(lambda: isinstance(workspace.summary.patient, PatientRead), timeout=15000)


def test_day_calendar_has_a_column_per_doctor_and_status_in_words(qtbot, workspace, booked):
    reload_calendar(qtbot, workspace)
    calendar = workspace.calendar
    assert calendar.day_model.columnCount() == 2
    assert "Dr Carla Heart" in calendar.day_model.headerData(0, Qt.Orientation.Horizontal)
    text = calendar.day_model.data(cell_index(calendar, "09:30", 0))
    assert "Booked" in text and "Given004 Family004" in text  # never colour alone
    assert calendar.day_model.data(cell_index(calendar, "09:00", 0)) == "+ Free"


def test_booking_from_a_free_slot(qtbot, workspace, reception_server):
    select_patient(qtbot, workspace, "family020")
    calendar = workspace.calendar
    calendar.day_table.setCurrentIndex(cell_index(calendar, "10:00", 1))
    assert calendar.book_button.isEnabled()
    calendar.day_table.setFocus()
    qtbot.keyClick(calendar.day_table, Qt.Key.Key_Return)  # Enter on a free slot books it
    from hms_desktop.workspaces.reception.booking import BookingDialog

    dialog = workspace.findChildren(BookingDialog)[-1]
    assert dialog.isVisible() and "Family020" in dialog.patient_edit.text()
    with (
        qtbot.waitSignal(calendar.sig_loaded, timeout=15000),
        qtbot.waitSignal(dialog.sig_booked, timeout=15000),
    ):
        qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    body = json.loads(reception_server.requests_to("POST", "/appointments")[-1].content)
    assert body == {"patient_id": 21, "doctor_id": 2, "start": today_at(10), "type": "new"}
    assert "Given020 Family020" in calendar.day_model.data(cell_index(calendar, "10:00", 1))


def test_slot_taken_shows_suggestions_and_books_the_chosen_one(qtbot, workspace, reception_server):
    select_patient(qtbot, workspace, "family030")
    calendar = workspace.calendar
    reception_server.steal_slots.add((1, today_at(11)))
    calendar.day_table.setCurrentIndex(cell_index(calendar, "11:00", 0))
    calendar.book_selected()
    from hms_desktop.workspaces.reception.booking import BookingDialog

    dialog = workspace.findChildren(BookingDialog)[-1]
    dialog.submit()
    qtbot.waitUntil(dialog.suggestions.isVisible, timeout=15000)
    assert "just booked" in dialog.suggestions_label.text()
    assert dialog.suggestions.count() >= 1
    dialog.suggestions.setCurrentRow(dialog.suggestions.count() - 1)
    chosen = dialog.suggestions.currentItem().data(Qt.ItemDataRole.UserRole).start
    with qtbot.waitSignal(dialog.sig_booked, timeout=15000):
        dialog.submit()
    body = json.loads(reception_server.requests_to("POST", "/appointments")[-1].content)
    assert body["start"] == chosen.isoformat() != today_at(11)


def test_check_in_shows_the_token(qtbot, workspace, booked):
    reload_calendar(qtbot, workspace)
    calendar = workspace.calendar
    calendar.day_table.setCurrentIndex(cell_index(calendar, "09:30", 0))
    assert calendar.action_buttons["check_in"].isEnabled()
    with qtbot.waitSignal(workspace.queue.sig_loaded, timeout=15000):
        qtbot.mouseClick(calendar.action_buttons["check_in"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            getattr(workspace, "token_box", None) is not None and workspace.token_box.isVisible()
        ),
        timeout=15000,
    )
    assert "Token number: 1" in workspace.token_box.text()
    assert workspace.queue.model.rowCount() == 1
    assert "Waiting" in workspace.queue.model.data(workspace.queue.model.index(0, 5))
    workspace.token_box.close()
    qtbot.waitUntil(
        lambda: "Checked in" in calendar.day_model.data(cell_index(calendar, "09:30", 0)),
        timeout=15000,
    )


def test_booking_at_another_desk_refreshes_the_calendar(qtbot, workspace, reception_server):
    bridge = workspace.events
    qtbot.waitUntil(lambda: bridge.connected, timeout=15000)
    calendar = workspace.calendar
    assert calendar.day_model.data(cell_index(calendar, "11:30", 1)) == "+ Free"
    appointment = reception_server.add_appointment(7, 2, today_at(11, 30))
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        reception_server.publish(
            "appointment.booked",
            {
                "appointment_id": appointment.id,
                "doctor_id": 2,
                "patient_id": 7,
                "date": today_at(0)[:10],
            },
        )
    assert "Family006" in calendar.day_model.data(cell_index(calendar, "11:30", 1))


def test_sse_parser_handles_comments_multiline_data_ids_and_retry():
    lines = [
        ": connected",
        "retry: 2500",
        "id: 7",
        "event: appointment.booked",
        'data: {"appointment_id": 3,',
        'data: "doctor_id": 1}',
        "",
        ": ping",
        "",
        "event: empty",
        "",
    ]
    items = list(parse_sse(lines))
    assert items == [
        2500,
        ServerEvent("appointment.booked", {"appointment_id": 3, "doctor_id": 1}, "7"),
    ]


def test_print_preview_renders_the_id_label(qtbot, workspace):
    select_patient(qtbot, workspace, "family012")
    qtbot.keyClick(workspace, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: workspace.preview is not None, timeout=15000)
    dialog = workspace.preview
    qtbot.waitUntil(lambda: dialog.page_count == 1, timeout=15000)
    assert pdf_page_count(dialog.pdf) == 1
    text = pypdfium2.PdfDocument(dialog.pdf)[0].get_textpage().get_text_range()
    assert "MRN000013" in text and "FAMILY012" in text
    assert "Fake General Hospital" in text  # the hospital's name from GET /me
    assert dialog.pages_label.text() == "1 page(s)"
    assert dialog.page_labels[0].pixmap().width() > 100
    assert dialog.print_button.isEnabled()
    dialog.reject()


def test_the_wristband_prints_the_allergy_flag_read_for_it(qtbot, workspace, reception_server):
    from hms_contract.patients import AlertAllergyRead, AllergyAlertRead

    reception_server.alerts[13] = AllergyAlertRead(
        patient_id=13,
        recorded=True,
        allergies=[AlertAllergyRead(substance="penicillin", severity="severe")],
    )
    select_patient(qtbot, workspace, "family012")
    workspace.print_label(workspace.summary.patient, "wristband")
    qtbot.waitUntil(lambda: workspace.preview is not None, timeout=15000)
    text = pypdfium2.PdfDocument(workspace.preview.pdf)[0].get_textpage().get_text_range()
    assert "ALLERGY: penicillin (severe)" in text and "Fake General Hospital" in text
    assert reception_server.requests_to("GET", "/patients/13/allergy-alert")
    workspace.preview.reject()


def test_print_preview_of_a_slip_prints_and_saves(qtbot, tasks, tmp_path, booked):
    from hms_desktop.qt import QWidget
    from hms_desktop.workspaces.reception.printing_actions import slip_pdf

    pdf = slip_pdf(
        booked, token=42, department="Cardiology", hospital_name="St Mary's General Hospital"
    )
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = PrintPreviewDialog(tasks, pdf, title="Slip", file_name="slip.pdf", parent=parent)
    with qtbot.waitSignal(dialog.sig_rendered, timeout=15000) as rendered:
        dialog.show()
    assert rendered.args == [1]
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "42" in text and "Given004 Family004" in text and "Cardiology" in text
    assert "St Mary's General Hospital" in text and "HMS Hospital" not in text

    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printed = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(printed))
    printer.setResolution(150)
    with qtbot.waitSignal(dialog.sig_printed, timeout=15000):
        dialog.print_to(printer)
    assert pdf_page_count(printed.read_bytes()) == 1
    saved = tmp_path / "saved.pdf"
    done = []
    dialog.save_to(saved, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=15000)
    assert saved.read_bytes() == pdf
    dialog.reject()
    assert dialog.images == []


def test_today_opens_at_the_current_time_and_every_doctor_can_be_chosen(qtbot, workspace):
    from datetime import date, datetime, time

    from hms_desktop.qt import QApplication

    calendar = workspace.calendar
    calendar.day_table.setFixedHeight(110)  # a short screen: not every slot fits
    qtbot.waitUntil(lambda: calendar.day_table.height() == 110, timeout=15000)
    QApplication.processEvents()
    calendar.now = lambda: datetime.combine(date.today(), time(11, 10))
    calendar._scrolled_day = None  # as when the workspace opens
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        calendar.reload()
    table, model = calendar.day_table, calendar.day_model
    rows = {model.time_at(r): r for r in range(model.rowCount())}

    def visible(hhmm: str) -> bool:
        rect = table.visualRect(model.index(rows[hhmm], 0))
        return rect.bottom() > 0 and rect.top() < table.viewport().height()

    assert visible("11:00") and not visible("09:00")  # the morning is scrolled away
    # A reload (an event from another desk) keeps where the user scrolled to.
    table.scrollToTop()
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        calendar.reload()
    assert visible("09:00")

    combo = calendar.doctor_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "All doctors (2)",
        "Dr Carla Heart",
        "Dr Gene Ward",
    ]
    combo.setCurrentIndex(2)
    assert table.isColumnHidden(0) and not table.isColumnHidden(1)
    with qtbot.waitSignal(calendar.sig_loaded, timeout=15000):
        calendar.reload()
    assert table.isColumnHidden(0) and combo.currentText() == "Dr Gene Ward"
    combo.setCurrentIndex(0)
    assert not table.isColumnHidden(0)
