"""Live events: a change committed anywhere reaches every SSE subscriber within two seconds."""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx

from tests.conftest import TEST_PASSWORD, unique_name


def _login(url: str, username: str, password: str, totp: str | None = None) -> dict[str, str]:
    body = {"username": username, "password": password}
    if totp:
        body["totp"] = totp
    token = httpx.post(f"{url}/api/v1/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _listen(
    url: str,
    headers: dict[str, str],
    out: queue.Queue,
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=10) as response:
        out.put(("status", response.status_code, response.headers.get("content-type")))
        event: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            if stop.is_set():
                return
            if not line:
                if "event" in event:
                    out.put(("event", event))
                event = {}
                continue
            if ":" in line and not line.startswith(":"):
                key, _, value = line.partition(":")
                event[key] = value.strip()


def test_user_created_event_reaches_another_subscriber_fast(live_server, make_user):
    from tests.conftest import totp_now

    # Issue 8: user events go to the users who may administer accounts, so the listener is
    # a second administrator (it was a nurse, who no longer receives them).
    watcher_user, watcher_pw, watcher_secret = make_user("admin")
    watcher = _login(live_server.url, watcher_user, watcher_pw, totp_now(watcher_secret))
    admin_user, admin_pw, secret = make_user("admin")
    admin = _login(live_server.url, admin_user, admin_pw, totp_now(secret))
    received: queue.Queue = queue.Queue()
    ready, stop = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=_listen, daemon=True, args=(live_server.url, watcher, received, ready, stop)
    )
    listener.start()
    assert ready.wait(5)
    _, status, content_type = received.get(timeout=5)
    assert status == 200 and content_type.startswith("text/event-stream")
    created = httpx.post(
        f"{live_server.url}/api/v1/users",
        headers=admin,
        json={
            "username": unique_name("ev_"),
            "full_name": "Event Probe",
            "roles": ["nurse"],
            "password": TEST_PASSWORD,
        },
    ).json()
    sent_at = time.monotonic()
    deadline = sent_at + 2.0
    while True:
        _, event = received.get(timeout=max(0.05, deadline - time.monotonic()))
        data = json.loads(event["data"])
        if event["event"] == "user.created" and data["user_id"] == created["id"]:
            break
    assert time.monotonic() - sent_at < 2.0
    assert int(event["id"]) > 0
    assert "Event Probe" not in event["data"]  # ids only, never names
    stop.set()


def test_resume_with_last_event_id_replays_missed_events(live_server, make_user, db):
    from sqlalchemy import text

    from tests.conftest import totp_now

    admin_user, admin_pw, secret = make_user("admin")  # issue 8: user events are for admins
    headers = _login(live_server.url, admin_user, admin_pw, totp_now(secret))
    with db.owner_engine.connect() as conn:
        last = conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox_events")).scalar_one()
    make_user("doctor")  # emits user.created while we are "offline"
    frames = []
    with httpx.stream(
        "GET",
        f"{live_server.url}/api/v1/events",
        headers={**headers, "Last-Event-ID": str(last)},
        timeout=5,
    ) as response:
        for line in response.iter_lines():
            frames.append(line)
            if line.startswith("event: user.created"):
                break
    assert any(f.startswith("event: user.created") for f in frames)


def test_events_need_a_token(live_server):
    assert httpx.get(f"{live_server.url}/api/v1/events").status_code == 401
