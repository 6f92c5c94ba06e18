"""Role workspaces shown on the main window's navigation rail.

Each built workspace is a package ``hms_desktop.workspaces.<key>`` exposing
``create_workspace(context: WorkspaceContext) -> QWidget``; it is imported only when first
opened. Workspaces never import each other; they reach shared services through ``context``
(``hms_desktop.workspace_context``). The recipe for a new one is in
``docs/developer-guide.md`` ("Add a workspace").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from hms_desktop.qt import QT_TRANSLATE_NOOP, QWidget, translate
from hms_desktop.widgets.coming_soon import ComingSoonPanel
from hms_desktop.workspace_context import WorkspaceContext

__all__ = [
    "WORKSPACES",
    "WorkspaceContext",
    "WorkspaceInfo",
    "create_workspace",
    "get_info",
    "workspaces_for",
]


@dataclass(frozen=True)
class WorkspaceInfo:
    key: str
    title: str
    planned: tuple[str, ...]
    built: bool = False

    def display_title(self) -> str:
        return translate("Workspaces", self.title)

    def display_planned(self) -> list[str]:
        return [translate("Workspaces", text) for text in self.planned]


def _n(text: str) -> str:
    return QT_TRANSLATE_NOOP("Workspaces", text)


WORKSPACES: tuple[WorkspaceInfo, ...] = (
    WorkspaceInfo(
        "reception",
        _n("Reception"),
        (
            _n("Find and register patients"),
            _n("Book, reschedule and check in appointments"),
            _n("Print patient labels and visit slips"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "clinical",
        _n("Clinical"),
        (
            _n("Today's patient list and consultations"),
            _n("Encounter notes, diagnoses (ICD-10), orders"),
            _n("Prescriptions sent to the pharmacy"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "ward",
        _n("Ward"),
        (
            _n("Bed board, admissions, transfers and discharges"),
            _n("Nursing observations and medication rounds"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "pharmacy",
        _n("Pharmacy"),
        (
            _n("Prescription queue and dispensing"),
            _n("Stock by batch and expiry, reorder levels"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "billing",
        _n("Billing"),
        (
            _n("Invoices, payments and receipts"),
            _n("Insurance claims and the daily cash-up"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "staff",
        _n("Staff"),
        (
            _n("Staff directory and duty rosters"),
            _n("Leave requests and payroll"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "reports",
        _n("Reports"),
        (
            _n("Activity, occupancy and revenue reports"),
            _n("Export to CSV and PDF"),
        ),
        built=True,
    ),
    WorkspaceInfo(
        "administration",
        _n("Administration"),
        (
            _n("User accounts and roles"),
            _n("Audit log"),
        ),
        built=True,
    ),
    # Every role's own staff self-service, after the role's workspaces.
    WorkspaceInfo(
        "my_work",
        _n("My work"),
        (
            _n("My shifts for the next four weeks"),
            _n("Request leave and follow my requests"),
            _n("My payslips (print or PDF) and reviews"),
        ),
        built=True,
    ),
)

WORKSPACE_ORDER = tuple(info.key for info in WORKSPACES)
_BY_KEY = {info.key: info for info in WORKSPACES}


def workspaces_for(keys: list[str]) -> list[WorkspaceInfo]:
    """The known workspaces among ``keys`` (from ``GET /me``), in the rail's fixed order."""
    wanted = set(keys)
    return [info for info in WORKSPACES if info.key in wanted]


def create_workspace(info: WorkspaceInfo, context: WorkspaceContext) -> QWidget:
    """Build the workspace widget, or a "coming soon" panel when it is not built yet."""
    if info.built:
        module = importlib.import_module(f"hms_desktop.workspaces.{info.key}")
        return module.create_workspace(context)
    return ComingSoonPanel(info.display_title(), info.display_planned())


def get_info(key: str) -> WorkspaceInfo:
    return _BY_KEY[key]
