"""Nursing care of an admission: scored assessments, vitals (with NEWS2), fluid balance per
shift, care tasks and nursing notes.

Writes need ward care (``services.ward_access``: a nurse of the patient's ward, the attending
doctor, or break-the-glass); reads follow the chart's access rules. Every read and write is
audited against the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import VitalSigns
from hms_server.adapters.orm.nursing import CareTask, FluidEntry, NursingAssessment
from hms_server.adapters.orm.wards import Admission
from hms_server.adapters.repositories.nursing import NursingRepository
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.nursing import (
    INTAKE_ROUTES,
    OUTPUT_ROUTES,
    SHIFT_NAMES,
    AssessmentInputError,
    Score,
    braden,
    morse_falls,
    news2,
    shift_bounds,
)
from hms_server.domain.versioning import check_version
from hms_server.services.access import AccessBasis, ensure_chart_access
from hms_server.services.ward_access import admission_or_404, ensure_ward_care

CATEGORY = "nursing"
NEWS2_VITALS = ("respiratory_rate", "spo2_pct", "systolic_mmhg", "heart_rate_bpm", "temperature_c")


def _actor_id(uow: UnitOfWork) -> int:
    assert uow.actor is not None and uow.actor.user_id is not None
    return uow.actor.user_id


def _read_access(uow: UnitOfWork, admission_id: int, what: str) -> tuple[Admission, AccessBasis]:
    admission = admission_or_404(uow, admission_id)
    basis = ensure_chart_access(uow, admission.patient_id)
    uow.audit(
        CATEGORY,
        "read",
        patient_id=admission.patient_id,
        detail={**basis.audit_detail(), "admission_id": admission.id, "data": what},
    )
    return admission, basis


def _write_access(uow: UnitOfWork, admission_id: int) -> tuple[Admission, AccessBasis]:
    admission = admission_or_404(uow, admission_id)
    basis = ensure_ward_care(uow, admission)
    if admission.status != "admitted":
        raise ConflictError(
            f"This admission is {admission.status}; nursing records are closed.",
            extra={"reason": "admission_not_open"},
        )
    return admission, basis


# --- NEWS2 from vitals ------------------------------------------------------------------------


def news2_of(
    vitals: VitalSigns | None, consciousness: str | None, on_oxygen: bool | None
) -> Score | None:
    """NEWS2 of a set of vitals; consciousness and oxygen come from the nurse's assessment
    (a monitor cannot measure them). None when no parameter is known."""
    if vitals is None:
        return None
    score = news2(
        respiratory_rate=vitals.respiratory_rate,
        spo2_pct=vitals.spo2_pct,
        on_oxygen=on_oxygen,
        systolic_mmhg=vitals.systolic_mmhg,
        heart_rate_bpm=vitals.heart_rate_bpm,
        consciousness=consciousness,
        temperature_c=vitals.temperature_c,
    )
    return score if score.parts else None


# --- assessments ------------------------------------------------------------------------------


def _news2_assessment(
    repo: NursingRepository, admission: Admission, answers: dict[str, Any]
) -> tuple[Score, dict[str, Any], int | None]:
    consciousness = answers.get("consciousness")
    on_oxygen = answers.get("on_oxygen")
    errors = []
    if consciousness is None:
        errors.append(
            {
                "field": "answers.consciousness",
                "type": "missing",
                "message": "alert, confusion, voice, pain or unresponsive",
            }
        )
    if not isinstance(on_oxygen, bool):
        errors.append({"field": "answers.on_oxygen", "type": "missing", "message": "true or false"})
    unknown = sorted(set(answers) - {"consciousness", "on_oxygen", *NEWS2_VITALS})
    errors += [
        {"field": f"answers.{k}", "type": "extra_forbidden", "message": "not part of NEWS2"}
        for k in unknown
    ]
    if errors:
        raise AssessmentInputError(
            "NEWS2 needs consciousness and on_oxygen (the vitals come "
            "from the newest observations).",
            extra={"errors": errors},
        )
    latest = repo.latest_vitals(admission.patient_id)
    values: dict[str, Any] = {k: getattr(latest, k) if latest else None for k in NEWS2_VITALS}
    given = {k: answers[k] for k in NEWS2_VITALS if answers.get(k) is not None}
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise AssessmentInputError(f"{key} must be a number.")
        try:
            values[key] = Decimal(str(value)) if key == "temperature_c" else int(value)
        except (ArithmeticError, ValueError) as exc:
            raise AssessmentInputError(f"{key} must be a number.") from exc
    score = news2(
        respiratory_rate=values["respiratory_rate"],
        spo2_pct=values["spo2_pct"],
        on_oxygen=on_oxygen,
        systolic_mmhg=values["systolic_mmhg"],
        heart_rate_bpm=values["heart_rate_bpm"],
        consciousness=consciousness,
        temperature_c=values["temperature_c"],
    )
    stored = {
        "consciousness": consciousness,
        "on_oxygen": on_oxygen,
        **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()},
    }
    return score, stored, (latest.id if latest is not None and not given else None)


def record_assessment(
    uow: UnitOfWork, admission_id: int, *, kind: str, answers: dict[str, Any]
) -> tuple[NursingAssessment, str | None]:
    """Score and store an assessment; the server computes every score."""
    with uow:
        admission, _ = _write_access(uow, admission_id)
        repo = uow.repo(NursingRepository)
        vitals_id = None
        if kind == "news2":
            score, stored, vitals_id = _news2_assessment(repo, admission, answers)
        elif kind == "morse_falls":
            score, stored = morse_falls(answers), dict(answers)
        elif kind == "braden":
            score, stored = braden(answers), dict(answers)
        else:
            raise ValidationFailedError(f"Unknown assessment '{kind}'.")
        row = NursingAssessment(
            admission_id=admission.id,
            patient_id=admission.patient_id,
            kind=kind,
            total=score.total,
            risk=score.risk,
            parts=score.parts,
            answers=stored,
            vitals_id=vitals_id,
            assessed_at=utcnow(),
            assessed_by_user_id=_actor_id(uow),
        )
        repo.add(row)
        repo.flush()
        uow.audit(
            CATEGORY,
            "assessment.record",
            patient_id=admission.patient_id,
            detail={
                "admission_id": admission.id,
                "assessment_id": row.id,
                "kind": kind,
                "total": score.total,
            },
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        name = (
            uow.repo(WardRepository)
            .user_names([row.assessed_by_user_id])
            .get(row.assessed_by_user_id)
        )
        uow.commit()
        return row, name


def list_assessments(
    uow: UnitOfWork, admission_id: int, *, kind: str | None, limit: int
) -> list[tuple[NursingAssessment, str | None]]:
    with uow:
        admission, _ = _read_access(uow, admission_id, "assessments")
        rows = uow.repo(NursingRepository).assessments(admission.id, kind, limit)
        uow.commit()
        return rows


# --- vitals -----------------------------------------------------------------------------------


def record_ward_vitals(
    uow: UnitOfWork,
    admission_id: int,
    *,
    values: dict[str, Any],
    recorded_at: datetime | None,
    notes: str | None,
) -> VitalSigns:
    """Vitals entered on the ward: into the chart, linked to the inpatient encounter."""
    from hms_server.services.clinical import record_vitals

    with uow:
        admission, _ = _write_access(uow, admission_id)
        row = record_vitals(
            uow,
            admission.patient_id,
            values=values,
            encounter_id=admission.encounter_id,
            recorded_at=recorded_at,
            notes=notes,
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        uow.commit()
        return row


@dataclass(frozen=True)
class VitalsGridRow:
    vitals: VitalSigns
    recorded_by_name: str | None
    score: Score | None


def vitals_grid(
    uow: UnitOfWork, admission_id: int, *, since: datetime | None, limit: int
) -> tuple[list[VitalsGridRow], int, int | None]:
    """Vitals of the admission (newest first) with each row's NEWS2, the total, and how
    often observations are due by the newest NEWS2."""
    with uow:
        admission, _ = _read_access(uow, admission_id, "vitals")
        repo = uow.repo(NursingRepository)
        start = max(since, admission.admitted_at) if since else admission.admitted_at
        rows = repo.vitals_since(admission.patient_id, start, limit)
        total = repo.count_vitals(admission.patient_id, start)
        consciousness, oxygen = repo.latest_consciousness(admission.id)
        grid = [VitalsGridRow(v, name, news2_of(v, consciousness, oxygen)) for v, name in rows]
        every = grid[0].score.observe_every_minutes if grid and grid[0].score else None
        uow.commit()
        return grid, total, every


# --- fluid balance ----------------------------------------------------------------------------


def add_fluid(
    uow: UnitOfWork,
    admission_id: int,
    *,
    kind: str,
    route: str,
    volume_ml: int,
    recorded_at: datetime | None,
    note: str | None,
) -> FluidEntry:
    routes = INTAKE_ROUTES if kind == "intake" else OUTPUT_ROUTES
    if route not in routes:
        raise ValidationFailedError(
            f"An {kind} route is one of {', '.join(routes)}.",
            extra={
                "errors": [
                    {"field": "body.route", "type": "enum", "message": f"not an {kind} route"}
                ]
            },
        )
    now = utcnow()
    at = recorded_at or now
    if at > now + timedelta(minutes=5):
        raise ValidationFailedError(
            "A fluid entry cannot be in the future.",
            extra={
                "errors": [
                    {"field": "body.recorded_at", "type": "value_error", "message": "in the future"}
                ]
            },
        )
    with uow:
        admission, _ = _write_access(uow, admission_id)
        if at < admission.admitted_at:
            raise ValidationFailedError("That time is before the admission.")
        row = FluidEntry(
            admission_id=admission.id,
            patient_id=admission.patient_id,
            kind=kind,
            route=route,
            volume_ml=volume_ml,
            recorded_at=at,
            recorded_by_user_id=_actor_id(uow),
            note=note,
        )
        repo = uow.repo(NursingRepository)
        repo.add(row)
        repo.flush()
        uow.audit(
            CATEGORY,
            "fluid.record",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "fluid_entry_id": row.id},
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        uow.commit()
        return row


@dataclass(frozen=True)
class ShiftTotals:
    shift: str
    starts_at: datetime
    ends_at: datetime
    intake_ml: int
    output_ml: int


def fluid_balance(
    uow: UnitOfWork, admission_id: int, *, day: date | None
) -> tuple[date, list[ShiftTotals], list[tuple[FluidEntry, str | None]]]:
    """Intake and output per shift of a local day (early, late and the night that follows),
    and the entries."""
    zone = uow.hospital.zone
    with uow:
        admission, _ = _read_access(uow, admission_id, "fluid_balance")
        day = day or uow.hospital.today()
        bounds = [(name, *shift_bounds(day, name, zone)) for name in SHIFT_NAMES]
        entries = uow.repo(NursingRepository).fluid_entries(
            admission.id, bounds[0][1], bounds[-1][2]
        )
        totals = []
        for name, start, end in bounds:
            inside = [e for e, _ in entries if start <= e.recorded_at < end]
            totals.append(
                ShiftTotals(
                    name,
                    start,
                    end,
                    sum(e.volume_ml for e in inside if e.kind == "intake"),
                    sum(e.volume_ml for e in inside if e.kind == "output"),
                )
            )
        uow.commit()
        return day, totals, entries


# --- care tasks -------------------------------------------------------------------------------


def add_task(
    uow: UnitOfWork,
    admission_id: int,
    *,
    kind: str,
    title: str,
    due_at: datetime,
    repeat_every_minutes: int | None,
    note: str | None,
) -> CareTask:
    with uow:
        admission, _ = _write_access(uow, admission_id)
        row = CareTask(
            admission_id=admission.id,
            patient_id=admission.patient_id,
            kind=kind,
            title=title.strip(),
            due_at=due_at,
            repeat_every_minutes=repeat_every_minutes,
            status="open",
            note=note,
            created_by_user_id=_actor_id(uow),
            created_at=utcnow(),
            version=1,
        )
        repo = uow.repo(NursingRepository)
        repo.add(row)
        repo.flush()
        uow.audit(
            CATEGORY,
            "task.create",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "task_id": row.id, "kind": kind},
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        uow.commit()
        return row


def list_tasks(
    uow: UnitOfWork, admission_id: int, *, status: str | None
) -> list[tuple[CareTask, str | None]]:
    with uow:
        admission, _ = _read_access(uow, admission_id, "tasks")
        rows = uow.repo(NursingRepository).tasks(admission.id, status)
        uow.commit()
        return rows


def finish_task(
    uow: UnitOfWork, task_id: int, *, version: int, note: str | None, done: bool = True
) -> tuple[CareTask, CareTask | None]:
    """Mark a task done (a repeating task gets its next occurrence) or cancel it."""
    with uow:
        repo = uow.repo(NursingRepository)
        task = repo.task(task_id, lock=True)
        if task is None:
            raise NotFoundError(f"No care task with id {task_id}.")
        admission, _ = _write_access(uow, task.admission_id)
        check_version(task.version, version, "care task")
        if task.status != "open":
            raise ConflictError(
                f"This task is already {task.status}.", extra={"task_status": task.status}
            )
        now = utcnow()
        task.status = "done" if done else "cancelled"
        task.completed_at = now
        task.completed_by_user_id = _actor_id(uow)
        if note:
            task.note = note
        task.version += 1
        follow_up = None
        if done and task.repeat_every_minutes:
            step = timedelta(minutes=task.repeat_every_minutes)
            next_due = task.due_at + step
            while next_due <= now - step:  # skip occurrences missed long ago
                next_due += step
            follow_up = CareTask(
                admission_id=task.admission_id,
                patient_id=task.patient_id,
                kind=task.kind,
                title=task.title,
                due_at=next_due,
                repeat_every_minutes=task.repeat_every_minutes,
                status="open",
                created_by_user_id=_actor_id(uow),
                created_at=now,
                version=1,
            )
            repo.add(follow_up)
        repo.flush()
        uow.audit(
            CATEGORY,
            f"task.{task.status}",
            patient_id=task.patient_id,
            detail={
                "admission_id": admission.id,
                "task_id": task.id,
                "next_task_id": follow_up.id if follow_up else None,
            },
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        uow.commit()
        return task, follow_up


def cancel_open_tasks(uow: UnitOfWork, admission_id: int) -> int:
    """On discharge or cancellation (inside that transaction)."""
    return uow.repo(NursingRepository).cancel_open_tasks(admission_id)


# --- nursing notes ----------------------------------------------------------------------------


def add_nursing_note(uow: UnitOfWork, admission_id: int, *, text: str) -> Any:
    """A nursing note: a signed clinical note of type ``nursing`` in the chart."""
    from hms_server.services.clinical import create_note

    with uow:
        admission, _ = _write_access(uow, admission_id)
        view = create_note(
            uow,
            admission.patient_id,
            encounter_id=admission.encounter_id,
            note_type="nursing",
            title="Nursing note",
            text={"body": text},
            sign=True,
        )
        uow.publish(
            "nursing.changed", {"admission_id": admission.id, "patient_id": admission.patient_id}
        )
        uow.commit()
        return view


def list_nursing_notes(uow: UnitOfWork, admission_id: int, *, limit: int) -> list[Any]:
    with uow:
        admission, _ = _read_access(uow, admission_id, "nursing_notes")
        rows = uow.repo(NursingRepository).nursing_notes(
            admission.patient_id, admission.admitted_at, admission.discharged_at, limit
        )
        uow.commit()
        return rows
