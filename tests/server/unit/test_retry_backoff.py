"""Retry policy of the message outbox and the pure helpers around it (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hms_server.adapters.messaging.sms_http import normalize_phone
from hms_server.api.routers.booking import csrf_token_valid, new_csrf_token
from hms_server.domain.hospital import Hospital
from hms_server.services.messaging import (
    BACKOFF_SCHEDULE,
    MAX_ATTEMPTS,
    AppointmentFacts,
    mask_recipient,
    next_retry_delay,
    render,
)
from hms_server.services.self_booking import normalize_reference


def test_backoff_waits_1_5_15_60_minutes_then_gives_up():
    waits = [next_retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=60),
        None,
    ]
    assert MAX_ATTEMPTS == len(BACKOFF_SCHEDULE) + 1 == 5


def test_backoff_never_retries_sooner_than_the_gateway_asks_nor_later_than_a_day():
    assert next_retry_delay(1, retry_after=300) == timedelta(minutes=5)
    assert next_retry_delay(3, retry_after=10) == timedelta(minutes=15)
    assert next_retry_delay(1, retry_after=10**9) == timedelta(days=1)
    assert next_retry_delay(5, retry_after=1) is None


@pytest.mark.parametrize("attempts", [0, -1])
def test_backoff_needs_at_least_one_failed_attempt(attempts):
    with pytest.raises(ValueError, match="attempts"):
        next_retry_delay(attempts)


def test_message_text_names_doctor_time_and_reference_but_no_patient():
    facts = AppointmentFacts(
        starts_at=datetime(2030, 1, 7, 9, 30, tzinfo=UTC),
        doctor="Dr Grey",
        department="Cardiology",
        location="Room 4",
        reference="K7MP-Q2XZ",
    )
    for template in (
        "appointment_confirmation",
        "appointment_reminder",
        "appointment_rescheduled",
        "appointment_cancelled",
    ):
        subject, body = render(template, facts, Hospital(name="HMS Demo Hospital"))
        assert subject and "Dr Grey" in body and "K7MP-Q2XZ" in body
        assert "Mon 7 Jan 2030 at 09:30" in body
    with pytest.raises(ValueError):
        render("nonsense", facts, Hospital())


def test_recipients_are_masked_for_admin_lists():
    assert mask_recipient("+447700900123") == "+44••••••0123"
    assert mask_recipient("jane.doe@example.org") == "j•••@example.org"
    assert mask_recipient("123") == "•••"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("0044 (7700) 900-123", "+447700900123"),
        ("07700.900.123", "07700900123"),
        ("call me", None),
        ("12", None),
        ("", None),
    ],
)
def test_phone_numbers_are_normalised_or_refused(typed, expected):
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("k7mp-q2xz", "K7MP-Q2XZ"),
        (" K7MP Q2XZ ", "K7MP-Q2XZ"),
        ("K7MPQ2XZ", "K7MP-Q2XZ"),
        ("K7MP-Q2X0", None),
        ("K7MP-Q2XZZ", None),
        ("", None),
    ],
)
def test_booking_references_are_normalised_or_refused(typed, expected):
    assert normalize_reference(typed) == expected


def test_csrf_tokens_are_signed_and_expire():
    secret = "s" * 40
    token = new_csrf_token(secret, now=1_000_000)
    assert csrf_token_valid(secret, token, now=1_000_100)
    assert not csrf_token_valid("t" * 40, token, now=1_000_100)  # another server's secret
    assert not csrf_token_valid(secret, token, now=1_000_000 + 5 * 3600)  # expired
    nonce, issued, signature = token.split(".")
    assert not csrf_token_valid(secret, f"{nonce}.{int(issued) + 1}.{signature}", now=1_000_100)
    assert not csrf_token_valid(secret, None)
    assert not csrf_token_valid(secret, "garbage")
