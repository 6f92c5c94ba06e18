"""The chart's tabs. Each tab loads its own data off the GUI thread when the chart opens
and again after a change; none of them talks to another directly (the chart relays)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from hms_contract.clinical import (
    ChartRead,
    LabResultRead,
    LabTestRead,
    MedicationRead,
    NoteRead,
    ProblemRead,
    VitalsRead,
)
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.models.clinical import (
    RowsTableModel,
    TimelineModel,
    VitalsTableModel,
    _num,
    flag_word,
    local_time,
    vital_cell,
)
from hms_desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    Signal,
    translate,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.trend_chart import Series, TrendChart, parse_time
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import TREND_METRICS, VITALS_BY_KEY, make_table
from hms_desktop.workspaces.clinical.note_dialog import note_html

_T = "ChartTabs"


def _t(text: str) -> str:
    return translate(_T, text)


def button(parent: QWidget, text: str, tip: str) -> QPushButton:
    widget = QPushButton(text, parent)
    widget.setAccessibleName(text.replace("&", "").rstrip("…"))
    widget.setToolTip(tip)
    widget.setAutoDefault(False)
    return widget


#: Chart actions that need more than writing to the chart (the server's permission names).
ACTION_PERMISSIONS = {"prescribe": "prescriptions.write"}


def may_do(context: WorkspaceContext, action: str) -> bool:
    """Whether the signed-in user's permissions allow ``action``."""
    needed = ACTION_PERMISSIONS.get(action)
    return needed is None or needed in context.me.permissions


class ChartTab(QWidget):
    """Base: a toolbar row, a body, an inline problem label; ``load()`` fetches through
    ``self.clinical``."""

    sig_action = Signal(str)  # "new_note", "record_vitals", ... handled by the chart

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.clinical = clinical
        self.patient_id: int | None = None
        self.loaded = False
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 8, 8, 8)
        self.toolbar = QHBoxLayout()
        self.layout_.addLayout(self.toolbar)
        self.problem = ProblemLabel(self)

    def add_action(self, text: str, tip: str, action: str) -> QPushButton:
        widget = button(self, text, tip)
        widget.clicked.connect(lambda: self.sig_action.emit(action))
        self.toolbar.addWidget(widget)
        # A button the server would refuse is not offered (a triage nurse does not prescribe).
        widget.setVisible(may_do(self.context, action))
        return widget

    def finish_layout(self) -> None:
        self.toolbar.addStretch(1)
        self.layout_.addWidget(self.problem)

    def set_patient(self, patient_id: int | None) -> None:
        self.patient_id = patient_id
        self.loaded = False
        if patient_id is not None:
            self.load()

    def load(self) -> None:
        """Fetch this tab's data for ``patient_id``."""

    def fetch(self, fn, on_done) -> None:
        pid = self.patient_id
        self.problem.clear()

        def done(result) -> None:
            if pid == self.patient_id:  # still the same patient
                self.loaded = True
                on_done(result)

        self.context.tasks.run(fn, on_done=done, on_error=self.problem.show_error, owner=self)


# -- summary ---------------------------------------------------------------------------
def _list_html(items: list[str], empty: str) -> str:
    if not items:
        return f"<p style='color:palette(placeholder-text)'>{html.escape(empty)}</p>"
    return "<ul style='margin-left:-24px'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _card(parent: QWidget, title: str) -> tuple[QWidget, QLabel]:
    card = QWidget(parent)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(0, 0, 0, 0)
    heading = QLabel(title, card)
    heading.setStyleSheet("font-weight: 600;")
    body = QLabel(card)
    body.setWordWrap(True)
    body.setTextFormat(Qt.TextFormat.RichText)
    body.setAlignment(Qt.AlignmentFlag.AlignTop)
    body.setAccessibleName(title)
    body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(heading)
    layout.addWidget(body, 1)
    return card, body


def latest_vitals_html(vitals: VitalsRead | None) -> str:
    if vitals is None:
        return _list_html([], _t("No vitals recorded."))
    rows = []
    for key, label in (
        ("bp", "BP"),
        ("heart_rate_bpm", "Pulse"),
        ("respiratory_rate", "Resp"),
        ("temperature_c", "Temp"),
        ("spo2_pct", "SpO₂"),
        ("bmi", "BMI"),
    ):
        text, flag = vital_cell(vitals, key)
        if not text:
            continue
        style = " style='color:#c62828;font-weight:600'" if flag in ("H", "L", "HH", "LL") else ""
        rows.append(f"{_t(label)}: <span{style}>{html.escape(text)}</span>")
    when = local_time(vitals.recorded_at)
    return _list_html(rows, "") + f"<p style='color:palette(placeholder-text)'>{when}</p>"


