"""The administration workspace: a header and two tabs (Users, Audit log)."""

from __future__ import annotations

from hms_desktop.api.audit import AuditApi
from hms_desktop.api.users import UsersApi
from hms_desktop.qt import QLabel, QTabWidget, QVBoxLayout, QWidget
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.administration.audit_tab import AuditTab
from hms_desktop.workspaces.administration.users_tab import UsersTab


class AdministrationWorkspace(QWidget):
    """Users and audit for administrators. Each tab loads its data when first shown.

    Builds the typed area APIs (``UsersApi``, ``AuditApi``) once over ``context.api`` and
    hands them to the tabs with the context."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.users_api = UsersApi(context.api)
        self.audit_api = AuditApi(context.api)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        title = QLabel(self.tr("Administration"), self)
        title.setProperty("role", "title")
        layout.addWidget(title)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Administration sections"))
        self.users_tab = UsersTab(context, self.users_api, self.tabs)
        self.audit_tab = AuditTab(context, self.audit_api, self.tabs)
        self.tabs.addTab(self.users_tab, self.tr("&Users"))
        self.tabs.addTab(self.audit_tab, self.tr("&Audit log"))
        layout.addWidget(self.tabs, 1)
