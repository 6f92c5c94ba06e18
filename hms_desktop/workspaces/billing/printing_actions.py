"""Printing from the billing workspace: the document is fetched and rendered on the task
runner, then shown in the shared print preview (nothing touches the disk unless the clerk
saves a copy); a print is recorded on the server, because prints are audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hms_contract.auth import HospitalRead
from hms_desktop.api.billing import BillingApi
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.qt import QWidget
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.print_preview import PrintPreviewDialog


class LetterheadCache:
    """The hospital letterhead (from ``/me``) and its logo, fetched once, off the GUI thread
    (``get`` is called inside render tasks)."""

    def __init__(self, billing: BillingApi, hospital: HospitalRead) -> None:
        self.billing, self.hospital = billing, hospital
        self._head: Letterhead | None = None

    def get(self) -> Letterhead:
        if self._head is None:
            self._head = Letterhead.from_hospital(self.hospital, self.billing.logo())
        return self._head


def open_preview(
    parent: QWidget,
    tasks: TaskRunner,
    render: Callable[[], bytes],
    *,
    title: str,
    file_name: str,
    on_printed: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_open: Callable[[PrintPreviewDialog], None] | None = None,
) -> None:
    """Render on a worker, then open a (non-blocking) preview owned by ``parent``."""

    def show(pdf: bytes) -> None:
        dialog = PrintPreviewDialog(tasks, pdf, title=title, file_name=file_name, parent=parent)
        if on_printed is not None:
            dialog.sig_printed.connect(on_printed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        if on_open is not None:
            on_open(dialog)

    tasks.run(render, show, on_error, owner=parent)


def record(tasks: TaskRunner, billing: BillingApi, document: str, **ids: Any) -> Callable[[], None]:
    """A callback that tells the server the document went to a printer."""
    return lambda: tasks.run(
        lambda: billing.record_print(document, **ids), None, lambda _exc: None, quiet=True
    )
