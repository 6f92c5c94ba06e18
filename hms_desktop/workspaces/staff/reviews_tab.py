"""Reviews tab: performance reviews (newest period first) on the left; the selected review's
rating, strengths and goals on the right, editable while a draft; new review (Ctrl+N), save,
finalise (the employee then sees it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hms_contract.common import Page
from hms_contract.staff import ReviewRead, StaffRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import STATUS_TEXT, Col, RowsModel
from hms_desktop.qt import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QShortcut,
    QSpinBox,
    QSplitter,
    Qt,
    QWidget,
)
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.common import StaffPanel, pydate, qdate

STARS = "★★★★★"


def rating_text(rating: int) -> str:
    return f"{rating}/5 {STARS[:rating]}"


class ReviewsTab(StaffPanel):
    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.people: list[StaffRead] = []
        self.review: ReviewRead | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.model = RowsModel(
            [
                Col(self.tr("Name"), lambda r: r.staff_name),
                Col(
                    self.tr("Period"),
                    lambda r: f"{r.period_start:%d %b %Y} – {r.period_end:%d %b %Y}",
                ),
                Col(self.tr("Rating"), lambda r: rating_text(r.rating)),
                Col(self.tr("Status"), lambda r: self.tr(STATUS_TEXT[r.status])),
                Col(self.tr("Reviewer"), lambda r: r.reviewer_name),
            ],
            self,
        )
        self.table = make_record_table(splitter, self.tr("Performance reviews"), self.model)
        keep_columns_whole(self.table, (0, 1, 2, 3))
        right = QWidget(splitter)
        form = QFormLayout(right)
        self.heading = QLabel(self.tr("No review selected"), right)
        self.heading.setProperty("role", "heading")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        form.addRow(self.heading)
        self.person = QComboBox(right)
        self.period_start = QDateEdit(right)
        self.period_end = QDateEdit(right)
        for edit in (self.period_start, self.period_end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM yyyy")
        self.rating = QSpinBox(right)
        self.rating.setRange(1, 5)
        self.rating.setValue(3)
        self.strengths = QPlainTextEdit(right)
        self.goals = QPlainTextEdit(right)
        for label, widget in (
            (self.tr("Staff member"), self.person),
            (self.tr("From"), self.period_start),
            (self.tr("To"), self.period_end),
            (self.tr("Rating (1–5)"), self.rating),
            (self.tr("Strengths"), self.strengths),
            (self.tr("Goals"), self.goals),
        ):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        self.new_button = QPushButton(self.tr("New review"), right)
        self.new_button.setToolTip(self.tr("Start a review (Ctrl+N)"))
        self.save_button = QPushButton(self.tr("Save"), right)
        self.save_button.setToolTip(self.tr("Save the draft (Ctrl+S)"))
        self.finalise_button = QPushButton(self.tr("Finalise"), right)
        self.finalise_button.setToolTip(
            self.tr("Make the review final; the employee can then read it")
        )
        for button in (self.new_button, self.save_button, self.finalise_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.problem)
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.layout_.addWidget(splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.new_button.clicked.connect(self.new_review)
        self.save_button.clicked.connect(self.save)
        self.finalise_button.clicked.connect(self.finalise)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.new_review)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save)
        self.new_review()

    def set_people(self, people: list[StaffRead]) -> None:
        self.people = people
        self.person.clear()
        for person in people:
            self.person.addItem(f"{person.full_name} — {person.job_title}", person.id)

    def reload(self, select_id: int | None = None) -> None:
        self.run(lambda: self.staff.reviews(limit=200), lambda page: self._show(page, select_id))

    def _show(self, page: Page[ReviewRead], select_id: int | None) -> None:
        self.model.set_rows(page.items)
        row = self.model.find_row(lambda r: r.id == select_id) if select_id else 0
        if 0 <= row < self.model.rowCount():
            self.table.selectRow(row)

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.load(self.model.row_item(current.row()))

    def load(self, review: ReviewRead) -> None:
        self.review = review
        self.heading.setText(
            self.tr("{name} — {status}").format(
                name=review.staff_name, status=self.tr(STATUS_TEXT[review.status])
            )
        )
        index = self.person.findData(review.staff_id)
        if index < 0:
            self.person.addItem(review.staff_name, review.staff_id)
            index = self.person.count() - 1
        self.person.setCurrentIndex(index)
        self.period_start.setDate(qdate(review.period_start))
        self.period_end.setDate(qdate(review.period_end))
        self.rating.setValue(review.rating)
        self.strengths.setPlainText(review.strengths)
        self.goals.setPlainText(review.goals)
        draft = review.status == "draft"
        for widget in (self.rating, self.strengths, self.goals):
            widget.setEnabled(draft)
        for widget in (self.person, self.period_start, self.period_end):
            widget.setEnabled(False)
        self.save_button.setEnabled(draft)
        self.finalise_button.setEnabled(draft)

    def new_review(self) -> None:
        self.review = None
        self.table.clearSelection()
        self.heading.setText(self.tr("New review"))
        year = date.today().year - 1
        self.period_start.setDate(qdate(date(year, 1, 1)))
        self.period_end.setDate(qdate(date(year, 12, 31)))
        self.rating.setValue(3)
        self.strengths.clear()
        self.goals.clear()
        for widget in (
            self.person,
            self.period_start,
            self.period_end,
            self.rating,
            self.strengths,
            self.goals,
        ):
            widget.setEnabled(True)
        self.save_button.setEnabled(True)
        self.finalise_button.setEnabled(False)

    def save(self) -> None:
        review = self.review
        values: dict[str, Any] = {
            "rating": self.rating.value(),
            "strengths": self.strengths.toPlainText(),
            "goals": self.goals.toPlainText(),
        }
        if review is None:
            values |= {
                "staff_id": self.person.currentData(),
                "period_start": pydate(self.period_start.date()),
                "period_end": pydate(self.period_end.date()),
            }
            work = lambda: self.staff.create_review(values)  # noqa: E731
        else:
            values["version"] = review.version
            work = lambda: self.staff.update_review(review.id, values)  # noqa: E731
        self.run(work, lambda saved: self.reload(saved.id))

    def finalise(self) -> None:
        review = self.review
        if review is not None and review.status == "draft":
            self.run(
                lambda: self.staff.finalise_review(review.id, review.version),
                lambda saved: self.reload(saved.id),
            )
