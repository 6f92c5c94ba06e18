"""Prescribing from the chart: formulary search, items, the safety prompt and the override."""

import json
import threading

from hms_desktop.qt import Qt

# The chart tests' fixtures, shared: pytest finds fixtures imported into a module.
from tests.desktop.test_clinical_chart import clinical_server, open_chart, workspace

__all__ = ["clinical_server", "workspace"]


def add(qtbot, dialog, name, dose, quantity):
    dialog.search_edit.clear()
    qtbot.keyClicks(dialog.search_edit, name)
    qtbot.waitUntil(
        lambda: dialog.results.count() == 1 and dialog.selected_drug is not None, timeout=15000
    )
    dialog.dose_edit.clear()
    qtbot.keyClicks(dialog.dose_edit, dose)
    qtbot.keyClicks(dialog.quantity_edit, quantity)
    assert dialog.add_item()


def test_the_check_runs_as_each_medicine_is_added_and_an_override_needs_a_reason(
    qtbot, workspace, clinical_server
):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    dialog.submit()
    assert dialog.items_error.text() == "Add at least one medicine."
    add(qtbot, dialog, "warf", "5", "30")
    qtbot.waitUntil(lambda: not dialog.checking, timeout=15000)
    assert clinical_server.checks == [[1]]
    assert dialog.safe_label.text().startswith("✓ No allergy, interaction")
    assert not dialog.safety_panel.isVisible()

    add(qtbot, dialog, "aspi", "75", "30")
    qtbot.waitUntil(dialog.safety_panel.isVisible, timeout=15000)
    assert clinical_server.checks == [[1], [1, 2]]
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 0).text() == "warfarin 5 mg tablet (oral)"
    text = dialog.conflicts_label.text()
    assert "MAJOR" in text and "Interaction" in text and "increased risk of bleeding" in text
    assert "Source: HMS starter table" in text
    assert dialog.submit_button.text() == "Prescribe anyway"
    assert not clinical_server.requests_to("POST", "/prescriptions")  # found before sending

    dialog.submit()  # no reason yet: nothing is sent
    assert dialog.override_error.isVisible()
    assert not clinical_server.requests_to("POST", "/prescriptions")

    qtbot.keyClicks(dialog.override_edit, "INR monitored weekly; cardiology agrees")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        qtbot.keyClick(dialog.override_edit, Qt.Key.Key_Return)
    [sent] = [json.loads(r.content) for r in clinical_server.requests_to("POST", "/prescriptions")]
    assert sent["override_reason"] == "INR monitored weekly; cardiology agrees"
    assert sent["encounter_id"] == 2  # the visit in progress
    # Quantities travel as the contract writes them: decimal strings, never floats.
    assert sent["items"][0] == {
        "drug_id": 1,
        "dose": "5.0",
        "unit": "tablet",
        "route": "oral",
        "frequency": "once daily",
        "duration_days": 5,
        "quantity": "30.0",
    }
    assert clinical_server.prescriptions[0].overrides[0].reason
    qtbot.waitUntil(lambda: chart.meds_tab.model.rowCount() == 2, timeout=15000)
    assert chart.tabs.currentWidget() is chart.meds_tab


def test_a_refusal_when_sending_still_shows_the_conflicts(
    qtbot, workspace, clinical_server, monkeypatch
):
    # The dry run answered "no problem" (say a colleague prescribed aspirin meanwhile); the
    # server's check on sending refuses, and the dialog shows why.
    monkeypatch.setattr(clinical_server, "_check", lambda request: {"ok": True, "conflicts": []})
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    add(qtbot, dialog, "warf", "5", "30")
    add(qtbot, dialog, "aspi", "75", "30")
    qtbot.waitUntil(lambda: not dialog.checking, timeout=15000)
    assert not dialog.safety_panel.isVisible()
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.safety_panel.isVisible, timeout=15000)
    assert "increased risk of bleeding" in dialog.conflicts_label.text()
    assert "override_reason" not in json.loads(
        clinical_server.requests_to("POST", "/prescriptions")[0].content
    )


