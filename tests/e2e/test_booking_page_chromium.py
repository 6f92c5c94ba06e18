"""A patient books and cancels on the self-booking page in real headless Chromium.

Uses Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright's Python package —
no browser download. Skips, saying why, only when that browser (or Playwright) is missing.
Screenshots at a phone-sized viewport go to ``HMS_E2E_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.scheduling import Appointment
from hms_server.adapters.uow import Actor
from hms_server.services.patients import register_patient
from tests.server.scheduling_factories import make_doctor
from tests.wiring import wired_uow

CHROMIUM = os.environ.get("HMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOB = date(1968, 7, 21)

pytestmark = [
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() or shutil.which("chromium")),
        reason=f"Chromium not installed at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]


@pytest.fixture
def browser_page(tmp_path):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright's Python package is not installed"
    )
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
        )
        page = context.pages[0] if context.pages else context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            yield page, problems, sync_api.expect
        finally:
            context.close()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("HMS_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_patient_books_and_cancels_on_the_page_in_chromium(live_server, db, settings, browser_page):
    page, problems, expect = browser_page
    factory = db.owner_session_factory()
    doctor = make_doctor(factory, settings, specialty="Dermatology")
    patient = register_patient(
        wired_uow(factory, Actor.system("tests")),
        mrn_prefix=settings.mrn_prefix,
        given_name="Browser",
        family_name="Patient"
        + uuid.uuid4().hex[:4].translate(str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")),
        sex="male",
        date_of_birth=DOB,
        phone="+44 7700 900321",
        confirm_new=True,
    )
    day = (date.today() + timedelta(days=2)).isoformat()

    page.goto(live_server.url + "/book")
    page.wait_for_selector(f'#department option[value="{doctor.department_id}"]', state="attached")
    _shot(page, "booking-mobile-empty")
    page.get_by_label("Department", exact=True).select_option(str(doctor.department_id))
    page.get_by_label("Doctor", exact=True).select_option(str(doctor.id))
    page.get_by_label("Day", exact=True).fill(day)
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_selector("#slots label")
    assert "free time" in page.locator("#slots-status").inner_text()
    first_slot = page.locator("#slots label").first
    chosen_time = first_slot.inner_text().strip()
    first_slot.click()

    # A wrong date of birth gets the neutral answer, shown in the live region.
    page.get_by_role("textbox", name="Hospital number (MRN)").fill(patient.mrn)
    page.locator("#dob-existing").fill("1990-01-01")
    page.get_by_role("button", name="Book appointment").click()
    # (Waits use locators: the page's CSP forbids the eval that wait_for_function needs.)
    expect(page.locator("#book-error")).to_contain_text("could not verify")

    page.locator("#dob-existing").fill(DOB.isoformat())
    _shot(page, "booking-mobile-filled")
    page.get_by_role("button", name="Book appointment").click()
    reference = page.locator("#booking-reference")
    reference.wait_for()
    ref = reference.inner_text().strip()
    assert chosen_time in page.locator("#confirmation").inner_text()
    _shot(page, "booking-mobile-confirmed")

    with factory() as session:
        appointment = session.scalars(
            select(Appointment).where(Appointment.booking_reference == ref)
        ).one()
        assert appointment.source == "self" and appointment.patient_id == patient.id
        assert (
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "appointment.self_book",
                    AuditEntry.patient_id == patient.id,
                )
            )
            .one()
            .address
            == "127.0.0.1"
        )

    page.get_by_role("textbox", name="Booking reference").fill(ref)
    page.locator("#dob-cancel").fill(DOB.isoformat())
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.locator("#cancel-result")).to_contain_text("is cancelled")
    _shot(page, "booking-mobile-cancelled")
    with factory() as session:
        assert (
            session.scalars(
                select(Appointment.status).where(Appointment.booking_reference == ref)
            ).one()
            == "cancelled"
        )
    # 422 answers are logged by Chromium as failed resources; anything else (CSP
    # violations, script errors) is a defect.
    assert [p for p in problems if "status of 422" not in p] == []


def test_page_works_with_the_keyboard_alone(live_server, browser_page):
    page, problems, _ = browser_page
    page.goto(live_server.url + "/book")
    page.wait_for_selector("#department option:nth-child(2)", state="attached")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "department"
    # Every form control has a label the screen reader announces.
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter(el => el.type !== 'radio' && !(el.labels && el.labels.length))
        .map(el => el.id)""")
    assert unlabeled == []
    assert page.locator("#slots-status").get_attribute("aria-live") == "polite"
    assert page.locator("#book-error").get_attribute("role") == "alert"
    assert problems == []


def test_an_existing_patient_booking_as_new_is_not_registered_twice(
    live_server, db, settings, browser_page
):
    """The trial's duplicate: an existing patient picks "I am a new patient" and types the
    same details. The booking lands on their record; no second MRN is made or shown."""
    from hms_server.adapters.orm.patients import Patient

    page, problems, expect = browser_page
    factory = db.owner_session_factory()
    doctor = make_doctor(factory, settings, specialty="Rheumatology")
    family = "Again" + uuid.uuid4().hex[:5].translate(
        str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")
    )
    patient = register_patient(
        wired_uow(factory, Actor.system("tests")),
        mrn_prefix=settings.mrn_prefix,
        given_name="Ewa",
        family_name=family,
        sex="female",
        date_of_birth=DOB,
        phone="+48 601 555 0142",
        confirm_new=True,
    )
    day = (date.today() + timedelta(days=3)).isoformat()

    page.goto(live_server.url + "/book")
    page.wait_for_selector(f'#department option[value="{doctor.department_id}"]', state="attached")
    page.get_by_label("Department", exact=True).select_option(str(doctor.department_id))
    page.get_by_label("Doctor", exact=True).select_option(str(doctor.id))
    page.get_by_label("Day", exact=True).fill(day)
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_selector("#slots label")
    page.locator("#slots label").first.click()
    page.get_by_label("No, I am a new patient").check()
    page.get_by_label("First name").fill("ewa")
    page.get_by_label("Last name").fill(family.upper())
    page.locator("#dob-new").fill(DOB.isoformat())
    page.get_by_label("Mobile phone").fill("+48 601-555-0142")
    page.get_by_role("button", name="Book appointment").click()
    reference = page.locator("#booking-reference")
    reference.wait_for()
    ref = reference.inner_text().strip()
    expect(page.locator("#confirmation")).not_to_contain_text("Your hospital number")
    _shot(page, "booking-mobile-existing-as-new")

    with factory() as session:
        appointment = session.scalars(
            select(Appointment).where(Appointment.booking_reference == ref)
        ).one()
        assert appointment.patient_id == patient.id
        namesakes = session.scalars(select(Patient.id).where(Patient.family_name == family)).all()
        assert namesakes == [patient.id]
    assert problems == []
