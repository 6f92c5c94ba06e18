"""A grid of role check boxes."""

from __future__ import annotations

from hms_desktop.qt import QCheckBox, QGridLayout, QWidget, Signal
from hms_desktop.roles import ROLES, role_title


class RolePicker(QWidget):
    """One check box per role, two columns; ``sig_changed`` on any toggle."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for i, role in enumerate(ROLES):
            box = QCheckBox(role_title(role), self)
            box.setAccessibleName(self.tr("Role {role}").format(role=role_title(role)))
            box.toggled.connect(self.sig_changed)
            grid.addWidget(box, i // 2, i % 2)
            self.boxes[role] = box

    def roles(self) -> list[str]:
        return [role for role, box in self.boxes.items() if box.isChecked()]

    def set_roles(self, roles: list[str]) -> None:
        wanted = set(roles)
        for role, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(role in wanted)
            box.blockSignals(False)
        self.sig_changed.emit()
