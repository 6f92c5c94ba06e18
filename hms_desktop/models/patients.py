"""Patient search results (``GET /patients?q=``) as an incrementally fetched table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from hms_contract.clinical import PatientHeader
from hms_contract.patients import PatientPage, PatientSummary
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import QT_TRANSLATE_NOOP, Qt, translate
from hms_desktop.tasks import TaskRunner

_SEX_TEXT = {
    "female": QT_TRANSLATE_NOOP("PatientsTableModel", "Female"),
    "male": QT_TRANSLATE_NOOP("PatientsTableModel", "Male"),
    "other": QT_TRANSLATE_NOOP("PatientsTableModel", "Other"),
    "unknown": QT_TRANSLATE_NOOP("PatientsTableModel", "Unknown"),
}


def sex_text(code: str | None) -> str:
    """The translated word for a FHIR administrative-gender code."""
    source = _SEX_TEXT.get(str(code or "unknown"))
    return translate("PatientsTableModel", source) if source else str(code)


@dataclass(frozen=True)
class PatientRef:
    """The patient a clinical screen is about, taken from whichever contract model named
    them first (a search row, a today-list row, the chart's header). Fields a source does
    not carry stay empty until the chart has loaded."""

    id: int
    mrn: str | None = None
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    sex: str | None = None
    birth_date_estimated: bool = False

    @classmethod
    def of(cls, patient: PatientRef | PatientSummary | PatientHeader) -> PatientRef:
        if isinstance(patient, PatientRef):
            return patient
        return cls(
            id=patient.id,
            mrn=patient.mrn,
            given_name=patient.given_name,
            family_name=patient.family_name,
            date_of_birth=patient.date_of_birth,
            sex=patient.sex,
            birth_date_estimated=getattr(patient, "birth_date_estimated", False),
        )

    @classmethod
    def named(cls, patient_id: int, name: str | None, mrn: str | None) -> PatientRef:
        """From a list row that names the patient as ``Given Family`` (appointments,
        queue entries)."""
        given, _, family = (name or "").partition(" ")
        return cls(id=patient_id, mrn=mrn, given_name=given, family_name=family)


class NamedPatient(Protocol):
    """Any contract model that names a patient (``PatientSummary``, ``PatientRead``,
    ``PatientHeader``, ``PatientBrief``)."""

    given_name: str
    family_name: str


def age_years(dob: date | None, today: date | None = None) -> int | None:
    """Whole years from ``dob`` to ``today``; ``None`` if unknown."""
    if dob is None:
        return None
    today = today or date.today()
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def full_name(item: NamedPatient) -> str:
    """``Family, Given`` as lists and registers show it."""
    family, given = item.family_name or "", item.given_name or ""
    return f"{family}, {given}" if family and given else family or given


def dob_text(item: PatientSummary) -> str:
    dob = item.date_of_birth.isoformat()
    text = translate("PatientsTableModel", "{dob} ({age} y)").format(
        dob=dob, age=age_years(item.date_of_birth)
    )
    if item.birth_date_estimated:
        text += " ≈"
    return text


_DUPLICATE_REASONS = {
    "same_national_id": QT_TRANSLATE_NOOP("DuplicateReason", "Same national ID."),
    "same_birth_date_similar_name": QT_TRANSLATE_NOOP(
        "DuplicateReason", "Same date of birth and a similar name."
    ),
    "same_birth_date_swapped_name": QT_TRANSLATE_NOOP(
        "DuplicateReason", "Same date of birth, with given and family names swapped."
    ),
    "same_phone_similar_name": QT_TRANSLATE_NOOP(
        "DuplicateReason", "Same phone number and a similar name."
    ),
}


def duplicate_reasons_text(reasons: list[str]) -> str:
    """Why two records look like one person, as sentences the desk can read out
    ("Same date of birth and a similar name. Same phone number and a similar name.")."""
    sentences = []
    for code in reasons:
        source = _DUPLICATE_REASONS.get(str(code))
        sentences.append(
            translate("DuplicateReason", source)
            if source
            else str(code).replace("_", " ").capitalize() + "."
        )
    return " ".join(sentences)


def phone_ending(item: PatientSummary) -> str:
    """The last four digits of the phone: enough to tell two namesakes apart at the desk
    ("ends 9193"), short enough to keep every identifying column whole."""
    digits = "".join(ch for ch in (item.phone or "") if ch.isdigit())
    return digits[-4:]


def identity_columns() -> list[Column]:
    """The columns every patient list shows, in this order, never elided: name, MRN, date
    of birth with age, sex, the phone's last digits."""
    return [
        Column("name", translate("PatientsTableModel", "Name"), render=full_name),
        Column("mrn", translate("PatientsTableModel", "MRN")),
        Column("date_of_birth", translate("PatientsTableModel", "Born"), render=dob_text),
        Column(
            "sex", translate("PatientsTableModel", "Sex"), render=lambda item: sex_text(item.sex)
        ),
        Column("phone", translate("PatientsTableModel", "Phone ends"), render=phone_ending),
    ]


class PatientsTableModel(PagedTableModel):
    """Name, MRN, date of birth (age), sex, the phone's last digits; sorted by the server
    (family, given). Rows are ``PatientSummary``; the tooltip of the phone cell is the whole
    number.

    Filter with ``set_filters(q=...)``; pages of 50 arrive as the view scrolls, and the
    answer of a query the user has typed past is dropped (see ``PagedTableModel``).
    Lives on the GUI thread; ``fetch`` runs on the task runner.
    """

    def __init__(self, tasks: TaskRunner, patients_api: PatientsApi, parent=None) -> None:
        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> PatientPage:
            return patients_api.search(filters.get("q"), limit=limit, offset=offset)

        super().__init__(tasks, fetch, identity_columns(), parent=parent)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.ToolTipRole
            and index.isValid()
            and self.columns[index.column()].key == "phone"
        ):
            return self.row_item(index.row()).phone or ""
        return super().data(index, role)
