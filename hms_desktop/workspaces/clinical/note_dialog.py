"""Write, sign and amend SOAP notes. An amendment appends a version; the old stays visible."""

from __future__ import annotations

import html

from hms_contract.clinical import NoteRead, NoteVersionRead
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.models.clinical import local_time
from hms_desktop.qt import QComboBox, QEvent, QLineEdit, QPlainTextEdit, QPushButton, Qt, QWidget
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.clinical.common import field_error_label, set_error
from hms_desktop.workspaces.clinical.dialogs import self_tr
from hms_desktop.workspaces.clinical.form_dialog import FormDialog

NOTE_TYPES = ("soap", "progress", "consult", "procedure")
SOAP_FIELDS = (
    ("subjective", "&Subjective:"),
    ("objective", "&Objective:"),
    ("assessment", "&Assessment:"),
    ("plan", "&Plan:"),
)


def latest_version(note: NoteRead) -> NoteVersionRead:
    return note.current


def note_html(note: NoteRead) -> str:
    """Every version of a note, newest first; superseded ones are marked as such."""
    versions = sorted(note.versions or [note.current], key=lambda v: v.version_no, reverse=True)
    parts = []
    for i, version in enumerate(versions):
        number = version.version_no
        signed = version.signed_at
        status = (
            self_tr("signed {when} by {who}").format(
                when=local_time(signed), who=html.escape(version.author_name or "")
            )
            if signed
            else self_tr("not signed")
        )
        heading = self_tr("Version {n}").format(n=number)
        if i > 0:
            heading += " — " + self_tr("superseded")
        colour = "" if i == 0 else " style='color:palette(placeholder-text)'"
        block = [f"<h4{colour}>{html.escape(heading)} · {status}</h4>"]
        if version.amendment_reason:
            block.append(
                "<p><i>"
                + html.escape(self_tr("Amendment reason: {r}").format(r=version.amendment_reason))
                + "</i></p>"
            )
        for key, label in SOAP_FIELDS:
            text = getattr(version, key)
            if text:
                block.append(
                    f"<p{colour}><b>{html.escape(label.replace('&', ''))}</b> "
                    f"{html.escape(text).replace(chr(10), '<br>')}</p>"
                )
        if version.body:
            block.append(f"<p{colour}>{html.escape(version.body)}</p>")
        parts.append("".join(block))
    return "<hr>".join(parts)


class NoteDialog(FormDialog):
    """New note (``note=None``) or amendment of ``note``. Ctrl+Enter signs.

    A new note may also be saved unsigned; an amendment is always signed and needs a
    reason, and is sent with the version it was based on (stale → 409 from the server).
    """

    def __init__(
        self,
        context: WorkspaceContext,
        clinical: ClinicalApi,
        patient_id: int,
        note: NoteRead | None = None,
        parent: QWidget | None = None,
    ) -> None:
        amending = note is not None
        super().__init__(
            context,
            clinical,
            self_tr("Amend note") if amending else self_tr("New note"),
            self_tr("Sign amendment") if amending else self_tr("Sign note"),
            parent,
        )
        self.patient_id = patient_id
        self.note = note
        self.sign = True
        self.type_combo = QComboBox(self.body)
        self.type_combo.setAccessibleName(self.tr("Note type"))
        for value in NOTE_TYPES:
            self.type_combo.addItem(
                self.tr(value.upper() if value == "soap" else value.capitalize()), value
            )
        self.title_edit = QLineEdit(self.body)
        self.title_edit.setAccessibleName(self.tr("Title"))
        self.title_edit.setMaxLength(200)
        self.form.addRow(self.tr("&Type:"), self.type_combo)
        self.form.addRow(self.tr("T&itle:"), self.title_edit)
        self.edits: dict[str, QPlainTextEdit] = {}
        for key, label in SOAP_FIELDS:
            edit = QPlainTextEdit(self.body)
            edit.setAccessibleName(label.replace("&", "").rstrip(":"))
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(64)
            self.form.addRow(self.tr(label), edit)
            self.edits[key] = edit
        self.text_error = field_error_label(self.body, self.tr("Note problem"))
        self.form.addRow("", self.text_error)
        self.reason_edit = QLineEdit(self.body)
        self.reason_edit.setAccessibleName(self.tr("Amendment reason"))
        self.reason_edit.setMaxLength(500)
        self.reason_error = field_error_label(self.body, self.tr("Amendment reason problem"))
        if amending:
            current = latest_version(note)
            index = self.type_combo.findData(note.note_type)
            self.type_combo.setCurrentIndex(max(index, 0))
            self.type_combo.setEnabled(False)
            self.title_edit.setText(note.title or "")
            for key, edit in self.edits.items():
                edit.setPlainText(getattr(current, key) or "")
            self.form.addRow(self.tr("&Reason:"), self.reason_edit)
            self.form.addRow("", self.reason_error)
        else:
            self.reason_edit.hide()
            self.draft_button = QPushButton(self.tr("Save unsigned"), self)
            self.draft_button.setAccessibleName(self.tr("Save unsigned"))
            self.draft_button.setAutoDefault(False)
            self.draft_button.setToolTip(self.tr("Keep the note as an unsigned draft"))
            self.draft_button.clicked.connect(self._save_unsigned)
            self.layout().itemAt(self.layout().count() - 1).layout().insertWidget(
                1, self.draft_button
            )
        self.submit_button.setToolTip(
            self.tr("{action} (Ctrl+Enter)").format(action=self.submit_button.text())
        )
        for edit in self.edits.values():
            edit.installEventFilter(self)
        self.setMinimumSize(620, 560)

    def eventFilter(self, watched, event) -> bool:
        # Enter makes a new line in a section; Ctrl+Enter signs, as the tooltip says.
        if (
            event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submit()
            return True
        return super().eventFilter(watched, event)

    def _save_unsigned(self) -> None:
        self.sign = False
        self.submit()
        self.sign = True

    def fields(self) -> dict:
        out = {key: edit.toPlainText().strip() or None for key, edit in self.edits.items()}
        out["title"] = self.title_edit.text().strip() or None
        if self.note is None:
            out["note_type"] = self.type_combo.currentData()
        return out

    def validate(self) -> bool:
        fields = self.fields()
        text_problem = None
        if not any(fields.get(key) for key, _ in SOAP_FIELDS):
            text_problem = self.tr("Write at least one section of the note.")
        elif self.note is not None and all(
            (fields.get(k) or None) == (getattr(latest_version(self.note), k) or None)
            for k, _ in SOAP_FIELDS
        ):
            text_problem = self.tr("Change the text to amend the note.")
        set_error(self.text_error, text_problem)
        reason_problem = None
        if self.note is not None and not self.reason_edit.text().strip():
            reason_problem = self.tr("Say why the note is being amended.")
        set_error(self.reason_error, reason_problem)
        return text_problem is None and reason_problem is None

    def send(self) -> None:
        api, fields = self.clinical, self.fields()
        if self.note is None:
            pid, sign = self.patient_id, self.sign
            self.run(lambda: api.create_note(pid, fields, sign=sign))
            return
        pid, note_id, version = self.patient_id, self.note.id, self.note.version
        reason = self.reason_edit.text().strip()
        fields.pop("title", None)
        self.run(lambda: api.amend_note(pid, note_id, version, fields, reason))
