"""Nursing tabs of the patient in context: vitals (grid with NEWS2, trend chart, entry),
and nursing care (NEWS2 assessment, tasks, fluid balance per shift, notes).

Every load and save runs on the task runner; a failure shows the server's problem inline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hms_contract.clinical import VitalsCreate
from hms_contract.nursing import (
    AssessmentCreate,
    AssessmentRead,
    FluidBalance,
    FluidCreate,
    NursingNoteRead,
    TaskCreate,
    TaskRead,
    VitalsGrid,
)
from hms_contract.wards import AdmissionRead
from hms_desktop.api.wards import WardsApi
from hms_desktop.models.ward import VitalsGridModel
from hms_desktop.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.widgets.trend_chart import SERIES_COLOURS, Series, TrendChart

CONSCIOUSNESS = (
    ("alert", "Alert"),
    ("confusion", "New confusion"),
    ("voice", "Voice"),
    ("pain", "Pain"),
    ("unresponsive", "Unresponsive"),
)
# metric → (label, unit, the range that scores 0 in NEWS2)
TREND_METRICS = {
    "heart_rate_bpm": ("Heart rate", "/min", (51.0, 90.0)),
    "spo2_pct": ("SpO₂", "%", (96.0, 100.0)),
    "respiratory_rate": ("Respiratory rate", "/min", (12.0, 20.0)),
    "systolic_mmhg": ("Systolic BP", "mmHg", (111.0, 219.0)),
    "temperature_c": ("Temperature", "°C", (36.1, 38.0)),
}
FLUIDS = (
    ("intake", "oral", "Intake · oral"),
    ("intake", "intravenous", "Intake · IV"),
    ("intake", "enteral", "Intake · enteral"),
    ("output", "urine", "Output · urine"),
    ("output", "drain", "Output · drain"),
    ("output", "vomit", "Output · vomit"),
    ("output", "stool", "Output · stool"),
)


def _spin(parent: QWidget, name: str, low: int, high: int) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low - 1, high)
    spin.setSpecialValueText("—")  # the value below the range means "not measured"
    spin.setValue(low - 1)
    spin.setAccessibleName(name)
    return spin


class VitalsPanel(QWidget):
    """Vitals grid (newest first, NEWS2 per row, monitor or nurse), trend chart, entry."""

    sig_saved = Signal()

    def __init__(self, tasks: Any, wards: WardsApi, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.wards = tasks, wards
        self.admission: AdmissionRead | None = None
        layout = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.model = VitalsGridModel(self)
        self.table = make_record_table(split, self.tr("Vitals"), self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # When and by whom identify a reading: never elided.
        for column in (0, len(VitalsGridModel.COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        chart_box = QWidget(split)
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        self.metric_combo = QComboBox(chart_box)
        self.metric_combo.setAccessibleName(self.tr("Trend of"))
        for key, (text, _unit, _band) in TREND_METRICS.items():
            self.metric_combo.addItem(self.tr(text), key)
        self.metric_combo.currentIndexChanged.connect(self._draw_trend)
        self.chart = TrendChart(chart_box)
        self.chart.setAccessibleName(self.tr("Vitals trend"))
        chart_layout.addWidget(self.metric_combo)
        chart_layout.addWidget(self.chart, 1)
        split.addWidget(self.table)
        split.addWidget(chart_box)
        layout.addWidget(split, 1)
        self.due_label = QLabel(self)
        self.due_label.setProperty("role", "subtitle")
        layout.addWidget(self.due_label)
        box = QGroupBox(self.tr("New observations"), self)
        row = QHBoxLayout(box)
        self.systolic = _spin(box, self.tr("Systolic"), 40, 300)
        self.diastolic = _spin(box, self.tr("Diastolic"), 20, 200)
        self.heart_rate = _spin(box, self.tr("Heart rate"), 20, 300)
        self.resp_rate = _spin(box, self.tr("Respiratory rate"), 4, 80)
        self.spo2 = _spin(box, self.tr("SpO2"), 50, 100)
        self.temperature = QDoubleSpinBox(box)
        self.temperature.setRange(24.9, 45.0)
        self.temperature.setDecimals(1)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("—")
        self.temperature.setValue(24.9)
        self.temperature.setAccessibleName(self.tr("Temperature"))
        for label, widget in (
            (self.tr("BP"), self.systolic),
            ("/", self.diastolic),
            (self.tr("HR"), self.heart_rate),
            (self.tr("RR"), self.resp_rate),
            (self.tr("SpO₂"), self.spo2),
            (self.tr("T °C"), self.temperature),
        ):
            row.addWidget(QLabel(label, box))
            row.addWidget(widget)
        self.save_button = QPushButton(self.tr("Save"), box)
        self.save_button.setToolTip(self.tr("Save the observations"))
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        layout.addWidget(box)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

    def load(self, admission: AdmissionRead | None) -> None:
        self.admission = admission
        self.problem.clear()
        if admission is None:
            self.model.set_rows([])
            self.chart.clear()
            return
        admission_id = admission.id
        self.tasks.run(
            lambda: self.wards.vitals_grid(admission_id),
            on_done=self._on_grid,
            on_error=self.problem.show_error,
        )

    def _on_grid(self, grid: VitalsGrid) -> None:
        if self.admission is None or grid.admission_id != self.admission.id:
            return
        self.model.set_rows(grid.items)
        self._draw_trend()
        if grid.observe_every_minutes:
            self.due_label.setText(
                self.tr("Observations due every {n} min by NEWS2.").format(
                    n=grid.observe_every_minutes
                )
            )
        else:
            self.due_label.setText("")

    def _draw_trend(self, *_: Any) -> None:
        key = self.metric_combo.currentData()
        text, unit, band = TREND_METRICS[key]
        points = [
            (r.recorded_at, float(getattr(r, key)))
            for r in reversed(self.model.rows)
            if getattr(r, key) is not None
        ]
        if not points:
            self.chart.clear()
            return
        self.chart.set_data(
            self.tr(text), unit, [Series(self.tr(text), points, SERIES_COLOURS[0], band)], band
        )

    def values(self) -> dict[str, Any]:
        def measured(spin: QSpinBox) -> int | None:
            return spin.value() if spin.value() >= spin.minimum() + 1 else None

        temp = self.temperature.value()
        return {
            "systolic_mmhg": measured(self.systolic),
            "diastolic_mmhg": measured(self.diastolic),
            "heart_rate_bpm": measured(self.heart_rate),
            "respiratory_rate": measured(self.resp_rate),
            "spo2_pct": measured(self.spo2),
            "temperature_c": Decimal(f"{temp:.1f}") if temp >= 25 else None,
        }

    def save(self) -> None:
        if self.admission is None:
            return
        values = {k: v for k, v in self.values().items() if v is not None}
        if not values:
            self.problem.show_text(self.tr("Enter at least one measurement."))
            return
        admission_id = self.admission.id
        body = VitalsCreate(**values)
        self.save_button.setEnabled(False)
        self.tasks.run(
            lambda: self.wards.record_vitals(admission_id, body),
            on_done=self._on_saved,
            on_error=self._on_failed,
        )

    def _on_saved(self, _row: Any) -> None:
        self.save_button.setEnabled(True)
        for spin in (self.systolic, self.diastolic, self.heart_rate, self.resp_rate, self.spo2):
            spin.setValue(spin.minimum())
        self.temperature.setValue(self.temperature.minimum())
        self.problem.clear()
        self.load(self.admission)
        self.sig_saved.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.problem.show_error(exc)


class NursingPanel(QWidget):
    """NEWS2 assessment, care tasks, fluid balance per shift and nursing notes."""

    sig_saved = Signal()

    def __init__(self, tasks: Any, wards: WardsApi, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks, self.wards = tasks, wards
        self.admission: AdmissionRead | None = None
        layout = QHBoxLayout(self)
        left, right = QVBoxLayout(), QVBoxLayout()
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

        news = QGroupBox(self.tr("NEWS2"), self)
        news_form = QFormLayout(news)
        self.consciousness = QComboBox(news)
        self.consciousness.setAccessibleName(self.tr("Consciousness (ACVPU)"))
        for code, text in CONSCIOUSNESS:
            self.consciousness.addItem(self.tr(text), code)
        self.oxygen = QCheckBox(self.tr("On supplemental oxygen"), news)
        self.score_button = QPushButton(self.tr("Score from newest vitals"), news)
        self.score_button.clicked.connect(self.score_news2)
        self.score_label = QLabel(news)
        self.score_label.setAccessibleName(self.tr("NEWS2 score"))
        news_form.addRow(self.tr("Consciousness"), self.consciousness)
        news_form.addRow(self.oxygen)
        news_form.addRow(self.score_button, self.score_label)
        left.addWidget(news)

        tasks_box = QGroupBox(self.tr("Care tasks"), self)
        tasks_layout = QVBoxLayout(tasks_box)
        self.task_list = QListWidget(tasks_box)
        self.task_list.setAccessibleName(self.tr("Open care tasks"))
        self.done_button = QPushButton(self.tr("Mark done"), tasks_box)
        self.done_button.clicked.connect(self.complete_task)
        new_task = QHBoxLayout()
        self.task_title = QLineEdit(tasks_box)
        self.task_title.setPlaceholderText(self.tr("New task, e.g. Turn patient"))
        self.task_title.setAccessibleName(self.tr("New task"))
        self.task_every = QSpinBox(tasks_box)
        self.task_every.setRange(0, 24)
        self.task_every.setSpecialValueText(self.tr("once"))
        self.task_every.setPrefix(self.tr("every "))
        self.task_every.setSuffix(self.tr(" h"))
        self.task_every.setAccessibleName(self.tr("Repeat every hours"))
        add_task = QPushButton(self.tr("Add"), tasks_box)
        add_task.clicked.connect(self.add_task)
        new_task.addWidget(self.task_title, 1)
        new_task.addWidget(self.task_every)
        new_task.addWidget(add_task)
        tasks_layout.addWidget(self.task_list)
        tasks_layout.addWidget(self.done_button)
        tasks_layout.addLayout(new_task)
        left.addWidget(tasks_box, 1)

        fluids = QGroupBox(self.tr("Fluid balance today"), self)
        fluid_layout = QVBoxLayout(fluids)
        self.balance_label = QLabel(fluids)
        self.balance_label.setAccessibleName(self.tr("Fluid balance by shift"))
        self.balance_label.setWordWrap(True)
        fluid_row = QHBoxLayout()
        self.fluid_kind = QComboBox(fluids)
        self.fluid_kind.setAccessibleName(self.tr("Intake or output"))
        for kind, route, text in FLUIDS:
            self.fluid_kind.addItem(self.tr(text), (kind, route))
        self.fluid_ml = QSpinBox(fluids)
        self.fluid_ml.setRange(1, 10000)
        self.fluid_ml.setValue(200)
        self.fluid_ml.setSuffix(" ml")
        self.fluid_ml.setAccessibleName(self.tr("Volume in millilitres"))
        add_fluid = QPushButton(self.tr("Add"), fluids)
        add_fluid.clicked.connect(self.add_fluid)
        fluid_row.addWidget(self.fluid_kind, 1)
        fluid_row.addWidget(self.fluid_ml)
        fluid_row.addWidget(add_fluid)
        fluid_layout.addWidget(self.balance_label)
        fluid_layout.addLayout(fluid_row)
        right.addWidget(fluids)

        notes = QGroupBox(self.tr("Nursing notes"), self)
        notes_layout = QVBoxLayout(notes)
        self.notes_list = QListWidget(notes)
        self.notes_list.setAccessibleName(self.tr("Nursing notes"))
        self.notes_list.setWordWrap(True)
        self.note_edit = QPlainTextEdit(notes)
        self.note_edit.setAccessibleName(self.tr("New nursing note"))
        self.note_edit.setPlaceholderText(self.tr("Write a nursing note"))
        self.note_edit.setMaximumHeight(70)
        add_note = QPushButton(self.tr("Add note"), notes)
        add_note.clicked.connect(self.add_note)
        notes_layout.addWidget(self.notes_list, 1)
        notes_layout.addWidget(self.note_edit)
        notes_layout.addWidget(add_note)
        right.addWidget(notes, 1)
        self.problem = ProblemLabel(self)
        right.addWidget(self.problem)

    # -- loading -----------------------------------------------------------------------------
    def load(self, admission: AdmissionRead | None) -> None:
        self.admission = admission
        self.problem.clear()
        self.task_list.clear()
        self.notes_list.clear()
        self.balance_label.setText("")
        self.score_label.setText("")
        if admission is None:
            return
        aid = admission.id
        run = self.tasks.run
        run(
            lambda: self.wards.tasks(aid),
            on_done=lambda r: self._on_tasks(aid, r),
            on_error=self.problem.show_error,
            owner=self,
        )
        run(
            lambda: self.wards.nursing_notes(aid),
            on_done=lambda r: self._on_notes(aid, r),
            on_error=self.problem.show_error,
            owner=self,
        )
        run(
            lambda: self.wards.fluid_balance(aid),
            on_done=lambda r: self._on_fluids(aid, r),
            on_error=self.problem.show_error,
            owner=self,
        )
        run(
            lambda: self.wards.assessments(aid, "news2"),
            on_done=lambda r: self._on_news2(aid, r),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _current(self, admission_id: int) -> bool:
        return self.admission is not None and self.admission.id == admission_id

    def _on_tasks(self, admission_id: int, tasks: list[TaskRead]) -> None:
        if not self._current(admission_id):
            return
        self.task_list.clear()
        for task in tasks:
            late = self.tr("LATE · ") if task.overdue else ""
            item = QListWidgetItem(f"{late}{task.due_at:%H:%M} {task.title}", self.task_list)
            item.setData(Qt.ItemDataRole.UserRole, (task.id, task.version))
            if task.overdue:
                item.setForeground(Qt.GlobalColor.darkRed)

    def _on_notes(self, admission_id: int, notes: list[NursingNoteRead]) -> None:
        if not self._current(admission_id):
            return
        self.notes_list.clear()
        for note in notes:
            QListWidgetItem(
                f"{note.created_at:%d %b %H:%M} · {note.author_name or ''}\n{note.text}",
                self.notes_list,
            )

    def _on_fluids(self, admission_id: int, balance: FluidBalance) -> None:
        if not self._current(admission_id):
            return
        parts = [
            self.tr("{shift}: in {i} ml, out {o} ml ({b:+d})").format(
                shift=self.tr(s.shift.title()), i=s.intake_ml, o=s.output_ml, b=s.balance_ml
            )
            for s in balance.shifts
        ]
        parts.append(self.tr("Day: {b:+d} ml").format(b=balance.balance_ml))
        self.balance_label.setText("\n".join(parts))

    def _on_news2(self, admission_id: int, rows: list[AssessmentRead]) -> None:
        if self._current(admission_id) and rows:
            self._show_score(rows[0])

    def _show_score(self, row: AssessmentRead) -> None:
        self.score_label.setText(
            self.tr("NEWS2 {total} — {risk} ({at:%H:%M})").format(
                total=row.total, risk=self.tr(row.risk.replace("_", "-")), at=row.assessed_at
            )
        )

    # -- saving ------------------------------------------------------------------------------
    def _save(self, call: Any) -> None:
        self.problem.clear()
        self.tasks.run(call, on_done=self._on_saved, on_error=self.problem.show_error)

    def _on_saved(self, result: Any) -> None:
        if isinstance(result, AssessmentRead):
            self._show_score(result)
        self.load(self.admission)
        self.sig_saved.emit()

    def score_news2(self) -> None:
        if self.admission is None:
            return
        aid = self.admission.id
        body = AssessmentCreate(
            kind="news2",
            answers={
                "consciousness": self.consciousness.currentData(),
                "on_oxygen": self.oxygen.isChecked(),
            },
        )
        self._save(lambda: self.wards.record_assessment(aid, body))

    def add_task(self) -> None:
        title = self.task_title.text().strip()
        if self.admission is None or not title:
            self.problem.show_text(self.tr("Name the task."))
            return
        aid = self.admission.id
        hours = self.task_every.value()
        body = TaskCreate(
            kind="turn" if "turn" in title.lower() else "other",
            title=title,
            due_at=datetime.now(UTC) + timedelta(minutes=5),
            repeat_every_minutes=hours * 60 if hours else None,
        )
        self.task_title.clear()
        self._save(lambda: self.wards.add_task(aid, body))

    def complete_task(self) -> None:
        item = self.task_list.currentItem()
        if item is None:
            self.problem.show_text(self.tr("Choose a task."))
            return
        task_id, version = item.data(Qt.ItemDataRole.UserRole)
        self._save(lambda: self.wards.complete_task(task_id, version))

    def add_fluid(self) -> None:
        if self.admission is None:
            return
        aid = self.admission.id
        kind, route = self.fluid_kind.currentData()
        body = FluidCreate(kind=kind, route=route, volume_ml=self.fluid_ml.value())
        self._save(lambda: self.wards.record_fluid(aid, body))

    def add_note(self) -> None:
        text = self.note_edit.toPlainText().strip()
        if self.admission is None or not text:
            self.problem.show_text(self.tr("Write the note first."))
            return
        aid = self.admission.id
        self.note_edit.clear()
        self._save(lambda: self.wards.add_nursing_note(aid, text))
