"""Bed-days for billing: one ``BedDayOccupied`` per occupied local midnight, at the class
of the ward the patient was in at that midnight; capturing again changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from hms_server.adapters.uow import Actor
from hms_server.bootstrap import standard_events
from hms_server.domain import events as ev
from hms_server.services.bed_days import capture_bed_days
from tests.server.api.ward_factories import admit, new_patient, new_ward
from tests.wiring import wired_uow


def _shift_admission(
    db, admission_id: int, admitted_at: datetime, transfer_at: datetime | None = None
) -> None:
    """Pretend the admission (and its first stay) began at ``admitted_at``; with a transfer,
    the first stay ends and the second begins at ``transfer_at``."""
    with db.owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE admissions SET admitted_at = :t WHERE id = :a"),
            {"t": admitted_at, "a": admission_id},
        )
        stays = (
            conn.execute(
                text("SELECT id FROM bed_stays WHERE admission_id = :a ORDER BY started_at"),
                {"a": admission_id},
            )
            .scalars()
            .all()
        )
        if transfer_at is None:
            conn.execute(
                text("UPDATE bed_stays SET started_at = :t WHERE id = :s"),
                {"t": admitted_at, "s": stays[0]},
            )
        else:
            conn.execute(
                text("UPDATE bed_stays SET started_at = :t, ended_at = :x WHERE id = :s"),
                {"t": admitted_at, "x": transfer_at, "s": stays[0]},
            )
            conn.execute(
                text("UPDATE bed_stays SET started_at = :x WHERE id = :s"),
                {"x": transfer_at, "s": stays[1]},
            )


def _capture(db, settings, until: datetime) -> list[ev.BedDayOccupied]:
    seen: list[ev.BedDayOccupied] = []
    events = standard_events()
    events.subscribe(ev.BedDayOccupied, lambda _uow, e: seen.append(e))
    uow = wired_uow(
        db.owner_session_factory(), Actor.system("test"), settings=settings, events=events
    )
    capture_bed_days(uow, until=until)
    return seen


def test_each_occupied_midnight_is_charged_once_at_the_wards_class(client, headers_for, db):
    general = new_ward(client, headers_for, beds=1, ward_class="general")
    icu = new_ward(client, headers_for, beds=1, ward_class="icu")
    patient = new_patient(client, headers_for)
    doctor = headers_for("doctor")
    admission = admit(client, doctor, patient["id"], general.bed_ids[0])
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/transfer",
        json={"bed_id": icu.bed_ids[0]},
        headers=doctor,
    )
    assert r.status_code == 200
    # Admitted 1 May 14:00, moved to ICU 3 May 09:00 (UTC hospital in tests).
    _shift_admission(
        db,
        admission["id"],
        datetime(2026, 5, 1, 14, tzinfo=UTC),
        datetime(2026, 5, 3, 9, tzinfo=UTC),
    )
    settings = db.settings()
    first = [
        e
        for e in _capture(db, settings, datetime(2026, 5, 4, 12, tzinfo=UTC))
        if e.admission_id == admission["id"]
    ]
    assert [(e.day, e.ward_class) for e in first] == [
        (date(2026, 5, 2), "general"),
        (date(2026, 5, 3), "general"),
        (date(2026, 5, 4), "icu"),
    ]
    assert all(e.patient_id == patient["id"] for e in first)
    again = [
        e
        for e in _capture(db, settings, datetime(2026, 5, 4, 23, tzinfo=UTC))
        if e.admission_id == admission["id"]
    ]
    assert again == []  # idempotent
    with db.owner_engine.connect() as conn:
        assert (
            conn.scalar(
                text("SELECT count(*) FROM bed_days WHERE admission_id = :a"),
                {"a": admission["id"]},
            )
            == 3
        )


def test_bed_days_follow_the_hospitals_midnight_across_dst(client, headers_for, db):
    ward = new_ward(client, headers_for, beds=1)
    patient = new_patient(client, headers_for)
    admission = admit(client, headers_for("doctor"), patient["id"], ward.bed_ids[0])
    # 28 March 20:00 GMT to 30 March 10:00 BST in London: midnights of 29 and 30 March.
    _shift_admission(db, admission["id"], datetime(2026, 3, 28, 20, tzinfo=UTC))
    london = db.settings(hospital_timezone="Europe/London")
    days = [
        e.day
        for e in _capture(db, london, datetime(2026, 3, 30, 9, tzinfo=UTC))
        if e.admission_id == admission["id"]
    ]
    assert days == [date(2026, 3, 29), date(2026, 3, 30)]


def test_a_cancelled_admission_is_never_charged_and_a_charged_one_cannot_be_cancelled(
    client, headers_for, db
):
    ward = new_ward(client, headers_for, beds=2)
    doctor = headers_for("doctor")
    charged = admit(client, doctor, new_patient(client, headers_for)["id"], ward.bed_ids[0])
    _shift_admission(db, charged["id"], datetime(2026, 6, 1, 10, tzinfo=UTC))
    _capture(db, db.settings(), datetime(2026, 6, 2, 10, tzinfo=UTC))
    r = client.post(
        f"/api/v1/admissions/{charged['id']}/cancel",
        json={"reason": "Admitted in error"},
        headers=doctor,
    )
    assert r.status_code == 409 and r.json()["code"] == "bed_days_captured"

    mistaken = admit(client, doctor, new_patient(client, headers_for)["id"], ward.bed_ids[1])
    r = client.post(
        f"/api/v1/admissions/{mistaken['id']}/cancel",
        json={"reason": "Admitted in error"},
        headers=doctor,
    )
    assert r.status_code == 200
    assert [
        e
        for e in _capture(db, db.settings(), datetime.now(UTC))
        if e.admission_id == mistaken["id"]
    ] == []


def test_discharge_charges_the_midnights_up_to_discharge(client, headers_for, db):
    ward = new_ward(client, headers_for, beds=1)
    doctor = headers_for("doctor")
    admission = admit(client, doctor, new_patient(client, headers_for)["id"], ward.bed_ids[0])
    with db.owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE admissions SET admitted_at = now() - interval '50 hours' WHERE id = :a"),
            {"a": admission["id"]},
        )
        conn.execute(
            text(
                "UPDATE bed_stays SET started_at = now() - interval '50 hours' "
                "WHERE admission_id = :a"
            ),
            {"a": admission["id"]},
        )
    r = client.post(
        f"/api/v1/admissions/{admission['id']}/discharge", json={"summary": "Well."}, headers=doctor
    )
    assert r.status_code == 200, r.text
    with db.owner_engine.connect() as conn:
        count = conn.scalar(
            text("SELECT count(*) FROM bed_days WHERE admission_id = :a"), {"a": admission["id"]}
        )
    assert count in (2, 3)  # 50 hours hold two or three midnights, depending on the hour
