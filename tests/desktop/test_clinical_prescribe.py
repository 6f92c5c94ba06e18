"""Prescribing from the chart: formulary search, items, the safety prompt and the override."""

import json

from hms_desktop.qt import Qt

# The chart tests' fixtures, shared: pytest finds fixtures imported into a module.
from tests.desktop.test_clinical_chart import clinical_server, open_chart, workspace

__all__ = ["clinical_server", "workspace"]


def add(qtbot, dialog, name, dose, quantity):
    dialog.search_edit.clear()
    qtbot.keyClicks(dialog.search_edit, name)
    qtbot.waitUntil(lambda: dialog.results.count() == 1 and dialog.selected_drug is not None,
                    timeout=5000)
    qtbot.keyClicks(dialog.dose_edit, dose)
    qtbot.keyClicks(dialog.quantity_edit, quantity)
    assert dialog.add_item()


def test_interaction_needs_a_typed_reason_and_the_resend_carries_it(
        qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    dialog.submit()
    assert dialog.items_error.text() == "Add at least one medicine."
    add(qtbot, dialog, "warf", "5", "30")
    add(qtbot, dialog, "aspi", "75", "30")
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 0).text() == "warfarin 5 mg tablet (oral)"

    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.safety_panel.isVisible, timeout=5000)
    text = dialog.conflicts_label.text()
    assert "MAJOR" in text and "Interaction" in text and "increased risk of bleeding" in text
    assert dialog.submit_button.text() == "Prescribe anyway"
    first = json.loads(clinical_server.requests_to("POST", "/prescriptions")[0].content)
    # Quantities travel as the contract writes them: decimal strings, never floats.
    assert first["items"][0] == {"drug_id": 1, "dose": "5.0", "unit": "tablet", "route": "oral",
                                 "frequency": "once daily", "duration_days": 5,
                                 "quantity": "30.0"}
    assert "override_reason" not in first

    dialog.submit()  # no reason yet: nothing is sent
    assert dialog.override_error.isVisible()
    assert len(clinical_server.requests_to("POST", "/prescriptions")) == 1

    qtbot.keyClicks(dialog.override_edit, "INR monitored weekly; cardiology agrees")
    with qtbot.waitSignal(dialog.sig_saved, timeout=5000):
        qtbot.keyClick(dialog.override_edit, Qt.Key.Key_Return)
    second = json.loads(clinical_server.requests_to("POST", "/prescriptions")[1].content)
    assert second["override_reason"] == "INR monitored weekly; cardiology agrees"
    assert second["items"] == first["items"]
    assert clinical_server.prescriptions[0].overrides[0].reason
    qtbot.waitUntil(lambda: chart.meds_tab.model.rowCount() == 2, timeout=5000)
    assert chart.tabs.currentWidget() is chart.meds_tab


def test_changing_the_items_clears_the_old_conflicts(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    add(qtbot, dialog, "warf", "5", "30")
    add(qtbot, dialog, "aspi", "75", "30")
    dialog.submit()
    qtbot.waitUntil(dialog.safety_panel.isVisible, timeout=5000)
    dialog.table.selectRow(1)
    dialog.remove_selected()
    assert not dialog.safety_panel.isVisible()
    with qtbot.waitSignal(dialog.sig_saved, timeout=5000):
        dialog.submit()
    assert "override_reason" not in json.loads(
        clinical_server.requests_to("POST", "/prescriptions")[-1].content)


def test_item_needs_a_dose_before_it_is_added(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    qtbot.keyClicks(dialog.search_edit, "para")
    qtbot.waitUntil(lambda: dialog.selected_drug is not None, timeout=5000)
    assert not dialog.add_item()
    assert dialog.item_error.text() == "Enter a dose greater than zero."
    assert dialog.table.rowCount() == 0


def test_printing_a_new_prescription_previews_the_pdf(qtbot, workspace, clinical_server):
    import pypdfium2

    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    add(qtbot, dialog, "aspi", "75", "30")
    with qtbot.waitSignal(dialog.sig_saved, timeout=5000):
        dialog.submit()
    qtbot.keyClick(chart, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    chart.print_prescription()
    qtbot.waitUntil(lambda: getattr(chart, "dialog", None) is not dialog
                    and getattr(chart.dialog, "page_count", 0) >= 1, timeout=8000)
    preview = chart.dialog
    text = pypdfium2.PdfDocument(preview.pdf)[0].get_textpage().get_text_range()
    assert "RX-1" in text or str(clinical_server.prescriptions[0].id) in text
    preview.reject()
