"""Patient merge covers every table that references a patient.

Two tests, both generic so tables other areas add later are caught without editing them:

- the *coverage* test reads PostgreSQL's catalogue for every foreign key to ``patients.id``
  and runs a merge while recording the SQL it executes; each (table, column) must be
  rewritten by a ``PatientsMerged`` handler (an UPDATE of that column, or an INSERT ... SELECT
  copying rows into that table) or be on ``KEPT_DELIBERATELY`` with the reason;
- the *behaviour* test gives the merged-away patient rows in every area that exists today
  (appointments, queue, waitlist, messages, the whole chart) through the HTTP API, merges,
  and checks in the database that nothing but the deliberately kept rows still points at it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from hms_server.adapters.uow import Actor
from hms_server.services.patients import merge_patients
from tests.server.api.clinical_factories import (
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at
from tests.wiring import wired_uow

# (table, column) → why a merge leaves these rows on the merged-away record.
KEPT_DELIBERATELY: dict[tuple[str, str], str] = {
    (
        "break_glass_grants",
        "patient_id",
    ): "a break-the-glass grant records which record was opened in an emergency; moving it "
    "would rewrite the access history the review relies on",
    (
        "care_team_members",
        "patient_id",
    ): "the care team is copied to the survivor (clinicians keep access); the merged-away "
    "record keeps its own rows so past chart reads stay explained",
    (
        "patient_merges",
        "survivor_id",
    ): "the merge journal records which two records a decision was about; it is history",
    (
        "patient_merges",
        "duplicate_id",
    ): "the merge journal records which two records a decision was about; it is history",
}

PATIENT_FOREIGN_KEYS = text("""
    SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.confrelid = 'patients'::regclass
    ORDER BY 1, 2
