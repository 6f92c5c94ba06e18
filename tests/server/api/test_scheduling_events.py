"""A booking, check-in or cancellation made on one workstation reaches the event stream of
another within two seconds (real uvicorn, real LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx
import pytest

from tests.server.scheduling_factories import make_doctor, make_patient, tomorrow_at

DEADLINE_SECONDS = 2.0


class EventReader:
    """Reads an SSE stream on a background thread; events land in ``events``."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=30)) as client,
            client.stream("GET", url + "/api/v1/events", headers=headers) as response,
        ):
            kind = None
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: ") and kind:
                    self.events.put((kind, json.loads(line[len("data: ") :])))
                    kind = None

    def wait_for(self, kind: str, predicate, timeout: float):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got_kind, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got_kind == kind and predicate(data):
                return data
        return None

    def close(self) -> None:
        self._stop.set()


@pytest.fixture
def reader(live_server, make_user, login):  # type: ignore[no-untyped-def]
    events = EventReader(live_server.url, login(*make_user("doctor")))
    assert events.connected.wait(10), "event stream did not open"
    yield events
    events.close()


def test_booking_check_in_and_cancel_reach_another_client_within_two_seconds(
    live_server, reader, make_user, login, db, settings
):
    factory = db.owner_session_factory()
    doctor = make_doctor(factory, settings)
    patient = make_patient(factory, settings)
    reception = login(*make_user("receptionist"))
    with httpx.Client(base_url=live_server.url, headers=reception, timeout=10) as http:
        sent = time.monotonic()
        booked = http.post(
            "/api/v1/appointments",
            json={
                "patient_id": patient,
                "doctor_id": doctor.id,
                "start": tomorrow_at(settings, 9).isoformat(),
            },
        )
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        event = reader.wait_for(
            "appointment.booked",
            lambda d: d.get("appointment_id") == appointment_id,
            DEADLINE_SECONDS,
        )
        assert event is not None, "booking not seen on the stream within 2 s"
        assert time.monotonic() - sent < DEADLINE_SECONDS + 1
        assert event["doctor_id"] == doctor.id
        assert set(event) <= {"appointment_id", "doctor_id", "patient_id", "date"}

        assert http.post(f"/api/v1/appointments/{appointment_id}/check-in").status_code == 200
        assert (
            reader.wait_for(
                "appointment.checked_in",
                lambda d: d.get("appointment_id") == appointment_id,
                DEADLINE_SECONDS,
            )
            is not None
        )
        assert (
            reader.wait_for(
                "queue.updated", lambda d: d.get("doctor_id") == doctor.id, DEADLINE_SECONDS
            )
            is not None
        )

        assert (
            http.post(
                f"/api/v1/appointments/{appointment_id}/cancel", json={"reason": "test"}
            ).status_code
            == 200
        )
        assert (
            reader.wait_for(
                "appointment.cancelled",
                lambda d: d.get("appointment_id") == appointment_id,
                DEADLINE_SECONDS,
            )
            is not None
        )
