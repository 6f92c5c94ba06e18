"""Patient search against real PostgreSQL: folding parity with Python, index usage, merge
hooks, rollback without commit, MRN sequence."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select, text

from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.uow import Actor
from hms_server.domain import patients as rules
from hms_server.domain.events import PatientsMerged
from hms_server.domain.mrn import is_valid_mrn
from hms_server.services import patients as svc
from tests.wiring import standard_events, wired_uow


@pytest.fixture
def uow_factory(db_session_factory):
    return lambda: wired_uow(db_session_factory, Actor.system("tests"))


def _register(uow_factory, **kw):
    base = {
        "given_name": "Test",
        "family_name": "Pt" + uuid.uuid4().hex[:8],
        "sex": "unknown",
        "date_of_birth": date(1970, 1, 1),
        "confirm_new": True,
    }
    base.update(kw)
    return svc.register_patient(uow_factory(), mrn_prefix="HMS", **base)


@pytest.mark.parametrize(
    "name",
    [
        "José Müller",
        "Zoë Ångström",
        "Łukasz Wąsik",
        "Straße",
        "Søren Kierkegård",
        "ÇAĞLA Öztürk",
        "Nguyễn Thị Minh",
    ],
)
def test_python_fold_agrees_with_sql_fold(db_session_factory, name):
    with db_session_factory() as session:
        sql = session.scalar(text("SELECT lower(hms_unaccent(:n))"), {"n": name})
    assert rules.fold(name) == sql


def test_generated_search_columns(uow_factory, db_session_factory):
    p = _register(
        uow_factory,
        given_name="Zoë",
        family_name="Ångström-Ñúñez",
        phone="+44 (0)20 7946-0958",
        national_id="ab 12-34",
    )
    assert p.search_name == "zoe angstrom-nunez"
    assert p.phone_digits == "440207946 0958".replace(" ", "")
    assert p.national_id_norm == "AB1234"
    assert is_valid_mrn(p.mrn)


def _plan(session, sql, params):
    session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql), params))


def test_unfiltered_first_page_reads_the_list_order_index(db_session_factory):
    with db_session_factory() as session:
        plan = _plan(
            session,
            "SELECT id FROM patients WHERE merged_into_id IS NULL "
            "ORDER BY family_norm, given_norm, id LIMIT 50",
            {},
        )
    assert "ix_patients_list_order" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize(
    ("where", "params", "index"),
    [
        (
            "search_name LIKE '%' || lower(hms_unaccent(:q)) || '%'",
            {"q": "Müll"},
            "ix_patients_search_name_trgm",
        ),
        (
            "family_norm LIKE lower(hms_unaccent(:q)) || '%'",
            {"q": "Mü"},
            "ix_patients_family_norm_prefix",
        ),
        ("reverse(phone_digits) LIKE :q", {"q": "8590%"}, "ix_patients_phone_digits_rev"),
        ("date_of_birth = :q", {"q": date(1970, 1, 1)}, "ix_patients_date_of_birth"),
        ("national_id_norm = :q", {"q": "AB1234"}, "ix_patients_national_id_norm"),
        ("mrn = :q", {"q": "HMS000000018"}, "uq_patients_mrn"),
    ],
)
def test_search_predicates_can_use_their_index(db_session_factory, where, params, index):
    with db_session_factory() as session:
        plan = _plan(session, f"SELECT id FROM patients WHERE {where}", params)
    assert index in plan, plan


def test_search_service_finds_by_every_kind(uow_factory):
    family = "Kowalczyk" + uuid.uuid4().hex[:6]
    p = _register(
        uow_factory,
        given_name="Łukasz",
        family_name=family,
        phone="+48 601 234 567",
        date_of_birth=date(1966, 6, 6),
    )
    for q in ("lukasz " + family[:6], family.upper(), p.mrn, "601234567"):
        page = svc.search_patients(uow_factory(), q=q, limit=50, offset=0, mrn_prefix="HMS")
        assert p.id in [r.id for r in page.rows], q
        assert page.total >= 1 and not page.total_capped


def test_common_fragment_stops_counting_at_the_cap(uow_factory, monkeypatch):
    family = "Capped" + uuid.uuid4().hex[:6]
    made = sorted(
        (
            _register(uow_factory, family_name=family, given_name=g)
            for g in ("Cy", "Ann", "Bo", "Di")
        ),
        key=lambda p: p.given_name,
    )
    page = svc.search_patients(uow_factory(), q=family, limit=50, offset=0, mrn_prefix="HMS")
    assert (page.total, page.total_capped) == (4, False)
    assert [r.id for r in page.rows] == [p.id for p in made]
    monkeypatch.setattr(svc, "SEARCH_MATCH_CAP", 3)
    page = svc.search_patients(uow_factory(), q=family, limit=2, offset=0, mrn_prefix="HMS")
    assert (page.total, page.total_capped, len(page.rows)) == (3, True, 2)
    beyond = svc.search_patients(uow_factory(), q=family, limit=2, offset=10, mrn_prefix="HMS")
    assert (beyond.total, beyond.total_capped, beyond.rows) == (3, True, [])


def test_leaving_without_commit_rolls_back(uow_factory, db_session_factory):
    family = "Rollback" + uuid.uuid4().hex[:6]
    uow = uow_factory()
    with uow:
        uow.session.add(
            Patient(
                mrn="TST" + uuid.uuid4().hex[:9],
                given_name="A",
                family_name=family,
                date_of_birth=date(2000, 1, 1),
                sex="male",
                version=1,
            )
        )
        uow.session.flush()
    with db_session_factory() as session:
        assert session.scalar(select(Patient.id).where(Patient.family_name == family)) is None


def test_merge_handlers_run_in_the_same_transaction(uow_factory, db_session_factory):
    a, b = _register(uow_factory), _register(uow_factory)
    seen = []

    def handler(uow, event):
        loser = uow.session.get(Patient, event.loser_id)
        seen.append((event.loser_id, event.survivor_id, loser.merged_into_id))

    events = standard_events()
    events.subscribe(PatientsMerged, handler)
    svc.merge_patients(
        wired_uow(db_session_factory, Actor.system("tests"), events=events), a.id, loser_id=b.id
    )
    assert seen == [(b.id, a.id, a.id)]


def test_failing_merge_handler_aborts_the_merge(uow_factory, db_session_factory):
    a, b = _register(uow_factory), _register(uow_factory)

    def broken(uow, event):
        raise RuntimeError("area could not move its rows")

    events = standard_events()
    events.subscribe(PatientsMerged, broken)
    with pytest.raises(RuntimeError):
        svc.merge_patients(
            wired_uow(db_session_factory, Actor.system("tests"), events=events), a.id, loser_id=b.id
        )
    with db_session_factory() as session:
        assert session.get(Patient, b.id).merged_into_id is None


def test_mrn_serials_come_from_a_sequence(uow_factory):
    first, second = _register(uow_factory), _register(uow_factory)
    assert int(second.mrn[3:-1]) > int(first.mrn[3:-1])


def test_duplicate_lookup_finds_estimated_ages(uow_factory, db_session_factory):
    family = "Okonkwo" + uuid.uuid4().hex[:6]
    old = _register(
        uow_factory, given_name="Chinedu", family_name=family, date_of_birth=date(1961, 3, 3)
    )
    uow = uow_factory()
    with uow:
        found = svc.find_duplicates(
            uow, rules.PersonKey("Chinedu", family, date(1962, 7, 1), birth_date_estimated=True)
        )
    assert [c.id for c in found] == [old.id]


def test_demo_seed_is_realistic_and_idempotent(fresh_db):
    from random import Random

    from sqlalchemy import func

    from hms_server.bootstrap import build_runtime
    from hms_server.seed.demo import SeedContext
    from hms_server.seed.patients import seed

    factory = fresh_db.owner_session_factory()
    runtime = build_runtime(
        fresh_db.settings(), as_owner=True, pool_size=2, session_factory=factory
    )
    ctx = SeedContext(runtime, patients=40, rng=Random(7))
    seed(ctx)
    seed(ctx)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 40
        names = set(session.scalars(select(Patient.search_name)))
        assert {"jose muller", "zoe angstrom"} <= names
        assert (
            session.scalar(
                select(func.count()).select_from(Patient).where(Patient.national_id.is_not(None))
            )
            > 0
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Patient).where(Patient.birth_date_estimated)
            )
            >= 0
        )
    page = svc.search_patients(
        wired_uow(factory, Actor.system("t")), q="ångstrom", limit=10, offset=0, mrn_prefix="HMS"
    )
    assert page.total >= 1 and any(r.given_name == "Zoë" for r in page.rows)
    runtime.close()