""")

_UPDATE = re.compile(
    r"^\s*UPDATE\s+\"?(\w+)\"?\s+SET\s+(.*?)(?:\s+WHERE\s|\s*$)", re.IGNORECASE | re.DOTALL
)
_INSERT_SELECT = re.compile(
    r"^\s*INSERT\s+INTO\s+\"?(\w+)\"?\s*\(([^)]*)\)\s*SELECT\s", re.IGNORECASE | re.DOTALL
)

REASON = "Same person registered twice"


def patient_foreign_keys(connection) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(t, c) for t, c in connection.execute(PATIENT_FOREIGN_KEYS)]


def rewritten_columns(statements: list[str]) -> set[tuple[str, str]]:
    """(table, column) pairs the statements write: UPDATE ... SET col = ..., and
    INSERT INTO table (cols) SELECT ... (rows copied from one patient to another)."""
    found: set[tuple[str, str]] = set()
    for sql in statements:
        if match := _UPDATE.match(sql):
            table, assignments = match.groups()
            for column in re.findall(r"\"?(\w+)\"?\s*=", assignments):
                found.add((table, column))
        elif match := _INSERT_SELECT.match(sql):
            table, columns = match.groups()
            found.update((table, c.strip().strip('"')) for c in columns.split(","))
    return found


def test_every_foreign_key_to_patients_is_moved_by_merge_or_kept_for_a_reason(db, settings):
    factory = db.owner_session_factory()
    survivor = make_patient(factory, settings)
    loser = make_patient(factory, settings)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.owner_engine, "before_cursor_execute", record)
    try:
        merge_patients(
            wired_uow(factory, Actor.system("merge-coverage"), settings=settings),
            survivor,
            loser_id=loser,
        )
    finally:
        event.remove(db.owner_engine, "before_cursor_execute", record)
    with db.owner_engine.connect() as connection:
        foreign_keys = patient_foreign_keys(connection)
    assert ("appointments", "patient_id") in foreign_keys  # the catalogue query works
    handled = rewritten_columns(statements)
    missing = [
        f"{table}.{column}"
        for table, column in foreign_keys
        if (table, column) not in handled and (table, column) not in KEPT_DELIBERATELY
    ]
    assert missing == [], (
        "These columns reference patients.id but no PatientsMerged handler moves them: "
        f"{', '.join(missing)}. Subscribe a handler in hms_server.bootstrap.wire_areas, or "
        "add the column to KEPT_DELIBERATELY with the reason."
    )
    stale = [k for k in KEPT_DELIBERATELY if k not in foreign_keys]
    assert stale == [], f"KEPT_DELIBERATELY names columns that no longer exist: {stale}"


@pytest.fixture(scope="module")
def scheduling_doctor(db, settings):  # type: ignore[no-untyped-def]
    return make_doctor(db.owner_session_factory(), settings)


def _rows_per_table(connection, patient_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = {}
    for table, column in patient_foreign_keys(connection):
        counts[f"{table}.{column}"] = int(
            connection.execute(
                text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :p'), {"p": patient_id}
            ).scalar_one()
        )
    return counts


# Every area that stores patient rows today; the behaviour test creates rows in each.
AREAS_WITH_ROWS = (
    "appointments.patient_id",
    "queue_entries.patient_id",
    "waitlist_entries.patient_id",
    "messages.patient_id",
    "encounters.patient_id",
    "clinical_notes.patient_id",
    "vital_signs.patient_id",
    "allergies.patient_id",
    "problems.patient_id",
    "lab_orders.patient_id",
    "lab_results.patient_id",
    "patient_documents.patient_id",
    "prescriptions.patient_id",
    "care_team_members.patient_id",
    "break_glass_grants.patient_id",
)


def test_merging_two_patients_with_rows_in_every_area_leaves_nothing_behind(
    client, headers_for, make_user, login, db, settings, scheduling_doctor
):
    reception = headers_for("receptionist")
    loser = new_patient(client, headers_for, email="merge.me@example.org")["id"]
    survivor = new_patient(client, headers_for)["id"]
    doctor = scheduling_doctor

    # Scheduling: a booking (messages are queued for it), a check-in, a waitlist place.
    start = tomorrow_at(settings, 11, 15, days=2)
    booked = client.post(
        "/api/v1/appointments",
        headers=reception,
        json={"patient_id": loser, "doctor_id": doctor.id, "start": start.isoformat()},
    )
    assert booked.status_code == 201, booked.text
    checked_in = client.post(
        f"/api/v1/appointments/{booked.json()['id']}/check-in", headers=reception
    )
    assert checked_in.status_code == 200, checked_in.text
    later = start + timedelta(days=1)
    waiting = client.post(
        "/api/v1/waitlist",
        headers=reception,
        json={
            "patient_id": loser,
            "doctor_id": doctor.id,
            "earliest_date": later.date().isoformat(),
            "latest_date": later.date().isoformat(),
        },
    )
    assert waiting.status_code == 201, waiting.text

    # The chart: encounter, note, vitals, allergy, problem, lab order + result, document,
    # prescription; a second clinician breaks the glass.
    clinician = new_clinician(client, make_user, login)
    book_with(client, headers_for, clinician, loser)  # a care relationship first (issue 8)
    encounter = open_encounter(client, clinician, loser, reason="merge test")
    chart = f"/api/v1/patients/{loser}"
    for path, body in (
        ("notes", {"encounter_id": encounter["id"], "subjective": "Cough for a week."}),
        ("vitals", {"heart_rate_bpm": 72}),
        ("allergies", {"substance": "Latex", "severity": "mild"}),
        ("problems", {"icd10_code": "I10"}),
    ):
        created = client.post(f"{chart}/{path}", json=body, headers=clinician.headers)
        assert created.status_code == 201, (path, created.text)
    order = client.post(f"{chart}/lab-orders", json={"test_code": "K"}, headers=clinician.headers)
    assert order.status_code == 201, order.text
    result = client.post(
        f"{chart}/lab-orders/{order.json()['id']}/result",
        json={"value_numeric": "4.1"},
        headers=clinician.headers,
    )
    assert result.status_code == 201, result.text
    document = client.post(
        f"{chart}/documents",
        headers=clinician.headers,
        data={"title": "Referral"},
        files={"file": ("r.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert document.status_code == 201, document.text
    rx = client.post(
        "/api/v1/prescriptions",
        headers=clinician.headers,
        json={
            "patient_id": loser,
            "items": [rx_item(drug_id(client, clinician.headers, "Paracetamol"))],
        },
    )
    assert rx.status_code == 201, rx.text
    emergency = new_clinician(client, make_user, login, role="nurse")
    glass = client.post(
        f"{chart}/break-glass", json={"reason": "Unconscious in the ED"}, headers=emergency.headers
    )
    assert glass.status_code == 201, glass.text

    with db.owner_engine.connect() as connection:
        before = _rows_per_table(connection, loser)
    empty = [name for name in AREAS_WITH_ROWS if before.get(name, 0) == 0]
    assert empty == [], f"the test meant to give the loser rows in {empty}"

    merged = client.post(
        f"/api/v1/patients/{survivor}/merge",
        json={"merge_from_id": loser, "reason": REASON},
        headers=headers_for("admin"),
    )
    assert merged.status_code == 200, merged.text

    with db.owner_engine.connect() as connection:
        after_loser = _rows_per_table(connection, loser)
        after_survivor = _rows_per_table(connection, survivor)
    kept = {f"{t}.{c}" for t, c in KEPT_DELIBERATELY}
    left_behind = {name: n for name, n in after_loser.items() if n and name not in kept}
    assert left_behind == {}
    for name, count in before.items():
        if count and name not in kept:
            assert after_survivor[name] >= count, name
    assert after_survivor["care_team_members.patient_id"] >= 1  # copied, so access follows
    assert after_loser["break_glass_grants.patient_id"] == 1  # history stays where it was
