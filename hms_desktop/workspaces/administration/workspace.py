"""The administration workspace: Users, Audit log, and — for those allowed — the review of
emergency chart accesses and the message outbox."""

from __future__ import annotations

from hms_desktop.api.audit import AuditApi
from hms_desktop.api.oversight import OversightApi
from hms_desktop.api.users import UsersApi
from hms_desktop.qt import QLabel, QTabWidget, QVBoxLayout, QWidget
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.administration.audit_tab import AuditTab
from hms_desktop.workspaces.administration.oversight_tabs import BreakGlassTab, OutboxTab
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
        self.oversight_api = OversightApi(context.api)
        permissions = set(context.me.permissions)
        self.break_glass_tab: BreakGlassTab | None = None
        self.outbox_tab: OutboxTab | None = None
        if "break_glass.review" in permissions:
            self.break_glass_tab = BreakGlassTab(context, self.oversight_api, self.tabs)
            self.tabs.addTab(self.break_glass_tab, self.tr("&Emergency access"))
        if "messaging.admin" in permissions:
            self.outbox_tab = OutboxTab(context, self.oversight_api, self.tabs)
            self.tabs.addTab(self.outbox_tab, self.tr("&Messages"))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._loaded: set[QWidget] = set()
        layout.addWidget(self.tabs, 1)

    def screenshot_views(self) -> list[tuple[str, object]]:
        """Screenshot tour hook: every tab, each as it looks when opened."""
        views: list[tuple[str, object]] = [("audit", lambda: self._show_tab(self.audit_tab))]
        if self.break_glass_tab is not None:
            views.append(("emergency-access", lambda: self._show_tab(self.break_glass_tab)))
        if self.outbox_tab is not None:
            views.append(("messages", lambda: self._show_tab(self.outbox_tab)))
        return views

    def _show_tab(self, tab: QWidget) -> None:
        self.tabs.setCurrentWidget(tab)
        if tab is self.audit_tab:
            self.audit_tab.clear_filters()  # everything, not only the last seven days

    def _on_tab_changed(self, _index: int) -> None:
        """The review lists load when first shown (Users and Audit load themselves)."""
        page = self.tabs.currentWidget()
        if page in (self.break_glass_tab, self.outbox_tab) and page not in self._loaded:
            self._loaded.add(page)
            page.reload()
