"""Demo patients: multi-cultural names (accents included), varied ages, phones, some with
national IDs, next of kin and insurance. Created through ``register_patient``; skipped when
the database already has patients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from hms_server.adapters.orm.patients import Patient
from hms_server.seed.demo import SeedContext
from hms_server.services.patients import register_patient

SEED_ORDER = 10

# (given names female, given names male, family names, phone prefix, language, city, country)
CULTURES: list[tuple[list[str], list[str], list[str], str, str, str, str]] = [
    (
        ["María", "Lucía", "Carmen", "Inés"],
        ["José", "Álvaro", "Joaquín", "Andrés"],
        ["García", "Fernández", "Núñez", "Muñoz", "Peña"],
        "+34 6",
        "es",
        "Sevilla",
        "ES",
    ),
    (
        ["Zoë", "Anneliese", "Jürgen", "Birgit"],
        ["Jürgen", "Lukas", "Stefan", "Björn"],
        ["Müller", "Schröder", "Weiß", "Köhler", "Ångström"],
        "+49 15",
        "de",
        "Köln",
        "DE",
    ),
    (
        ["Chiamaka", "Ngozi", "Adaeze", "Folake"],
        ["Chinedu", "Emeka", "Oluwaseun", "Tunde"],
        ["Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze"],
        "+234 80",
        "en",
        "Lagos",
        "NG",
    ),
    (
        ["Priya", "Ananya", "Lakshmi", "Deepa"],
        ["Arjun", "Rahul", "Vikram", "Sanjay"],
        ["Sharma", "Iyer", "Patel", "Reddy", "Nair"],
        "+91 98",
        "hi",
        "Pune",
        "IN",
    ),
    (
        ["Mei", "Xiu Ying", "Lan", "Hui"],
        ["Wei", "Jian", "Hao", "Zhi Qiang"],
        ["Wang", "Li", "Zhang", "Chen", "Liu"],
        "+86 139",
        "zh",
        "Chengdu",
        "CN",
    ),
    (
        ["Fatima", "Aisha", "Leila", "Yasmin"],
        ["Ahmed", "Omar", "Yusuf", "Karim"],
        ["Haddad", "Al-Sayed", "Khalil", "Mansour", "Nasser"],
        "+961 3",
        "ar",
        "Beirut",
        "LB",
    ),
    (
        ["Siobhán", "Aoife", "Niamh", "Róisín"],
        ["Seán", "Pádraig", "Ciarán", "Éamon"],
        ["O'Brien", "Ní Bhriain", "Murphy", "Ó Súilleabháin", "Kelly"],
        "+353 87",
        "en",
        "Galway",
        "IE",
    ),
    (
        ["Agnieszka", "Małgorzata", "Zofia", "Joanna"],
        ["Łukasz", "Paweł", "Wojciech", "Jakub"],
        ["Wąsik", "Nowak", "Kowalczyk", "Wiśniewski", "Zieliński"],
        "+48 60",
        "pl",
        "Kraków",
        "PL",
    ),
    (
        ["Nguyễn Thị Lan", "Thu", "Hoa", "Mai"],
        ["Minh", "Tuấn", "Dũng", "Quang"],
        ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"],
        "+84 90",
        "vi",
        "Hà Nội",
        "VN",
    ),
    (
        ["Sakura", "Yui", "Haruka", "Aiko"],
        ["Haruto", "Ren", "Takumi", "Kenji"],
        ["Satō", "Suzuki", "Takahashi", "Tanaka", "Itō"],
        "+81 90",
        "ja",
        "Ōsaka",
        "JP",
    ),
]
PAYERS = ["National Health Fund", "Médis", "AXA Santé", "Allianz Care", "Star Health"]
RELATIONS = ["mother", "father", "spouse", "daughter", "son", "sister", "brother"]
# Always present, so the demo shows accent-insensitive search.
FIXED = [
    ("José", "Müller", "male", date(1971, 7, 9)),
    ("Zoë", "Ångström", "female", date(1988, 2, 29)),
]


def _demo_patient(ctx: SeedContext, i: int) -> dict[str, Any]:
    rng = ctx.rng
    female, male, families, phone_prefix, lang, city, country = rng.choice(CULTURES)
    sex = rng.choices(["female", "male", "other", "unknown"], weights=[48, 48, 2, 2])[0]
    given = rng.choice(female if sex == "female" else male if sex == "male" else female + male)
    family = rng.choice(families)
    dob = ctx.runtime.hospital.today() - timedelta(days=rng.randint(0, 95 * 365))
    if i < len(FIXED):
        given, family, sex, dob = FIXED[i]
    data: dict[str, Any] = {
        "given_name": given,
        "family_name": family,
        "sex": sex,
        "phone": f"{phone_prefix}{rng.randint(0, 10**7 - 1):07d}",
        "preferred_language": lang,
        "address": {
            "line": [f"{rng.randint(1, 200)} Demo Street"],
            "city": city,
            "country": country,
        },
    }
    if rng.random() < 0.1:
        data["age_years"] = max(0, (ctx.runtime.hospital.today() - dob).days // 365)
    else:
        data["date_of_birth"] = dob
    if rng.random() < 0.6:
        data["national_id"] = f"{country}{rng.randint(10**8, 10**9 - 1)}"
    if rng.random() < 0.5:
        kin_given = rng.choice(female + male)
        data["next_of_kin"] = [
            {
                "name": f"{kin_given} {family}",
                "relationship": rng.choice(RELATIONS),
                "phone": f"{phone_prefix}{rng.randint(0, 10**7 - 1):07d}",
            }
        ]
    if rng.random() < 0.4:
        start = date(ctx.runtime.hospital.today().year, 1, 1)
        data["insurance"] = [
            {
                "payer": rng.choice(PAYERS),
                "policy_number": f"P{rng.randint(10**6, 10**7 - 1)}",
                "member_id": f"M{rng.randint(10**5, 10**6 - 1)}",
                "valid_from": start.isoformat(),
                "valid_to": start.replace(year=start.year + 1).isoformat(),
            }
        ]
    return data


def seed(ctx: SeedContext) -> None:
    """Register ``ctx.patients`` demo patients unless patients already exist."""
    with ctx.session_factory() as session:
        if session.scalar(select(Patient.id).limit(1)) is not None:
            return
    now = datetime.now(UTC)
    for i in range(ctx.patients):
        patient = register_patient(
            ctx.uow(), mrn_prefix=ctx.settings.mrn_prefix, confirm_new=True, **_demo_patient(ctx, i)
        )
        # Registered over the past years, not all in the minute the demo was seeded.
        registered = now - timedelta(
            days=ctx.rng.randint(400, 3000), minutes=ctx.rng.randint(0, 600)
        )
        with ctx.session_factory() as session, session.begin():
            session.execute(
                update(Patient)
                .where(Patient.id == patient.id)
                .values(created_at=registered, updated_at=registered)
                .execution_options(synchronize_session=False)
            )
