"""My reviews: one's finalised performance reviews (period, rating, reviewer) on the left and
the selected review's strengths and goals on the right. Drafts are not shown: the server
only returns a review once the reviewer has finalised it."""

from __future__ import annotations

from hms_contract.staff import ReviewRead
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import Col, RowsModel
from hms_desktop.qt import QSplitter, Qt, QTextBrowser, QWidget
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.my_work.common import MyPanel, day_text


def stars(rating: int) -> str:
    """``★★★★☆ 4/5``: the number is there too, not only the shapes."""
    return "★" * rating + "☆" * (5 - rating) + f" {rating}/5"


class ReviewsPanel(MyPanel):
    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.model = RowsModel(
            [
                Col(
                    self.tr("Period"),
                    lambda r: f"{day_text(r.period_start)} – {day_text(r.period_end)}",
                ),
                Col(self.tr("Rating"), lambda r: stars(r.rating)),
                Col(self.tr("Reviewer"), lambda r: r.reviewer_name),
            ],
            self,
        )
        self.table = make_record_table(splitter, self.tr("My reviews"), self.model)
        keep_columns_whole(self.table)
        self.text = QTextBrowser(splitter)
        self.text.setAccessibleName(self.tr("The selected review"))
        splitter.addWidget(self.table)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        self.empty = self.empty_note(
            self.tr(
                "No finalised reviews yet. A performance review shows here once your reviewer "
                "has finalised it; drafts are not shown."
            )
        )
        self.layout_.addWidget(splitter, 1)
        self.layout_.addWidget(self.empty, 1)
        self.layout_.addWidget(self.problem)
        self.table.selectionModel().currentRowChanged.connect(self._on_selected)

    def reload(self) -> None:
        self.run(self.staff.my_reviews, self._show)

    def _show(self, reviews: list[ReviewRead]) -> None:
        reviews = sorted(reviews, key=lambda r: r.period_end, reverse=True)
        self.model.set_rows(reviews)
        self.show_empty(self.splitter, self.empty, not reviews)
        if reviews:
            self.table.selectRow(0)
        else:
            self.text.clear()

    def _on_selected(self, current: object, _previous: object) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        review: ReviewRead = self.model.row_item(index.row())
        self.text.clear()
        self.text.append(f"<h3>{self.tr('Rating')}: {stars(review.rating)}</h3>")
        self.text.append(
            f"<p>{self.tr('Reviewed by {name}').format(name=_html(review.reviewer_name))}"
            + (
                f" · {self.tr('finalised {day}').format(day=day_text(review.finalised_at.date()))}"
                if review.finalised_at
                else ""
            )
            + "</p>"
        )
        self.text.append(f"<h4>{self.tr('Strengths')}</h4><p>{_html(review.strengths)}</p>")
        self.text.append(f"<h4>{self.tr('Goals')}</h4><p>{_html(review.goals)}</p>")


def _html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
    )
