"""The event stream delivers an event only to users who may read that kind of record
(issue 8: ``break_glass.granted``, with the patient id, went to every signed-in user, HR
officers included), and ends when the session does."""

from __future__ import annotations

import ast
import queue
import re
import threading
from pathlib import Path

import httpx
import pytest

import hms_server
from hms_server.domain.event_access import EVENT_READERS, may_receive
from hms_server.domain.permissions import Perm, permissions_for
from tests.conftest import totp_now
from tests.server.api.clinical_factories import new_patient

REASON = "Collapsed in the lobby, no record of medication"


def _published_kinds() -> set[str]:
    """Every event kind the server code publishes (``uow.publish("kind.what", ...)``, also
    f-strings such as ``f"{kind}.updated"`` resolved through the literal kinds passed)."""
    kinds: set[str] = set()
    for path in Path(hms_server.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "publish"
                and node.args
            ):
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    kinds.add(first.value.split(".", 1)[0])
                elif isinstance(first, ast.JoinedStr):
                    kinds.add("<f-string>")
    return kinds


def test_every_published_kind_has_readers():
    kinds = _published_kinds()
    assert {"break_glass", "user", "patient", "appointment", "encounter"} <= kinds
    # The one f-string publisher (clinical edits) sends "allergy.updated"/"problem.updated".
    kinds.discard("<f-string>")
    assert kinds - set(EVENT_READERS) == set()


@pytest.mark.parametrize(
    ("event_type", "role", "delivered"),
    [
        ("break_glass.granted", "hr_officer", False),
        ("break_glass.granted", "nurse", False),
        ("break_glass.granted", "admin", True),
        ("clinical_note.created", "receptionist", False),
        ("clinical_note.created", "doctor", True),
        ("appointment.booked", "manager", True),
        ("appointment.booked", "billing_clerk", False),
        ("patient.created", "hr_officer", False),
        ("user.created", "nurse", False),
        ("security.alert", "admin", True),
        ("security.alert", "manager", False),
        ("something_new.happened", "admin", False),
    ],
)
def test_events_go_to_the_roles_that_may_read_them(event_type, role, delivered):
    assert may_receive(event_type, permissions_for([role])) is delivered


class Stream:
    """An SSE subscriber on a background thread; ``types`` collects the event types."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.types: queue.Queue[str] = queue.Queue()
        self.ready, self.ended = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx.stream(
                "GET", f"{url}/api/v1/events", headers=headers, timeout=20
            ) as response:
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.ready.set()
                    if line.startswith("event: "):
                        self.types.put(line[len("event: ") :])
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def seen(self, wanted: str, seconds: float) -> bool:
        try:
            while True:
                if self.types.get(timeout=seconds) == wanted:
                    return True
        except queue.Empty:
            return False


def _token(url: str, username: str, password: str, secret: str | None = None) -> dict:
    body = {"username": username, "password": password}
    if secret:
        body["totp"] = totp_now(secret)
    answer = httpx.post(f"{url}/api/v1/auth/login", json=body).json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_break_glass_reaches_reviewers_but_not_hr(live_server, client, make_user, headers_for):
    url = live_server.url
    hr = Stream(url, _token(url, *make_user("hr_officer")))
    reviewer = Stream(url, _token(url, *make_user("admin")))
    assert hr.ready.wait(10) and reviewer.ready.wait(10)
    doctor = _token(url, *make_user("doctor"))
    patient = new_patient(client, headers_for)["id"]
    granted = httpx.post(
        f"{url}/api/v1/patients/{patient}/break-glass", headers=doctor, json={"reason": REASON}
    )
    assert granted.status_code == 201, granted.text
    assert reviewer.seen("break_glass.granted", 5)
    # Both listened to the same commits: HR gets nothing of it (its next ping is 1 s away).
    assert not hr.seen("break_glass.granted", 1.5)


def test_the_stream_ends_when_the_account_is_disabled(live_server, client, make_user, headers_for):
    url = live_server.url
    username, password = make_user("receptionist")
    stream = Stream(url, _token(url, username, password))
    assert stream.ready.wait(10)
    admin = headers_for("admin")
    target = client.get("/api/v1/users", params={"q": username}, headers=admin).json()
    assert (
        client.post(f"/api/v1/users/{target['items'][0]['id']}/disable", headers=admin).status_code
        == 200
    )
    # The session is re-checked at the next ping (events_ping_seconds = 1 in the tests).
    assert stream.ended.wait(5)


def test_the_filter_names_only_real_permissions():
    assert all(isinstance(p, Perm) for readers in EVENT_READERS.values() for p in readers)
    assert all(re.fullmatch(r"[a-z_]+", kind) for kind in EVENT_READERS)
