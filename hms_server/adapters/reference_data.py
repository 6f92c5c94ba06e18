"""Reference data (formulary, interaction table, laboratory catalogue) loaded from the
top-level ``resources/reference-data`` folder, outside the migrations.

Migrations only shape the schema, so replaying history gives the same database whatever the
data files say today. ``load_reference_data`` is the versioned seed step: each dataset's
version is the SHA-256 of its file, recorded in ``reference_data_versions``; a dataset whose
recorded version matches is skipped, so re-running is a no-op. A changed file is upserted by
its natural key (drug code, test code); rows the file no longer lists are deactivated, never
deleted (prescriptions and orders point at them). ``hms-server migrate`` runs it after the
migrations; ``hms-server reference-data load`` runs it alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import LabTest
from hms_server.adapters.orm.infra import ReferenceDataVersion
from hms_server.adapters.orm.prescribing import Drug, DrugInteraction
from hms_server.resources import reference_data_dir


def _drug_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for d in items:
        atc = d.get("atc")
        rows.append(
            {
                "code": d["code"],
                "generic_name": d["generic_name"],
                "ingredients": [i.lower() for i in d["ingredients"]],
                "form": d["form"],
                "strength": d.get("strength"),
                "route": d["route"],
                "atc_code": atc,
                "therapeutic_class": atc[:5] if atc and len(atc) >= 5 else atc,
                "class_name": d.get("class_name"),
                "allergy_groups": [g.lower() for g in d.get("allergy_groups", [])],
                "synonyms": list(d.get("synonyms", [])),
                "brand_names": list(d.get("brand_names", [])),
                "essential": d.get("essential", True),
                "active": True,
            }
        )
    return rows


def _lab_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": t["code"],
            "name": t["name"],
            "loinc": t.get("loinc"),
            "specimen": t.get("specimen"),
            "unit": t.get("unit"),
            "ref_low": t.get("ref_low"),
            "ref_high": t.get("ref_high"),
            "critical_low": t.get("critical_low"),
            "critical_high": t.get("critical_high"),
            "value_type": t.get("value_type", "numeric"),
            "active": True,
        }
        for t in items
    ]


def _upsert_by_code(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        statement = pg_insert(model).values(rows)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[model.code],
                set_={key: statement.excluded[key] for key in rows[0] if key != "code"},
            )
        )
    conn.execute(
        update(model).where(model.code.not_in([r["code"] for r in rows])).values(active=False)
    )


def _load_drugs(conn: Connection, items: list[dict[str, Any]]) -> None:
    _upsert_by_code(conn, Drug, _drug_rows(items))


def _load_lab_tests(conn: Connection, items: list[dict[str, Any]]) -> None:
    _upsert_by_code(conn, LabTest, _lab_rows(items))


def _load_interactions(conn: Connection, items: list[dict[str, Any]]) -> None:
    # Nothing references a rule: the table is replaced as a whole.
    conn.execute(delete(DrugInteraction))
    if items:
        conn.execute(
            insert(DrugInteraction),
            [
                {
                    "side_a": r["a"],
                    "side_b": r["b"],
                    "severity": r["severity"],
                    "reason": r["reason"],
                    "source": r.get("source"),
                }
                for r in items
            ],
        )


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str
    load: Callable[[Connection, list[dict[str, Any]]], None]


DATASETS = (
    Dataset("formulary", "formulary.json", _load_drugs),
    Dataset("drug_interactions", "drug_interactions.json", _load_interactions),
    Dataset("lab_catalogue", "lab_catalogue.json", _load_lab_tests),
)


def dataset_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_reference_data(engine: Engine, source: Path | None = None) -> dict[str, str]:
    """Load every dataset whose file changed since it was last loaded, in one transaction.
    Returns ``{dataset: "loaded <version> (<n> rows)" | "current <version>"}``."""
    folder = source or reference_data_dir()
    report: dict[str, str] = {}
    with engine.begin() as conn:
        # One loader at a time (two servers migrating at once must not interleave).
        conn.execute(select(func.pg_advisory_xact_lock(7007)))
        loaded = dict(
            conn.execute(select(ReferenceDataVersion.dataset, ReferenceDataVersion.version)).all()
        )
        for dataset in DATASETS:
            path = folder / dataset.file
            version = dataset_version(path)
            if loaded.get(dataset.name) == version:
                report[dataset.name] = f"current {version}"
                continue
            items = json.loads(path.read_text(encoding="utf-8"))
            dataset.load(conn, items)
            record = pg_insert(ReferenceDataVersion).values(
                dataset=dataset.name, version=version, loaded_at=utcnow(), row_count=len(items)
            )
            conn.execute(
                record.on_conflict_do_update(
                    index_elements=[ReferenceDataVersion.dataset],
                    set_={
                        "version": version,
                        "loaded_at": record.excluded.loaded_at,
                        "row_count": len(items),
                    },
                )
            )
            report[dataset.name] = f"loaded {version} ({len(items)} rows)"
    return report