def medication_text(med: MedicationRead) -> str:
    dose = _num(med.dose)
    parts = [med.generic_name, f"{dose} {med.unit}".strip() if dose else "", med.frequency]
    return " · ".join(p for p in parts if p)


def problem_text(problem: ProblemRead) -> str:
    return f"{problem.icd10_code} {problem.description}".strip()


class SummaryTab(ChartTab):
    """Problems, medications, latest vitals and recent visits at a glance, with the
    blood-pressure trend (the chart summary is one request)."""

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, clinical, parent)
        self.add_action(self.tr("New &note…"), self.tr("Write a note (Ctrl+N)"), "new_note")
        self.add_action(self.tr("Record &vitals…"), self.tr("Record vital signs"), "record_vitals")
        self.add_action(self.tr("Pre&scribe…"), self.tr("Write a prescription"), "prescribe")
        self.finish_layout()
        cards = QHBoxLayout()
        card, self.problems_label = _card(self, self.tr("Active problems"))
        cards.addWidget(card, 1)
        card, self.meds_label = _card(self, self.tr("Current medications"))
        cards.addWidget(card, 1)
        card, self.vitals_label = _card(self, self.tr("Latest vitals"))
        cards.addWidget(card, 1)
        card, self.encounters_label = _card(self, self.tr("Recent visits"))
        cards.addWidget(card, 1)
        self.layout_.insertLayout(1, cards)
        self.trend = TrendChart(self)
        self.trend.setAccessibleName(self.tr("Blood pressure trend"))
        self.layout_.insertWidget(2, self.trend, 1)

    def show_chart(self, chart: ChartRead) -> None:
        self.loaded = True
        problems = [html.escape(problem_text(p)) for p in chart.problems]
        self.problems_label.setText(_list_html(problems, self.tr("No active problems.")))
        meds = [html.escape(medication_text(m)) for m in chart.medications]
        self.meds_label.setText(_list_html(meds, self.tr("No current medications.")))
        self.vitals_label.setText(latest_vitals_html(chart.latest_vitals))
        visits = [
            f"{local_time(e.started_at, '%d %b %Y')} — {html.escape(e.reason or e.kind)}"
            for e in chart.recent_encounters
        ]
        self.encounters_label.setText(_list_html(visits, self.tr("No visits yet.")))

    def show_vitals(self, rows: list[VitalsRead]) -> None:
        set_trend(self.trend, TREND_METRICS[0], rows)


def set_trend(chart: TrendChart, metric: tuple, rows: list[VitalsRead]) -> None:
    """Plot one metric of ``rows`` (vitals records, any order) on ``chart``."""
    _key, title, unit, keys, band = metric
    ordered = sorted(rows, key=lambda r: r.recorded_at)
    names = {"systolic_mmhg": _t("Systolic"), "diastolic_mmhg": _t("Diastolic")}
    series = []
    for i, key in enumerate(keys):
        points = [
            (parse_time(r.recorded_at), float(getattr(r, key)))
            for r in ordered
            if getattr(r, key) is not None
        ]
        spec = VITALS_BY_KEY.get(key)
        series.append(
            Series(
                names.get(key, translate("Vitals", title)),
                points,
                ("#1f5fa8", "#7b3fa0")[i % 2],
                spec.normal if spec else None,
            )
        )
    chart.set_data(translate("Vitals", title), unit, series, band)


# -- timeline --------------------------------------------------------------------------
class TimelineTab(ChartTab):
    """Everything that happened, newest first, fetched a page at a time as you scroll."""

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, clinical, parent)
        self.finish_layout()
        self.model = TimelineModel(context.tasks, clinical, self)
        self.table = make_table(self, self.tr("Timeline"), self.model, stretch_column=2)
        self.layout_.insertWidget(1, self.table, 1)
        self.model.sig_load_failed.connect(self.problem.show_error)

    def load(self) -> None:
        self.model.set_filters(patient_id=self.patient_id)
        self.loaded = True


