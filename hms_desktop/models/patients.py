"""Patient search results (``GET /patients?q=``) as an incrementally fetched table."""

from __future__ import annotations

from datetime import date

from hms_desktop.models.paged import Column, PagedTableModel
from hms_desktop.qt import QT_TRANSLATE_NOOP, translate
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


def age_years(dob: str | None, today: date | None = None) -> int | None:
    """Whole years from ``dob`` (``YYYY-MM-DD``) to ``today``; ``None`` if unknown."""
    if not dob:
        return None
    try:
        born = date.fromisoformat(str(dob)[:10])
    except ValueError:
        return None
    today = today or date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def full_name(item: dict) -> str:
    """``Family, Given`` as lists and registers show it."""
    family, given = item.get("family_name") or "", item.get("given_name") or ""
    return f"{family}, {given}" if family and given else family or given


def dob_text(item: dict) -> str:
    dob = str(item.get("date_of_birth") or "")
    age = age_years(dob)
    if not dob:
        return ""
    text = dob if age is None else translate("PatientsTableModel", "{dob} ({age} y)").format(
        dob=dob, age=age
    )
    if item.get("birth_date_estimated"):
        text += " ≈"
    return text


class PatientsTableModel(PagedTableModel):
    """MRN, name, date of birth (age), sex, phone; sorted by the server (family, given).

    Filter with ``set_filters(q=...)``; pages of 50 arrive as the view scrolls, and the
    answer of a query the user has typed past is dropped (see ``PagedTableModel``).
    Lives on the GUI thread; ``fetch`` runs on the task runner.
    """

    def __init__(self, tasks: TaskRunner, patients_api, parent=None) -> None:
        columns = [
            Column("mrn", translate("PatientsTableModel", "MRN")),
            Column("name", translate("PatientsTableModel", "Name"), render=full_name),
            Column("date_of_birth", translate("PatientsTableModel", "Born"), render=dob_text),
            Column("sex", translate("PatientsTableModel", "Sex"),
                   render=lambda item: sex_text(item.get("sex"))),
            Column("phone", translate("PatientsTableModel", "Phone")),
        ]

        def fetch(filters: dict, _sort: str | None, limit: int, offset: int) -> dict:
            return patients_api.search(filters.get("q"), limit=limit, offset=offset)

        super().__init__(tasks, fetch, columns, parent=parent)
