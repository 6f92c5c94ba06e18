"""Print preview for PDF bytes (reportlab output): look, zoom, print, or save as PDF.

Pages are rasterised with pypdfium2 on the task runner (never on the GUI thread) into
``QImage``s; printing re-renders them at the printer's resolution, also off the GUI
thread, and only the final painting happens here. Nothing is written to disk unless the
user chooses "Save PDF…": the document lives in memory and is dropped with the dialog.

Reuse::

    PrintPreviewDialog(tasks, pdf_bytes, title=self.tr("Prescription"),
                       file_name="prescription-123.pdf", parent=self).open()
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c

from hms_desktop.plurals import plural

# Print support and painting are only needed here; see the note in the final report about
# moving them into hms_desktop.qt.
from hms_desktop.qt import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QImage,
    QKeySequence,
    QLabel,
    QPainter,
    QPixmap,
    QPrintDialog,
    QPrinter,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.tasks import TaskRunner
from hms_desktop.widgets.problems import ProblemLabel

PREVIEW_DPI = 144
_ZOOMS = (("fit", 0.0), ("50%", 0.5), ("75%", 0.75), ("100%", 1.0), ("150%", 1.5), ("200%", 2.0))
# pdfium keeps global state; one render at a time keeps it safe across pool threads.
_pdfium_lock = threading.Lock()


def pdf_page_count(pdf: bytes) -> int:
    """Number of pages in ``pdf`` (thread-safe)."""
    with _pdfium_lock:
        document = pypdfium2.PdfDocument(pdf)
        try:
            return len(document)
        finally:
            document.close()


def render_pdf_pages(pdf: bytes, dpi: float) -> list[QImage]:
    """Rasterise every page at ``dpi``. Runs on a worker thread (QImage is thread-safe)."""
    images: list[QImage] = []
    with _pdfium_lock:
        document = pypdfium2.PdfDocument(pdf)
        try:
            for index in range(len(document)):
                page = document[index]
                bitmap = page.render(
                    scale=dpi / 72.0,
                    force_bitmap_format=pdfium_c.FPDFBitmap_BGRA,
                    rev_byteorder=True,
                )
                image = QImage(
                    bytes(bitmap.buffer),
                    bitmap.width,
                    bitmap.height,
                    bitmap.stride,
                    QImage.Format.Format_RGBA8888,
                ).copy()  # own the pixels: the bitmap buffer goes away with the page
                image.setDotsPerMeterX(round(dpi / 0.0254))
                image.setDotsPerMeterY(round(dpi / 0.0254))
                images.append(image)
                page.close()
        finally:
            document.close()
    return images


class PrintPreviewDialog(QDialog):
    """Scrollable, zoomable preview of a PDF with Print… (Ctrl+P) and Save PDF… (Ctrl+S).

    Signals: ``sig_rendered(page_count)`` once the preview is shown, ``sig_printed()`` after
    pages went to a printer (callers use it to audit a print). Lives on the GUI thread;
    rendering goes through ``tasks``. Holds the PDF only in memory.
    """

    sig_rendered = Signal(int)
    sig_printed = Signal()

    def __init__(
        self,
        tasks: TaskRunner,
        pdf: bytes,
        *,
        title: str = "",
        file_name: str = "document.pdf",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.pdf = pdf
        self.file_name = file_name
        self.images: list[QImage] = []
        self._page_labels: list[QLabel] = []
        self.setWindowTitle(title or self.tr("Print preview"))
        self.setAccessibleName(self.tr("Print preview"))
        self.resize(720, 820)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.zoom_combo = QComboBox(self)
        self.zoom_combo.setAccessibleName(self.tr("Zoom"))
        self.zoom_combo.setToolTip(self.tr("Zoom (Ctrl++ / Ctrl+-)"))
        for key, factor in _ZOOMS:
            label = self.tr("Fit width") if key == "fit" else key
            self.zoom_combo.addItem(label, factor)
        self.zoom_combo.setCurrentIndex(0)
        self.zoom_combo.currentIndexChanged.connect(self._on_zoom_combo_changed)
        self.pages_label = QLabel(self)
        self.pages_label.setAccessibleName(self.tr("Page count"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Rendering preview"))
        bar.addWidget(QLabel(self.tr("Zoom:"), self))
        bar.addWidget(self.zoom_combo)
        bar.addWidget(self.progress)
        bar.addStretch(1)
        bar.addWidget(self.pages_label)
        layout.addLayout(bar)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAccessibleName(self.tr("Pages"))
        self._pages = QWidget(self.scroll)
        self._pages_layout = QVBoxLayout(self._pages)
        self._pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self._pages_layout.setSpacing(12)
        self.scroll.setWidget(self._pages)
        self.scroll.setStyleSheet("QScrollArea > QWidget > QWidget { background: #7a8594; }")
        layout.addWidget(self.scroll, 1)

        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        self.save_button = QPushButton(self.tr("Save PDF…"), self)
        self.save_button.setToolTip(self.tr("Save as a PDF file (Ctrl+S)"))
        self.save_button.setAccessibleName(self.tr("Save PDF"))
        self.save_button.clicked.connect(self.save_pdf)
        self.print_button = QPushButton(self.tr("Print…"), self)
        self.print_button.setToolTip(self.tr("Choose a printer and print (Ctrl+P)"))
        self.print_button.setAccessibleName(self.tr("Print"))
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.print_document)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.close_button.setToolTip(self.tr("Close the preview (Esc)"))
        self.close_button.setAccessibleName(self.tr("Close preview"))
        self.close_button.clicked.connect(self.reject)
        buttons.addStretch(1)
        for button in (self.save_button, self.print_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.print_button.setEnabled(False)
        self.save_button.setEnabled(False)

        for keys, slot in (
            (QKeySequence.StandardKey.Print, self.print_document),
            (QKeySequence.StandardKey.Save, self.save_pdf),
            (QKeySequence.StandardKey.ZoomIn, lambda: self._step_zoom(1)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self._step_zoom(-1)),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

        self.tasks.run(
            lambda: render_pdf_pages(pdf, PREVIEW_DPI), self._on_rendered, self._on_render_failed
        )

    # -- state for callers and tests -----------------------------------------------------
    @property
    def page_count(self) -> int:
        return len(self.images)

    @property
    def page_labels(self) -> list[QLabel]:
        return list(self._page_labels)

    # -- rendering -----------------------------------------------------------------------
    def _on_rendered(self, images: list[QImage]) -> None:
        self.images = images
        self.progress.hide()
        for image_index in range(len(images)):
            label = QLabel(self._pages)
            label.setAccessibleName(self.tr("Page {n}").format(n=image_index + 1))
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._pages_layout.addWidget(label)
            self._page_labels.append(label)
        self.pages_label.setText(
            plural(
                len(images),
                self.tr("%n page", "", len(images)),
                self.tr("%n pages", "", len(images)),
            )
        )
        self.print_button.setEnabled(bool(images))
        self.save_button.setEnabled(True)
        self._apply_zoom()
        self.sig_rendered.emit(len(images))

    def _on_render_failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.problem.show_text(self.tr("The document could not be shown."), "preview_failed")
        self.save_button.setEnabled(True)

    def _zoom_factor(self) -> float:
        factor = float(self.zoom_combo.currentData() or 0.0)
        if factor > 0 or not self.images:
            return factor or 1.0
        available = max(200, self.scroll.viewport().width() - 40)
        widest = max(image.width() for image in self.images) * 72.0 / PREVIEW_DPI
        return available / widest / (96.0 / 72.0)

    def _apply_zoom(self) -> None:
        # 100% means paper size on a 96-dpi screen.
        factor = self._zoom_factor() * 96.0 / PREVIEW_DPI
        for image, label in zip(self.images, self._page_labels, strict=True):
            pixmap = QPixmap.fromImage(image).scaledToWidth(
                max(50, round(image.width() * factor)),
                Qt.TransformationMode.SmoothTransformation,
            )
            label.setPixmap(pixmap)

    def _step_zoom(self, step: int) -> None:
        index = min(max(self.zoom_combo.currentIndex() + step, 0), self.zoom_combo.count() - 1)
        self.zoom_combo.setCurrentIndex(index)

    def _on_zoom_combo_changed(self, _index: int) -> None:
        self._apply_zoom()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.images and not self.zoom_combo.currentData():
            self._apply_zoom()

    # -- printing and saving -------------------------------------------------------------
    def print_document(self) -> None:
        """Ask for a printer (QPrintDialog), then print every page at its resolution."""
        if not self.images:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.file_name)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Print"))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter, on_done: Callable[[], None] | None = None) -> None:
        """Render at the printer's resolution off the GUI thread, then paint the pages."""
        dpi = min(printer.resolution(), 600)
        pdf = self.pdf
        self.print_button.setEnabled(False)
        self.progress.show()

        def paint(images: list[QImage]) -> None:
            self.progress.hide()
            self.print_button.setEnabled(True)
            painter = QPainter()
            if not painter.begin(printer):
                self.problem.show_text(
                    self.tr("The printer could not be started."), "printer_unavailable"
                )
                return
            try:
                for number, image in enumerate(images):
                    if number:
                        printer.newPage()
                    page = printer.pageRect(QPrinter.Unit.DevicePixel).toRect()
                    target = image.size().scaled(page.size(), Qt.AspectRatioMode.KeepAspectRatio)
                    painter.drawImage(
                        page.x(),
                        page.y(),
                        image.scaled(
                            target,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        ),
                    )
            finally:
                painter.end()
            self.sig_printed.emit()
            if on_done is not None:
                on_done()

        def failed(exc: BaseException) -> None:
            self.progress.hide()
            self.print_button.setEnabled(True)
            self.problem.show_text(self.tr("The document could not be printed."), "print_failed")

        self.tasks.run(lambda: render_pdf_pages(pdf, dpi), paint, failed, owner=self)

    def save_pdf(self) -> None:
        """Ask where to save, then write the PDF (off the GUI thread)."""
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save PDF"), self.file_name, self.tr("PDF files (*.pdf)")
        )
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path, on_done: Callable[[], None] | None = None) -> None:
        pdf = self.pdf
        self.tasks.run(
            lambda: Path(path).write_bytes(pdf),
            lambda _n: on_done() if on_done else None,
            lambda exc: self.problem.show_text(
                self.tr("The file could not be saved: {reason}").format(reason=str(exc)),
                "save_failed",
            ),
            owner=self,
        )

    def done(self, result: int) -> None:
        # Drop the pages and the document as soon as the preview closes.
        self.images = []
        for label in self._page_labels:
            label.clear()
        super().done(result)
