"""The bed tiles' alert lines read as words and fit the tile; the tooltip says it in full;
the due-now list reads whole without scrolling sideways.

The demo's tiles read "⚑ 1 overdue 1 task(s)…" and "◷ 1 due 1 task(s) late…": counts
without nouns, "(s)" plurals and a cut. Real Qt widgets, painted offscreen; no server (the
tiles draw what the model holds)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hms_contract.nursing import DueItem
from hms_contract.wards import BedAlerts, BedRead
from hms_desktop.models.ward import BedBoardModel, DueListModel
from hms_desktop.qt import QFont, QFontMetrics, Qt
from hms_desktop.workspaces.ward.bed_board import TILE, BedBoardView
from hms_desktop.workspaces.ward.workspace import due_list_view

# A tile's text width: the tile less its 4 px margin and 8 px padding on each side.
TEXT_WIDTH = TILE.width() - 2 * 4 - 2 * 8


def bed(number: int, **alerts: object) -> BedRead:
    return BedRead(
        id=number,
        ward_id=1,
        label=f"{number:02d}",
        status="occupied",
        patient_id=number,
        room_id=1,
        room_label="A",
        bed_type="standard",
        gender_policy="mixed",
        status_changed_at=datetime.now(UTC),
        version=1,
        admission_id=number,
        patient_name="Pádraig Kelly",
        days_in=3,
        patient_age=18,
        patient_sex="male",
        alerts=BedAlerts(**alerts),
    )


@pytest.fixture
def board(qtbot):
    model = BedBoardModel()
    view = BedBoardView(model)
    qtbot.addWidget(view)
    view.resize(2 * TILE.width() + 30, 4 * TILE.height() + 10)
    view.show()
    qtbot.waitExposed(view)
    return model, view


def lines_of(view: BedBoardView, b: BedRead) -> list[str]:
    return view.itemDelegate().alert_lines(b, view.font(), TEXT_WIDTH)


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        ({"overdue_tasks": 1}, ["⚑ 1 task overdue"]),
        ({"overdue_tasks": 2}, ["⚑ 2 tasks overdue"]),
        ({"overdue_doses": 1}, ["⚑ 1 dose overdue"]),
        ({"overdue_doses": 3}, ["⚑ 3 doses overdue"]),
        ({"due_doses": 1}, ["◷ 1 dose due"]),
        ({"due_doses": 2, "news2": 2, "news2_complete": True}, ["◷ 2 doses due · NEWS2 2"]),
        ({"news2": 3}, ["NEWS2 3*"]),  # * : the last set of observations was incomplete
        # Overdue doses outrank doses merely due (which the tooltip still lists).
        ({"overdue_doses": 1, "due_doses": 2}, ["⚑ 1 dose overdue"]),
        # A task overdue and a dose due: each said whole, the urgent first.
        (
            {"overdue_tasks": 1, "due_doses": 1, "news2": 2, "news2_complete": True},
            ["⚑ 1 task overdue", "◷ 1 dose due · NEWS2 2"],
        ),
    ],
)
def test_alert_lines_read_as_words(board, alerts, expected):
    _model, view = board
    assert lines_of(view, bed(1, **alerts)) == expected


def test_every_alert_line_fits_the_tile_whole(board):
    model, view = board
    beds = [
        bed(1, overdue_doses=1, overdue_tasks=1, news2=2, news2_complete=True),
        bed(2, allergy=True, overdue_doses=2, overdue_tasks=2, news2=7, news2_complete=True),
        bed(3, allergy=True, overdue_doses=12, overdue_tasks=3, due_doses=4, news2=9),
        bed(4, due_doses=1, overdue_tasks=1, news2=6),
    ]
    model.set_beds(beds)
    bold = QFont(view.font())
    bold.setBold(True)
    metrics, bold_metrics = QFontMetrics(view.font()), QFontMetrics(bold)
    for b in beds:
        lines = lines_of(view, b)
        assert 1 <= len(lines) <= 2, lines
        for line in lines:
            assert "(s)" not in line and "…" not in line, line
        # Each line's chips, urgent ones in bold, and the gaps between them fit the tile.
        chip_lines, hidden = view.itemDelegate().alert_chip_lines(b, view.font(), TEXT_WIDTH)
        more = bold_metrics.horizontalAdvance(f" +{hidden}") if hidden else 0
        for n, chips in enumerate(chip_lines):
            width = sum(
                (bold_metrics if c.urgent else metrics).horizontalAdvance(c.text) for c in chips
            ) + metrics.horizontalAdvance(" · ") * (len(chips) - 1)
            width += more if n == len(chip_lines) - 1 else 0
            assert width <= TEXT_WIDTH, chips
    # Dose and task counts together: one chip, the words still whole.
    first = lines_of(view, beds[0])
    assert first[0].startswith("⚑ 1 dose, 1 task "), first
    assert "NEWS2 2" in " ".join(first)
    # An allergy and a NEWS2 that calls for a response are never pushed off the tile.
    for b in beds[1:3]:
        shown = " ".join(lines_of(view, b))
        assert "⚠ Allergy" in shown and f"NEWS2 {b.alerts.news2}" in shown, shown
    # The tiles paint (the delegate draws what alert_lines says).
    assert not view.grab().isNull()


def test_the_tooltip_has_the_full_detail(board):
    model, _view = board
    model.set_beds(
        [
            bed(
                5,
                allergy=True,
                overdue_doses=1,
                due_doses=2,
                overdue_tasks=1,
                news2=2,
                news2_risk="low",
                news2_complete=False,
            )
        ]
    )
    tooltip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole).splitlines()
    assert tooltip == [
        "Bed 05",
        "● Occupied",
        "Pádraig Kelly",
        "day 3",
        "⚠ Allergy recorded: check the chart",
        "⚑ 1 medicine dose overdue",
        "◷ 2 medicine doses due",
        "⚑ 1 care task overdue",
        "NEWS2 2 (low risk), * incomplete set of observations",
    ]
    # A screen reader hears the same, on one line.
    spoken = model.data(model.index(0), Qt.ItemDataRole.AccessibleTextRole)
    assert spoken == ", ".join(tooltip)


def due(n: int, title: str, overdue: bool = False) -> DueItem:
    return DueItem(
        kind="dose" if n % 2 else "task",
        ref_id=n,
        admission_id=n,
        patient_id=n,
        patient_name="Maria-Magdalena Nowak-Wiśniewska",
        bed_label=f"{n:02d}",
        title=title,
        due_at=datetime(2026, 12, 1, 14, n, tzinfo=UTC),
        overdue=overdue,
    )


def test_the_due_now_list_wraps_and_never_scrolls_sideways(qtbot):
    """The demo's list cut "Metronidazole …" behind a horizontal scroll bar: each item now
    reads on two lines (when and whom, then what), wrapped to the pane's width."""
    model = DueListModel()
    view = due_list_view(model, None)
    qtbot.addWidget(view)
    view.resize(400, 300)  # the pane's width in the default 1280 × 800 window
    view.show()
    qtbot.waitExposed(view)
    model.set_items(
        [
            due(1, "Metronidazole 400 mg oral", overdue=True),
            due(2, "Turn patient (pressure area care), check heels and sacrum, record skin"),
            due(3, "Observations (vitals)"),
        ]
    )
    first = model.data(model.index(0)).splitlines()
    assert first[0].startswith("OVERDUE · ") and first[0].endswith(
        "Bed 01 · " + due(1, "").patient_name
    )
    assert first[1] == "℞ Metronidazole 400 mg oral"
    assert model.data(model.index(1), Qt.ItemDataRole.ToolTipRole).endswith("record skin")
    line = view.fontMetrics().height()
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height() >= 2 * line, timeout=15000)
    for row in range(model.rowCount()):
        rect = view.visualRect(model.index(row))
        assert rect.height() >= 2 * line and rect.right() <= view.viewport().width(), row
    # The long care task wraps onto a third line rather than run off the pane.
    assert view.visualRect(model.index(1)).height() >= 3 * line
    assert not view.horizontalScrollBar().isVisible()
