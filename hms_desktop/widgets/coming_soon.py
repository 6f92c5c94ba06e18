"""Placeholder panel for a workspace that is planned but not built yet."""

from __future__ import annotations

import html

from hms_desktop.qt import QLabel, Qt, QVBoxLayout, QWidget


class ComingSoonPanel(QWidget):
    """Names the workspace and lists what it will hold, so nobody mistakes it for a fault."""

    def __init__(self, title: str, planned: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        heading = QLabel(title, self)
        heading.setProperty("role", "title")
        badge = QLabel(self.tr("Coming soon"), self)
        badge.setProperty("role", "badge")
        badge.setAccessibleName(self.tr("Coming soon"))
        intro = QLabel(
            self.tr("This workspace is not available in this version yet. It will contain:"),
            self,
        )
        intro.setWordWrap(True)
        bullets = "".join(f"<li style='margin-bottom:4px'>{html.escape(p)}</li>" for p in planned)
        items = QLabel(f"<ul>{bullets}</ul>", self)
        items.setTextFormat(Qt.TextFormat.RichText)
        items.setWordWrap(True)
        items.setAccessibleName(self.tr("Planned features"))
        layout.addWidget(heading)
        layout.addWidget(badge, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addSpacing(12)
        layout.addWidget(intro)
        layout.addWidget(items)
        layout.addStretch(1)
        self.planned = planned