# -- notes -----------------------------------------------------------------------------
class NotesTab(ChartTab):
    """Notes on the left, the selected note with all its versions on the right."""

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, clinical, parent)
        self.add_action(self.tr("New &note…"), self.tr("Write a note (Ctrl+N)"), "new_note")
        self.amend_button = self.add_action(
            self.tr("&Amend…"), self.tr("Amend the selected note"), "amend_note"
        )
        self.finish_layout()
        self.model = RowsTableModel(
            [
                (self.tr("Written"), lambda n: local_time(n.created_at)),
                (self.tr("Type"), lambda n: n.note_type.upper()),
                (self.tr("Title"), lambda n: n.title or ""),
                (self.tr("Status"), lambda n: _note_status(n)),
            ],
            parent=self,
        )
        self.table = make_table(self, self.tr("Notes"), self.model, stretch_column=2)
        self.viewer = QTextBrowser(self)
        self.viewer.setAccessibleName(self.tr("Selected note"))
        self.viewer.setOpenLinks(False)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.viewer)
        splitter.setSizes([380, 520])
        self.layout_.insertWidget(1, splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.amend_button.setEnabled(False)

    def load(self) -> None:
        api, pid = self.clinical, self.patient_id
        self.fetch(lambda: list(api.list_notes(pid).items), self._on_notes_loaded)

    def _on_notes_loaded(self, notes: list[NoteRead]) -> None:
        selected = self.selected_note()
        self.model.set_rows(notes)
        row = 0
        if selected:
            row = next((i for i, n in enumerate(notes) if n.id == selected.id), 0)
        if notes:
            self.table.selectRow(row)
        else:
            self.viewer.setHtml(f"<p>{html.escape(self.tr('No notes yet.'))}</p>")

    def selected_note(self) -> NoteRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _on_table_current_changed(self, current, _previous) -> None:
        note = self.model.row_item(current.row()) if current.isValid() else None
        self.amend_button.setEnabled(note is not None)
        self.viewer.setHtml(note_html(note) if note else "")


def _note_status(note: NoteRead) -> str:
    version = note.version
    signed = _t("Signed") if note.signed or note.current.signed_at else _t("Unsigned")
    return f"{signed}, v{version}" if version > 1 else signed


# -- vitals ----------------------------------------------------------------------------
class VitalsTab(ChartTab):
    """Trend chart of one measurement over the recorded vitals table."""

    def __init__(
        self, context: WorkspaceContext, clinical: ClinicalApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, clinical, parent)
        self.add_action(self.tr("Record &vitals…"), self.tr("Record vital signs"), "record_vitals")
        self.metric_combo = QComboBox(self)
        self.metric_combo.setAccessibleName(self.tr("Measurement to chart"))
        for metric in TREND_METRICS:
            self.metric_combo.addItem(translate("Vitals", metric[1]), metric[0])
        self.toolbar.addSpacing(16)
        self.toolbar.addWidget(QLabel(self.tr("Chart:"), self))
        self.toolbar.addWidget(self.metric_combo)
        self.finish_layout()
        self.chart = TrendChart(self)
        self.model = VitalsTableModel(context.tasks, clinical, self)
        self.table = make_table(self, self.tr("Recorded vitals"), self.model)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.table)
        splitter.setSizes([280, 220])
        self.layout_.insertWidget(1, splitter, 1)
        self.rows: list[VitalsRead] = []
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.rowsInserted.connect(self._on_model_rows_changed)
        self.model.modelReset.connect(self._on_model_rows_changed)

    sig_vitals_changed = Signal(object)

    def load(self) -> None:
        self.model.set_filters(patient_id=self.patient_id)

    def _on_model_rows_changed(self, *_args) -> None:
        self.rows = [self.model.row_item(r) for r in range(self.model.rowCount())]
        self.loaded = self.model.total is not None
        self.redraw()
        self.sig_vitals_changed.emit(self.rows)

    def redraw(self) -> None:
        set_trend(self.chart, TREND_METRICS[self.metric_combo.currentIndex()], self.rows)


# -- simple lists ----------------------------------------------------------------------
class ListTab(ChartTab):
    """A per-patient list that arrives whole (allergies, problems, medications, ...);
    ``loader(clinical, patient_id)`` fetches it on a worker."""

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        name: str,
        columns,
        loader: Callable[[ClinicalApi, int], list[Any]],
        flag_of=None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, clinical, parent)
        self._loader = loader
        self.model = RowsTableModel(columns, flag_of, self)
        self.table = make_table(self, name, self.model)
        self.layout_.addWidget(self.table, 1)

    def load(self) -> None:
        api, pid, loader = self.clinical, self.patient_id, self._loader
        self.fetch(lambda: loader(api, pid), self.model.set_rows)

    def selected(self) -> Any:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None


def result_text(result: LabResultRead) -> str:
    value = result.value_numeric
    text = f"{float(value):g}" if value is not None else str(result.value_text or "")
    if result.unit:
        text += f" {result.unit}"
    if result.flag and result.flag != "N":
        text += f" ({flag_word(result.flag)})"
    return text


def reference_text(result: LabResultRead | LabTestRead) -> str:
    low, high = result.ref_low, result.ref_high
    if low is None and high is None:
        return ""

    def fmt(v):
        return f"{float(v):g}" if v is not None else "…"

    return f"{fmt(low)}–{fmt(high)}"
