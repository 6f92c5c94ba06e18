"""Demo staff and HR: a staff record for every demo sign-in (linked to it) and twenty-odd
more people across the departments and wards, ten weeks of duty roster (the last five, this
one and the next four: a rotation on the wards, weekday day shifts at the desks of the other
sign-ins), leave (two colleagues' requests waiting, one approved; and every sign-in's own
past approved leave and a request waiting), the last two months' pay runs finalised, and a
few performance reviews — so the HR officer's and the manager's screens, and every demo
user's My work, open populated.

Everything goes through the area's services, acting as the demo HR officer and manager.
Idempotent: skipped when the first demo employee number exists.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.scheduling import Department, Doctor
from hms_server.adapters.orm.staff import StaffMember
from hms_server.adapters.orm.wards import Ward
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import DomainError
from hms_server.seed.demo import SeedContext
from hms_server.services import payroll, roster, scheduling
from hms_server.services import staff as staff_service

SEED_ORDER = 50  # after wards (40): shifts are worked on the demo wards
log = logging.getLogger("hms_server.seed")
FIRST_NUMBER = "E1001"

SUPPORT_DEPARTMENTS = [
    ("Administration", "Block A, second floor"),
    ("Human Resources", "Block A, second floor"),
    ("Finance", "Block A, second floor"),
    ("Pharmacy", "Block B, ground floor"),
    ("Nursing", "Block C, ground floor"),
]
# role → (job title, department, grade, monthly salary)
ROLE_JOBS = {
    "admin": ("IT Systems Administrator", "Administration", "A6", "3400.00"),
    "receptionist": ("Receptionist", "Administration", "A3", "2100.00"),
    "doctor": ("Consultant Physician", "General Medicine", "M2", "7800.00"),
    "nurse": ("Staff Nurse", "Nursing", "N5", "2950.00"),
    "pharmacist": ("Pharmacist", "Pharmacy", "P6", "4100.00"),
    "billing_clerk": ("Billing Clerk", "Finance", "A3", "2200.00"),
    "hr_officer": ("HR Officer", "Human Resources", "A5", "3100.00"),
    "manager": ("Operations Manager", "Administration", "A8", "5200.00"),
}
# Ward staff without a sign-in: name, title, grade, salary, employment type.
WARD_STAFF = [
    ("Amina Yusuf", "Staff Nurse", "N5", "2950.00", "full_time"),
    ("Bartosz Nowak", "Staff Nurse", "N5", "2950.00", "full_time"),
    ("Chloé Martin", "Senior Staff Nurse", "N6", "3350.00", "full_time"),
    ("Dmitri Volkov", "Staff Nurse", "N5", "2950.00", "full_time"),
    ("Efua Boateng", "Charge Nurse", "N7", "3800.00", "full_time"),
    ("Farida Haddad", "Healthcare Assistant", "H3", "2050.00", "full_time"),
    ("Gustavo Pereira", "Healthcare Assistant", "H3", "2050.00", "part_time"),
    ("Hiroshi Tanaka", "Staff Nurse", "N5", "2950.00", "contract"),
    ("Ingrid Solberg", "Staff Nurse", "N5", "2950.00", "full_time"),
    ("Jamal Carter", "Healthcare Assistant", "H3", "2050.00", "full_time"),
    ("Kateryna Shevchenko", "Senior Staff Nurse", "N6", "3350.00", "full_time"),
    ("Liam O'Brien", "Staff Nurse", "N5", "2950.00", "locum"),
    ("Mariana Costa", "Staff Nurse", "N5", "2950.00", "full_time"),
    ("Noah Fischer", "Healthcare Assistant", "H3", "2050.00", "full_time"),
]
PER_WARD = 4
# Other departments' staff: name, title, department, grade, salary.
OTHER_STAFF = [
    ("Maya Goldberg", "Paediatric Nurse", "Paediatrics", "N5", "2950.00"),
    ("Nikhil Rao", "Cardiac Physiologist", "Cardiology", "T5", "3050.00"),
    ("Olga Petrenko", "Physiotherapist", "Orthopaedics", "T5", "3000.00"),
    ("Pedro Alves", "Midwife", "Obstetrics & Gynaecology", "N6", "3350.00"),
    ("Qian Li", "Pharmacy Technician", "Pharmacy", "P3", "2400.00"),
    ("Rosa Jiménez", "Medical Secretary", "General Medicine", "A3", "2150.00"),
    ("Samuel Adeyemi", "Porter", "Administration", "S2", "1850.00"),
    ("Tereza Dvořáková", "Payroll Officer", "Finance", "A4", "2700.00"),
    ("Usman Qureshi", "Clinic Coordinator", "Cardiology", "A4", "2600.00"),
]
# kind, start hour, hours: a four-day rotation; four people a ward, each a day further on,
# cover every day's day, evening and night shift with one of them off.
SHIFT_PATTERN = [("day", 7, 8), ("evening", 15, 8), ("night", 23, 8), None]
ROSTER_WEEKS_BACK = 5
ROSTER_DAYS = 7 * (ROSTER_WEEKS_BACK + 1 + 4)  # the last five weeks, this one, the next four
# Each sign-in's own leave (My work): kind, reason of the request waiting after the roster.
OWN_LEAVE = {
    "admin": ("annual", "Long weekend"),
    "receptionist": ("annual", "Family visit"),
    "doctor": ("study", "Cardiology conference"),
    "nurse": ("annual", "Sister's wedding"),
    "pharmacist": ("study", "Antimicrobial stewardship course"),
    "billing_clerk": ("annual", "Moving house"),
    "hr_officer": ("annual", "Holiday"),
    "manager": ("annual", "Holiday"),
}


def _users(ctx: SeedContext) -> list[User]:
    with ctx.session_factory() as s:
        return list(s.scalars(select(User).where(User.active).order_by(User.id)))


def _actor(users: list[User], role: str) -> Actor:
    user = next((u for u in users if role in u.roles), None)
    if user is None:
        return Actor.system("seed-demo")
    return Actor(
        user_id=user.id, username=user.username, roles=tuple(user.roles), workstation="seed"
    )


def _departments(ctx: SeedContext) -> dict[str, int]:
    with ctx.session_factory() as s:
        found = {d.name: d.id for d in s.scalars(select(Department))}
    for name, location in SUPPORT_DEPARTMENTS:
        if name not in found:
            found[name] = scheduling.create_department(ctx.uow(), name=name, location=location).id
    return found


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as s:
        if s.scalar(select(StaffMember.id).where(StaffMember.employee_number == FIRST_NUMBER)):
            return
        wards = list(s.scalars(select(Ward).where(Ward.active).order_by(Ward.id)))
        doctor_departments = {
            d.user_id: d.department_id for d in s.scalars(select(Doctor).where(Doctor.active))
        }
    users = _users(ctx)
    hr, manager = _actor(users, "hr_officer"), _actor(users, "manager")
    departments = _departments(ctx)
    hospital = ctx.runtime.hospital
    today = hospital.today()
    rng = ctx.rng
    number = 1001

    def hire(years_back: int) -> date:
        return today.replace(day=1) - timedelta(days=365 * years_back + rng.randint(0, 300))

    def add(**fields: object) -> int:
        nonlocal number
        view = staff_service.create_staff(
            ctx.uow(hr), employee_number=f"E{number}", phone=f"+44 20 7946 {number:04d}", **fields
        )
        number += 1
        return view.id

    # Every sign-in gets its record (doctors in their clinic's department).
    nurses_with_sign_in: list[int] = []
    signed_in: list[tuple[int, str, int]] = []  # (staff id, role, department id)
    for user in users:
        role = next((r for r in user.roles if r in ROLE_JOBS), None)
        if role is None:
            continue
        title, department, grade, salary = ROLE_JOBS[role]
        department_id = doctor_departments.get(user.id) or departments.get(department)
        if department_id is None:
            continue
        staff_id = add(
            user_id=user.id,
            full_name=user.full_name,
            job_title=title,
            department_id=department_id,
            employment_type="full_time",
            grade=grade,
            hire_date=hire(rng.randint(1, 9)),
            base_monthly_salary=Decimal(salary),
        )
        if role == "nurse":
            nurses_with_sign_in.append(staff_id)
        signed_in.append((staff_id, role, department_id))
    unsigned: list[int] = []
    for name, title, grade, salary, kind in WARD_STAFF:
        unsigned.append(
            add(
                full_name=name,
                job_title=title,
                department_id=departments["Nursing"],
                employment_type=kind,
                grade=grade,
                hire_date=hire(rng.randint(1, 6)),
                base_monthly_salary=Decimal(salary),
            )
        )
    # Each ward's team of four; a signed-in nurse leads the first wards (the demo nurse's
    # own shifts then show on her record).
    ward_team: list[int] = []
    for lead in nurses_with_sign_in[:2]:
        ward_team += [lead, *unsigned[: PER_WARD - 1]]
        unsigned = unsigned[PER_WARD - 1 :]
    ward_team += unsigned
    others = []
    for name, title, department, grade, salary in OTHER_STAFF:
        if department in departments:
            others.append(
                add(
                    full_name=name,
                    job_title=title,
                    department_id=departments[department],
                    employment_type="full_time",
                    grade=grade,
                    hire_date=hire(rng.randint(1, 8)),
                    base_monthly_salary=Decimal(salary),
                )
            )
    # A joiner this month (pro-rated in this month's pay) and a leaver last month.
    add(
        full_name="Yara Haddad",
        job_title="Staff Nurse",
        department_id=departments["Nursing"],
        employment_type="full_time",
        grade="N5",
        hire_date=today.replace(day=1) + timedelta(days=min(9, today.day - 1)),
        base_monthly_salary=Decimal("2950.00"),
    )
    last_month_end = today.replace(day=1) - timedelta(days=1)
    add(
        full_name="Zoltan Kovacs",
        job_title="Healthcare Assistant",
        department_id=departments["Nursing"],
        employment_type="part_time",
        grade="H3",
        hire_date=hire(3),
        end_date=last_month_end.replace(day=min(17, last_month_end.day)),
        base_monthly_salary=Decimal("1650.00"),
    )
    _seed_roster(ctx, hr, ward_team, wards, today)
    on_wards = set(ward_team[: PER_WARD * len(wards)])
    _seed_desk_shifts(ctx, hr, [p for p in signed_in if p[0] not in on_wards], today)
    _seed_leave(ctx, hr, manager, ward_team, others, today)
    _seed_own_leave(ctx, hr, manager, signed_in, today)
    _seed_payroll(ctx, hr, today)
    _seed_reviews(ctx, manager, ward_team + others, today)
    log.info("seeded %d staff records", number - 1001)


def _seed_roster(
    ctx: SeedContext, hr: Actor, team: list[int], wards: list[Ward], today: date
) -> None:
    """Ten weeks on the wards: four people a ward on a day–evening–night–off rotation."""
    if not wards:
        return
    zone = ctx.runtime.hospital.zone
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=ROSTER_WEEKS_BACK)
    for index, staff_id in enumerate(team):
        if index // PER_WARD >= len(wards):
            break
        ward = wards[index // PER_WARD]
        for offset in range(ROSTER_DAYS):
            pattern = SHIFT_PATTERN[(offset + index) % len(SHIFT_PATTERN)]
            if pattern is None:
                continue
            kind, hour, hours = pattern
            starts = datetime.combine(first + timedelta(days=offset), time(hour), zone)
            try:
                roster.add_shift(
                    ctx.uow(hr),
                    staff_id=staff_id,
                    ward_id=ward.id,
                    department_id=None,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=hours),
                    kind=kind,
                    note=None,
                )
            except DomainError:
                continue  # e.g. before this person's hire date


def _seed_desk_shifts(
    ctx: SeedContext, hr: Actor, people: list[tuple[int, str, int]], today: date
) -> None:
    """The other sign-ins work weekday day shifts in their department over the same ten
    weeks (doctors 08:00–17:00 and on call on Thursday evenings; the rest 08:30–16:30)."""
    zone = ctx.runtime.hospital.zone
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=ROSTER_WEEKS_BACK)
    for staff_id, role, department_id in people:
        for offset in range(ROSTER_DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            plan = [("day", time(8), 9)] if role == "doctor" else [("day", time(8, 30), 8)]
            if role == "doctor" and day.weekday() == 3:
                plan.append(("on_call", time(17), 6))
            for kind, start_time, hours in plan:
                starts = datetime.combine(day, start_time, zone)
                try:
                    roster.add_shift(
                        ctx.uow(hr),
                        staff_id=staff_id,
                        ward_id=None,
                        department_id=department_id,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=hours),
                        kind=kind,
                        note=None,
                    )
                except DomainError:
                    continue


def _seed_own_leave(
    ctx: SeedContext,
    hr: Actor,
    manager: Actor,
    people: list[tuple[int, str, int]],
    today: date,
) -> None:
    """Each sign-in's own leave for My work: three days approved before the roster began
    (nothing to re-roster) and a request waiting after it ends."""
    roster_start = today - timedelta(days=today.weekday()) - timedelta(weeks=ROSTER_WEEKS_BACK)
    roster_end = roster_start + timedelta(days=ROSTER_DAYS)
    for index, (staff_id, role, _department) in enumerate(people):
        kind, reason = OWN_LEAVE.get(role, ("annual", "Holiday"))
        past_start = roster_start - timedelta(days=30 - index % 5)
        taken = roster.file_leave(
            ctx.uow(hr),
            staff_id=staff_id,
            kind="annual",
            starts_on=past_start,
            ends_on=past_start + timedelta(days=2),
            reason="Short break",
        )
        # Nobody decides their own leave: the manager's is decided by HR.
        decider = hr if role == "manager" else manager
        with suppress(DomainError):  # e.g. no manager sign-in: the request stays pending
            roster.decide_leave(
                ctx.uow(decider), taken.id, version=taken.version, decision="approve", note=None
            )
        ahead = roster_end + timedelta(days=7 + index % 7)
        roster.file_leave(
            ctx.uow(hr),
            staff_id=staff_id,
            kind=kind,
            starts_on=ahead,
            ends_on=ahead + timedelta(days=2 if kind == "study" else 4),
            reason=reason,
        )


def _seed_leave(
    ctx: SeedContext,
    hr: Actor,
    manager: Actor,
    team: list[int],
    others: list[int],
    today: date,
) -> None:
    pending = [
        (team[1], "annual", 21, 25, "Family wedding abroad"),
        (others[0] if others else team[2], "study", 28, 29, "Paediatric life support course"),
    ]
    for staff_id, kind, start, end, reason in pending:
        roster.file_leave(
            ctx.uow(hr),
            staff_id=staff_id,
            kind=kind,
            starts_on=today + timedelta(days=start),
            ends_on=today + timedelta(days=end),
            reason=reason,
        )
    if len(others) > 2:
        approved = roster.file_leave(
            ctx.uow(hr),
            staff_id=others[2],
            kind="annual",
            starts_on=today + timedelta(days=14),
            ends_on=today + timedelta(days=18),
            reason="Half-term holiday",
        )
        roster.decide_leave(
            ctx.uow(manager), approved.id, version=approved.version, decision="approve", note=None
        )


def _seed_payroll(ctx: SeedContext, hr: Actor, today: date) -> None:
    """The two months before this one, paid and final."""
    this_month = today.replace(day=1)
    last = (this_month - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    for period in (before, last):
        run = payroll.create_pay_run(ctx.uow(hr), period=period)
        payroll.finalise_pay_run(ctx.uow(hr), run.id, version=run.version)


def _seed_reviews(ctx: SeedContext, manager: Actor, people: list[int], today: date) -> None:
    year = today.year - 1
    notes = [
        (5, "Calm, precise handovers; mentors new starters.", "Lead the ward's handover audit."),
        (4, "Reliable on nights; good rapport with families.", "Complete the IV therapy course."),
        (3, "Solid clinical skills.", "Improve documentation timeliness on busy shifts."),
        (4, "Proactive about infection control.", "Take on the link-nurse role for sepsis."),
    ]
    for index, (rating, strengths, goals) in enumerate(notes):
        if index >= len(people):
            break
        review = staff_service.create_review(
            ctx.uow(manager),
            staff_id=people[index],
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            rating=rating,
            strengths=strengths,
            goals=goals,
        )
        if index < 3:
            staff_service.finalise_review(ctx.uow(manager), review.id, version=review.version)
