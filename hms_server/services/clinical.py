"""Chart use cases: encounters (reading), notes, vitals, allergies and the problem list.

Every function checks the care relationship first (``services.access``) and audits what it
did with the patient and the data category; reads are audited too, so each one commits.
Labs, documents and the chart summary/timeline live in sibling modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hms_server.adapters import icd10
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import (
    Allergy,
    ClinicalNote,
    ClinicalNoteVersion,
    Encounter,
    Problem,
    VitalSigns,
)
from hms_server.adapters.repositories.clinical import ChartRepository
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import (
    MEASURED_VITALS,
    CareRelationshipRequiredError,
    compute_bmi,
    field_error,
    validate_vitals,
    vital_flags,
)
from hms_server.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)
from hms_server.domain.events import PatientsMerged
from hms_server.domain.versioning import check_version
from hms_server.services.access import (
    AccessBasis,
    ensure_chart_access,
    ensure_chart_write_access,
    ensure_record_access,
)

NOTE_FIELDS = ("subjective", "objective", "assessment", "plan", "body")


def actor_id(uow: UnitOfWork) -> int:
    assert uow.actor is not None and uow.actor.user_id is not None
    return uow.actor.user_id


def audit_read(uow: UnitOfWork, basis: AccessBasis, category: str, **detail: Any) -> None:
    uow.audit(
        category, "read", patient_id=basis.patient_id, detail={**basis.audit_detail(), **detail}
    )


def user_names(uow: UnitOfWork, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return uow.repo(UserRepository).full_names(wanted)


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(message, extra={"errors": [field_error(field, message)]})


def check_encounter(uow: UnitOfWork, encounter_id: int | None, patient_id: int) -> None:
    """An encounter referenced by a chart item must belong to the same patient."""
    if encounter_id is None:
        return
    patient = uow.repo(ChartRepository).encounter_patient(encounter_id)
    if patient is None:
        raise _invalid("encounter_id", f"No encounter with id {encounter_id}.")
    if patient != patient_id:
        raise _invalid("encounter_id", "The encounter belongs to another patient.")


# ---------------------------------------------------------------- encounters


@dataclass(frozen=True)
class EncounterView:
    encounter: Encounter
    clinician_name: str | None


def list_encounters(
    uow: UnitOfWork, patient_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[EncounterView], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, total = uow.repo(ChartRepository).encounters(
            patient_id, status=status, limit=limit, offset=offset
        )
        names = user_names(uow, (e.clinician_user_id for e in rows))
        audit_read(uow, basis, "encounters")
        uow.commit()
        return [EncounterView(e, names.get(e.clinician_user_id)) for e in rows], total


def _no_encounter(encounter_id: int) -> NotFoundError:
    return NotFoundError(f"No encounter with id {encounter_id}.")


def encounter_patient(uow: UnitOfWork, encounter_id: int) -> int:
    patient_id = uow.repo(ChartRepository).encounter_patient(encounter_id)
    if patient_id is None:
        raise _no_encounter(encounter_id)
    return patient_id


def get_encounter(uow: UnitOfWork, encounter_id: int) -> EncounterView:
    with uow:
        basis = ensure_record_access(
            uow, encounter_patient(uow, encounter_id), _no_encounter(encounter_id)
        )
        encounter = uow.repo(ChartRepository).encounter(encounter_id)
        assert encounter is not None
        names = user_names(uow, [encounter.clinician_user_id])
        audit_read(uow, basis, "encounters", encounter_id=encounter_id)
        uow.commit()
        return EncounterView(encounter, names.get(encounter.clinician_user_id))


def open_encounter_checked(
    uow: UnitOfWork, patient_id: int, *, appointment_id: int | None, kind: str, reason: str | None
) -> Encounter:
    """Open an encounter for the signed-in clinician, who must already have access to the
    chart (opening an encounter is not a way in). On a lasting basis the clinician joins
    the care team; under break-the-glass or the clinic of the day they do not."""
    from hms_server.services.encounters import open_encounter

    with uow:
        basis = ensure_chart_access(uow, patient_id)
        encounter = open_encounter(
            uow,
            patient_id=patient_id,
            clinician_user_id=actor_id(uow),
            appointment_id=appointment_id,
            kind=kind,
            reason=reason,
            join_care_team=basis.lasting,
        )
        uow.commit()
        return encounter


def close_encounter_checked(uow: UnitOfWork, encounter_id: int) -> EncounterView:
    """Close an encounter on behalf of a clinician who may see the patient."""
    from hms_server.services.encounters import close_encounter

    with uow:
        ensure_record_access(uow, encounter_patient(uow, encounter_id), _no_encounter(encounter_id))
        encounter = close_encounter(uow, encounter_id)
        names = user_names(uow, [encounter.clinician_user_id])
        uow.commit()
        return EncounterView(encounter, names.get(encounter.clinician_user_id))


# ---------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteView:
    note: ClinicalNote
    versions: list[ClinicalNoteVersion]
    names: dict[int, str]

    @property
    def current(self) -> ClinicalNoteVersion:
        return self.versions[-1]


def _note_view(uow: UnitOfWork, note: ClinicalNote) -> NoteView:
    return _note_views(uow, [note])[0]


def _note_views(uow: UnitOfWork, notes: list[ClinicalNote]) -> list[NoteView]:
    """Views of a page of notes with two queries in all (versions, author names), not two
    per note: the list was an N+1 that grew with every note a patient collected."""
    versions = uow.repo(ChartRepository).versions_of_notes([n.id for n in notes])
    names = user_names(
        uow,
        [
            id_
            for n in notes
            for id_ in (
                n.author_user_id,
                *(v.author_user_id for v in versions[n.id]),
                *(v.signed_by_user_id for v in versions[n.id]),
            )
        ],
    )
    return [NoteView(n, versions[n.id], names) for n in notes]


def _note_text(fields: dict[str, str | None]) -> dict[str, str | None]:
    cleaned = {
        k: (v.strip() if isinstance(v, str) and v.strip() else None)
        for k, v in fields.items()
        if k in NOTE_FIELDS
    }
    if not any(cleaned.values()):
        raise _invalid("body", "A note needs some text (SOAP sections or body).")
    return cleaned


def create_note(
    uow: UnitOfWork,
    patient_id: int,
    *,
    encounter_id: int | None,
    note_type: str,
    title: str | None,
    text: dict[str, str | None],
    sign: bool = False,
) -> NoteView:
    """Write a note (version 1); ``sign`` attests it at once."""
    content = _note_text(text)
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        me = actor_id(uow)
        chart = uow.repo(ChartRepository)
        note = chart.add(
            ClinicalNote(
                patient_id=patient_id,
                encounter_id=encounter_id,
                author_user_id=me,
                note_type=note_type,
                title=title,
                created_at=utcnow(),
                current_version=1,
            )
        )
        now = utcnow()
        chart.add(
            ClinicalNoteVersion(
                note_id=note.id,
                version_no=1,
                author_user_id=me,
                created_at=now,
                signed_at=now if sign else None,
                signed_by_user_id=me if sign else None,
                **content,
            )
        )
        uow.audit(
            "clinical_notes",
            "note.create",
            patient_id=patient_id,
            detail={"note_id": note.id, "signed": sign},
        )
        uow.publish("clinical_note.created", {"note_id": note.id, "patient_id": patient_id})
        view = _note_view(uow, note)
        uow.commit()
        return view


def list_notes(
    uow: UnitOfWork, patient_id: int, *, encounter_id: int | None, limit: int, offset: int
) -> tuple[list[NoteView], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        notes, total = uow.repo(ChartRepository).notes(
            patient_id, encounter_id=encounter_id, limit=limit, offset=offset
        )
        views = _note_views(uow, notes)
        audit_read(uow, basis, "clinical_notes")
        uow.commit()
        return views, total


def _note_for(
    uow: UnitOfWork, patient_id: int | None, note_id: int, *, lock: bool = False
) -> tuple[ClinicalNote, AccessBasis]:
    note = uow.repo(ChartRepository).get(ClinicalNote, note_id, lock=lock)
    if note is None or (patient_id is not None and note.patient_id != patient_id):
        raise NotFoundError(f"No note with id {note_id} for this patient.")
    return note, ensure_chart_access(uow, note.patient_id)


def get_note(uow: UnitOfWork, patient_id: int | None, note_id: int) -> NoteView:
    with uow:
        note, basis = _note_for(uow, patient_id, note_id)
        view = _note_view(uow, note)
        audit_read(uow, basis, "clinical_notes", note_id=note_id)
        uow.commit()
        return view


def amend_note(
    uow: UnitOfWork,
    patient_id: int | None,
    note_id: int,
    *,
    version: int,
    reason: str,
    text: dict[str, str | None],
    sign: bool = False,
) -> NoteView:
    """Append a new version; earlier versions stay readable. ``version`` is the note's
    current version number as the client last saw it (stale → 409)."""
    content = _note_text(text)
    with uow:
        note, _ = _note_for(uow, patient_id, note_id, lock=True)
        check_version(note.current_version, version, "note")
        me = actor_id(uow)
        now = utcnow()
        note.current_version += 1
        uow.repo(ChartRepository).add(
            ClinicalNoteVersion(
                note_id=note.id,
                version_no=note.current_version,
                author_user_id=me,
                created_at=now,
                amendment_reason=reason.strip(),
                signed_at=now if sign else None,
                signed_by_user_id=me if sign else None,
                **content,
            )
        )
        uow.audit(
            "clinical_notes",
            "note.amend",
            patient_id=note.patient_id,
            detail={"note_id": note.id, "version": note.current_version},
        )
        uow.publish("clinical_note.amended", {"note_id": note.id, "patient_id": note.patient_id})
        view = _note_view(uow, note)
        uow.commit()
        return view


def sign_note(uow: UnitOfWork, patient_id: int | None, note_id: int) -> NoteView:
    """The author of the newest version attests it. Signing twice is refused."""
    with uow:
        note, _ = _note_for(uow, patient_id, note_id, lock=True)
        current = uow.repo(ChartRepository).note_version(note.id, note.current_version)
        assert current is not None
        if current.author_user_id != actor_id(uow):
            raise ForbiddenError(
                "Only the author of this version of the note can sign it.",
                extra={"reason": "not_author"},
            )
        if current.signed_at is not None:
            raise ConflictError(
                "This version of the note is already signed.", extra={"reason": "already_signed"}
            )
        current.signed_at = utcnow()
        current.signed_by_user_id = actor_id(uow)
        uow.audit(
            "clinical_notes",
            "note.sign",
            patient_id=note.patient_id,
            detail={"note_id": note.id, "version": note.current_version},
        )
        view = _note_view(uow, note)
        uow.commit()
        return view


# ---------------------------------------------------------------- vitals


def record_vitals(
    uow: UnitOfWork,
    patient_id: int,
    *,
    values: dict[str, Any],
    encounter_id: int | None,
    recorded_at: datetime | None,
    notes: str | None,
) -> VitalSigns:
    """Record a set of vitals: implausible values → 422; BMI derived; abnormal flags set."""
    measured = {k: values.get(k) for k in MEASURED_VITALS}
    validate_vitals(measured)
    if recorded_at is not None and recorded_at > utcnow():
        raise _invalid("recorded_at", "Vitals cannot be recorded in the future.")
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        bmi = compute_bmi(measured.get("weight_kg"), measured.get("height_cm"))
        if bmi is None and measured.get("weight_kg") is not None:
            # Height rarely changes: derive BMI from the last recorded height.
            last_height = uow.repo(ChartRepository).last_height(patient_id)
            bmi = compute_bmi(measured["weight_kg"], last_height)
        row = VitalSigns(
            patient_id=patient_id,
            encounter_id=encounter_id,
            recorded_by_user_id=actor_id(uow),
            recorded_at=recorded_at or utcnow(),
            bmi=bmi,
            notes=notes,
            flags=vital_flags({**measured, "bmi": bmi}),
            **measured,
        )
        uow.repo(ChartRepository).add(row)
        uow.audit("vitals", "vitals.record", patient_id=patient_id, detail={"vitals_id": row.id})
        uow.publish("vitals.recorded", {"vitals_id": row.id, "patient_id": patient_id})
        uow.commit()
        return row


def list_vitals(
    uow: UnitOfWork, patient_id: int, *, since: datetime | None, limit: int, offset: int
) -> tuple[list[VitalSigns], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, total = uow.repo(ChartRepository).vitals(
            patient_id, since=since, limit=limit, offset=offset
        )
        audit_read(uow, basis, "vitals")
        uow.commit()
        return rows, total


TREND_METRICS = (*MEASURED_VITALS, "bmi")


def vitals_trend(
    uow: UnitOfWork, patient_id: int, *, metrics: list[str], since: datetime | None, limit: int
) -> dict[str, list[dict[str, Any]]]:
    """Time series per metric, oldest first (for the desktop's trend chart)."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(ChartRepository).latest_vitals(patient_id, since=since, limit=limit)
        series: dict[str, list[dict[str, Any]]] = {m: [] for m in metrics}
        for row in rows:
            for metric in metrics:
                value = getattr(row, metric)
                if value is not None:
                    series[metric].append(
                        {
                            "at": row.recorded_at,
                            "value": float(value) if isinstance(value, Decimal) else value,
                            "flag": (row.flags or {}).get(metric, "N"),
                        }
                    )
        audit_read(uow, basis, "vitals", trend=metrics)
        uow.commit()
        return series


# ---------------------------------------------------------------- allergies


def add_allergy(
    uow: UnitOfWork,
    patient_id: int,
    *,
    substance: str,
    reaction: str | None,
    severity: str,
    status: str,
    category: str,
    kind: str,
    onset_date: date | None,
) -> Allergy:
    with uow:
        ensure_chart_write_access(uow, patient_id)
        row = Allergy(
            patient_id=patient_id,
            substance=substance.strip(),
            reaction=reaction,
            severity=severity,
            status=status,
            category=category,
            kind=kind,
            onset_date=onset_date,
            recorded_by_user_id=actor_id(uow),
            recorded_at=utcnow(),
            updated_at=utcnow(),
        )
        uow.repo(ChartRepository).add(row)
        uow.audit(
            "allergies",
            "allergy.create",
            patient_id=patient_id,
            detail={"allergy_id": row.id, "severity": severity},
        )
        uow.publish("allergy.recorded", {"allergy_id": row.id, "patient_id": patient_id})
        uow.commit()
        return row


def list_allergies(uow: UnitOfWork, patient_id: int, *, include_inactive: bool) -> list[Allergy]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(ChartRepository).allergies(patient_id, active_only=not include_inactive)
        audit_read(uow, basis, "allergies")
        uow.commit()
        return rows


def _apply_versioned_changes(
    uow: UnitOfWork,
    row: Any,
    patient_id: int,
    version: int,
    changes: dict[str, Any],
    *,
    kind: str,
    category: str,
) -> None:
    """Optimistic-locked edit of a chart item: stale version → 409; only real changes bump
    the version and are audited and published."""
    check_version(row.version, version, kind)
    changed = {k: v for k, v in changes.items() if v is not None and getattr(row, k) != v}
    if not changed:
        return
    for key, value in changed.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    uow.audit(
        category,
        f"{kind}.update",
        patient_id=patient_id,
        detail={f"{kind}_id": row.id, "fields": sorted(changed)},
    )
    uow.publish(f"{kind}.updated", {f"{kind}_id": row.id, "patient_id": patient_id})


def update_allergy(
    uow: UnitOfWork, patient_id: int, allergy_id: int, *, version: int, changes: dict[str, Any]
) -> Allergy:
    with uow:
        row = uow.repo(ChartRepository).get(Allergy, allergy_id, lock=True)
        if row is None or row.patient_id != patient_id:
            raise NotFoundError(f"No allergy with id {allergy_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        _apply_versioned_changes(
            uow, row, patient_id, version, changes, kind="allergy", category="allergies"
        )
        uow.commit()
        return row


# ---------------------------------------------------------------- problems


def resolve_icd10(code: str, description: str | None) -> tuple[str, str]:
    entry = icd10.lookup(code)
    if entry is None:
        raise _invalid("icd10_code", f"'{code}' is not an ICD-10-CM code.")
    return entry.code, (
        description.strip() if description and description.strip() else entry.description
    )


def add_problem(
    uow: UnitOfWork,
    patient_id: int,
    *,
    icd10_code: str,
    description: str | None,
    status: str,
    onset_date: date | None,
    notes: str | None,
    encounter_id: int | None,
) -> Problem:
    code, text = resolve_icd10(icd10_code, description)
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        row = Problem(
            patient_id=patient_id,
            encounter_id=encounter_id,
            icd10_code=code,
            description=text[:300],
            status=status,
            onset_date=onset_date,
            notes=notes,
            recorded_by_user_id=actor_id(uow),
            recorded_at=utcnow(),
            updated_at=utcnow(),
        )
        uow.repo(ChartRepository).add(row)
        uow.audit(
            "problems",
            "problem.create",
            patient_id=patient_id,
            detail={"problem_id": row.id, "icd10_code": code},
        )
        uow.publish("problem.recorded", {"problem_id": row.id, "patient_id": patient_id})
        uow.commit()
        return row


def list_problems(uow: UnitOfWork, patient_id: int, *, status: str | None) -> list[Problem]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(ChartRepository).problems(patient_id, status=status)
        audit_read(uow, basis, "problems")
        uow.commit()
        return rows


def update_problem(
    uow: UnitOfWork, patient_id: int, problem_id: int, *, version: int, changes: dict[str, Any]
) -> Problem:
    with uow:
        row = uow.repo(ChartRepository).get(Problem, problem_id, lock=True)
        if row is None or row.patient_id != patient_id:
            raise NotFoundError(f"No problem with id {problem_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        if (
            changes.get("status") == "resolved"
            and changes.get("resolved_date") is None
            and row.resolved_date is None
        ):
            changes["resolved_date"] = utcnow().date()
        _apply_versioned_changes(
            uow, row, patient_id, version, changes, kind="problem", category="problems"
        )
        uow.commit()
        return row


def search_icd10(q: str, *, limit: int, billable_only: bool) -> tuple[list[icd10.Icd10Code], int]:
    return icd10.search(q, limit=limit, billable_only=billable_only)


# ---------------------------------------------------------------- patient merge


def move_chart_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Everything clinical follows the surviving record of a patient merge; the care team is
    copied so clinicians keep access. Break-the-glass grants stay where they were given:
    they record what was accessed."""
    uow.repo(ChartRepository).move_patient(event.loser_id, event.survivor_id)


# ---------------------------------------------------------------- single items (integrations)

_CHART_ITEMS: dict[str, tuple[type, str]] = {
    "vitals": (VitalSigns, "vitals"),
    "problem": (Problem, "problems"),
    "allergy": (Allergy, "allergies"),
}


def read_chart_item(uow: UnitOfWork, kind: str, item_id: int, **detail: Any) -> Any | None:
    """One vitals set, problem or allergy by id (None if there is none, or if it belongs to
    a patient outside your care: the same answer either way), after the same care
    relationship check as the chart; the read is audited with ``detail`` (e.g. which FHIR
    resource asked)."""
    model, category = _CHART_ITEMS[kind]
    with uow:
        row = uow.repo(ChartRepository).get(model, item_id)
        if row is None:
            return None
        try:
            basis = ensure_chart_access(uow, row.patient_id)
        except CareRelationshipRequiredError:
            return None  # outside your care it reads as missing (issue 8); refusal audited
        audit_read(uow, basis, category, **detail)
        uow.commit()
        return row
