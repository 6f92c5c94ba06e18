"""The schema has one source of truth twice over, so they must agree: the ORM models and the
Alembic history. Also: the latest migration can be undone and redone on a database holding
data, migrations read no data files, and reference data loads as a versioned seed step."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import hms_server.adapters.orm  # noqa: F401  (registers every table)
from hms_server.adapters.migrations import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade_to,
    head_revision,
    upgrade_to_head,
)
from hms_server.adapters.orm.base import Base
from hms_server.adapters.reference_data import DATASETS, load_reference_data
from hms_server.resources import reference_data_dir
from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at

# Tables that exist on purpose outside both the ORM and the migrations.
UNMAPPED_TABLES = {
    "hms_runtime_credentials": "written by adapters.db.ensure_runtime_role (the runtime "
    "role's generated password); never read through the ORM",
}


def _include(name, type_, parent_names):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in UNMAPPED_TABLES)


def _differences(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "include_name": _include},
        )
        return list(compare_metadata(context, Base.metadata))


def test_orm_models_and_migrations_agree(fresh_db):
    assert current_revision(fresh_db.owner_engine) == head_revision()
    assert _differences(fresh_db.owner_engine) == []


def test_latest_migration_downgrades_and_upgrades_on_a_database_with_data(fresh_db):
    settings = fresh_db.settings()
    factory = fresh_db.owner_session_factory()
    patient = make_patient(factory, settings)
    doctor = make_doctor(factory, settings)
    from hms_server.adapters.uow import Actor
    from hms_server.services.appointments import book_appointment
    from tests.wiring import wired_uow

    booked = book_appointment(
        wired_uow(factory, Actor.system("t"), settings=settings),
        patient_id=patient,
        doctor_id=doctor.id,
        start=tomorrow_at(settings, 10),
    )
    engine = fresh_db.owner_engine
    head = head_revision()
    downgrade_to(engine, "-1")
    assert current_revision(engine) != head
    upgrade_to_head(engine)
    assert current_revision(engine) == head
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT patient_id FROM appointments WHERE id = :i"), {"i": booked.id}
            ).scalar_one()
            == patient
        )
        assert conn.execute(text("SELECT count(*) FROM drugs")).scalar_one() > 100


def test_migrations_read_no_data_files():
    offenders = []
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if re.search(
            r"\bopen\(|read_text|read_bytes|json\.loads?\(|importlib\.resources|"
            r"hms_resources|Path\(__file__\)",
            source,
        ):
            offenders.append(path.name)
    assert offenders == [], "migrations must not read data files (use reference-data load)"


def test_reference_data_loads_once_per_version(fresh_db, tmp_path: Path):
    engine = fresh_db.owner_engine
    # The template database was loaded when it was made: unchanged files are a no-op.
    assert all(v.startswith("current") for v in load_reference_data(engine).values())

    source = tmp_path / "reference-data"
    shutil.copytree(reference_data_dir(), source)
    formulary = json.loads((source / "formulary.json").read_text(encoding="utf-8"))
    dropped, changed = formulary.pop(), formulary[0]
    changed["strength"] = "999 mg"
    (source / "formulary.json").write_text(json.dumps(formulary), encoding="utf-8")

    report = load_reference_data(engine, source)
    assert report["formulary"].startswith("loaded")
    assert report["lab_catalogue"].startswith("current")
    assert report["drug_interactions"].startswith("current")
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT code, strength || '/' || active FROM drugs WHERE code IN (:a, :b)"),
                {"a": changed["code"], "b": dropped["code"]},
            ).all()
        )
        versions = conn.execute(text("SELECT count(*) FROM reference_data_versions"))
        assert versions.scalar_one() == len(DATASETS)
    assert rows[changed["code"]] == "999 mg/true"
    assert rows[dropped["code"]].endswith("/false")  # kept for old prescriptions, inactive
    assert all(v.startswith("current") for v in load_reference_data(engine, source).values())