def test_the_dialog_shows_whose_prescription_it_is(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    qtbot.waitUntil(lambda: dialog.patient_loaded, timeout=15000)
    assert dialog.header.name_label.text() == "OKAFOR, Amina"
    assert "MRN HMS-1001" in dialog.header.details_label.text()
    assert " y · born 1961-03-14" in dialog.header.details_label.text()
    assert dialog.header.allergy_state == "allergic"
    assert "penicillin (severe)" in dialog.header.allergy_badge.text()
    # The latest weight, even when the latest vitals did not include one.
    assert dialog.weight_label.text().startswith("Weight: 72.5 kg (recorded ")


def test_units_fit_the_form_and_other_names_find_the_drug(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    qtbot.keyClicks(dialog.search_edit, "albuterol")  # the US name of salbutamol
    qtbot.waitUntil(lambda: dialog.selected_drug is not None, timeout=15000)
    assert dialog.selected_drug.generic_name == "salbutamol"
    assert "also: albuterol · Ventolin" in dialog.results.item(0).text()
    units = [dialog.unit_combo.itemText(i) for i in range(dialog.unit_combo.count())]
    assert units == ["puff"] and dialog.dose_edit.text() == "1"
    dialog.search_edit.clear()
    dialog.dose_edit.clear()
    qtbot.keyClicks(dialog.search_edit, "Panadol")  # a brand name
    qtbot.waitUntil(
        lambda: (
            dialog.selected_drug is not None and dialog.selected_drug.generic_name == "paracetamol"
        ),
        timeout=15000,
    )
    units = [dialog.unit_combo.itemText(i) for i in range(dialog.unit_combo.count())]
    assert units == ["tablet", "mg"] and dialog.dose_edit.text() == "1"


def test_changing_the_items_clears_the_old_conflicts(qtbot, workspace, clinical_server):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    add(qtbot, dialog, "warf", "5", "30")
    add(qtbot, dialog, "aspi", "75", "30")
    dialog.submit()
    qtbot.waitUntil(dialog.safety_panel.isVisible, timeout=15000)
    dialog.table.selectRow(1)
    dialog.remove_selected()
    assert not dialog.safety_panel.isVisible()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=15000)
    assert not dialog.safety_panel.isVisible()  # the re-check of warfarin alone is clean
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        dialog.submit()
    assert "override_reason" not in json.loads(
        clinical_server.requests_to("POST", "/prescriptions")[-1].content
    )


def test_a_refusal_of_a_list_changed_meanwhile_is_not_shown(qtbot, workspace, clinical_server):
    """The prescriber sends warfarin + aspirin and, while the refusal is on its way, takes
    the aspirin off: the late refusal is about a list that no longer exists (it once put
    the interaction panel back over a clean list)."""
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    clinical_server.hold_prescribe = release = threading.Event()
    add(qtbot, dialog, "warf", "5", "30")
    add(qtbot, dialog, "aspi", "75", "30")
    dialog.submit()  # at once: the live check's answer is not in yet (no events ran)
    qtbot.waitUntil(
        lambda: bool(clinical_server.requests_to("POST", "/prescriptions")), timeout=15000
    )
    dialog.table.selectRow(1)
    dialog.remove_selected()
    release.set()
    qtbot.waitUntil(lambda: not dialog.busy and not dialog.checking, timeout=15000)
    assert not dialog.safety_panel.isVisible()
    assert [i["drug_id"] for i in dialog.items] == [dialog.drugs[0].id]


def test_item_needs_a_dose_before_it_is_added(qtbot, workspace):
    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    qtbot.keyClicks(dialog.search_edit, "para")
    qtbot.waitUntil(lambda: dialog.selected_drug is not None, timeout=15000)
    dialog.dose_edit.clear()  # a tablet starts at 1; the prescriber cleared it
    assert not dialog.add_item()
    assert dialog.item_error.text() == "Enter a dose greater than zero."
    assert dialog.table.rowCount() == 0


def test_printing_a_new_prescription_previews_the_pdf(qtbot, workspace, clinical_server):
    import pypdfium2

    chart = open_chart(qtbot, workspace)
    chart.do_action("prescribe")
    dialog = chart.dialog
    add(qtbot, dialog, "aspi", "75", "30")
    with qtbot.waitSignal(dialog.sig_saved, timeout=15000):
        dialog.submit()
    qtbot.keyClick(chart, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    chart.print_prescription()
    qtbot.waitUntil(
        lambda: (
            getattr(chart, "dialog", None) is not dialog
            and getattr(chart.dialog, "page_count", 0) >= 1
        ),
        timeout=8000,
    )
    preview = chart.dialog
    text = pypdfium2.PdfDocument(preview.pdf)[0].get_textpage().get_text_range()
    assert "RX-1" in text or str(clinical_server.prescriptions[0].id) in text
    # The letterhead and the facts read for the print: hospital, severity, weight.
    assert "Fake General Hospital" in text
    assert "penicillin (severe — anaphylaxis)" in text
    assert "72.5 kg" in text
    preview.reject()
