"""Small pieces the clinical screens share: ranges for vitals, table and label helpers."""

from __future__ import annotations

from dataclasses import dataclass

from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
    translate,
)
from hms_desktop.widgets.record_table import make_record_table


def _n(text: str) -> str:
    return QT_TRANSLATE_NOOP("Vitals", text)


@dataclass(frozen=True)
class VitalRange:
    """Mirrors the server's adult limits so the form can warn before sending.

    ``plausible`` rejects typos (the server answers 422 for them too); ``normal`` only
    produces a hint — an abnormal but real value must still be recordable.
    """

    key: str
    label: str
    unit: str
    plausible: tuple[float, float]
    normal: tuple[float, float] | None
    decimals: int = 0

    def display_label(self) -> str:
        return translate("Vitals", self.label)


VITAL_RANGES: tuple[VitalRange, ...] = (
    VitalRange("systolic_mmhg", _n("Systolic BP"), "mmHg", (40, 300), (90, 139)),
    VitalRange("diastolic_mmhg", _n("Diastolic BP"), "mmHg", (20, 200), (60, 89)),
    VitalRange("heart_rate_bpm", _n("Pulse"), "/min", (20, 300), (50, 100)),
    VitalRange("respiratory_rate", _n("Respiratory rate"), "/min", (4, 80), (12, 20)),
    VitalRange("temperature_c", _n("Temperature"), "°C", (25, 45), (36.0, 37.9), 1),
    VitalRange("spo2_pct", _n("SpO₂"), "%", (50, 100), (94, 100)),
    VitalRange("weight_kg", _n("Weight"), "kg", (0.3, 500), None, 1),
    VitalRange("height_cm", _n("Height"), "cm", (20, 260), None, 1),
)
VITALS_BY_KEY = {r.key: r for r in VITAL_RANGES}

# What the trend chart can plot: title, unit, series keys, normal band.
TREND_METRICS = (
    ("bp", _n("Blood pressure"), "mmHg", ("systolic_mmhg", "diastolic_mmhg"), (60, 139)),
    ("heart_rate_bpm", _n("Pulse"), "/min", ("heart_rate_bpm",), (50, 100)),
    ("temperature_c", _n("Temperature"), "°C", ("temperature_c",), (36.0, 37.9)),
    ("spo2_pct", _n("SpO₂"), "%", ("spo2_pct",), (94, 100)),
    ("respiratory_rate", _n("Respiratory rate"), "/min", ("respiratory_rate",), (12, 20)),
    ("weight_kg", _n("Weight"), "kg", ("weight_kg",), None),
)


def field_error_label(parent: QWidget, name: str) -> QLabel:
    """An inline error under a field, hidden until there is something to say."""
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.hide()
    return label


def set_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


def make_table(parent: QWidget, name: str, model, stretch_column: int = -1) -> QTableView:
    """A read-only, row-selecting table in the house look."""
    table = make_record_table(parent, name, model)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch_column >= 0:
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    return table
