"""What every simulated member of staff shares: signing in, the prepared data, think time."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, ClassVar

from locust import FastHttpUser, between

API = "/api/v1"
# Access tokens live 15 minutes; like the desktop, refresh well before (a soak runs 30).
REFRESH_AFTER_SECONDS = 10 * 60


def load_data() -> dict[str, Any]:
    path = os.environ.get("HMS_LOAD_DATA")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


class HmsUser(FastHttpUser):
    """A signed-in member of staff at a workstation. Subclasses set ``account`` (a key of the
    prepared data's ``accounts``) and their tasks."""

    abstract = True
    # Staff read the screen, type and talk to the patient between requests.
    wait_time = between(1.0, 4.0)
    account: ClassVar[str] = ""
    data: ClassVar[dict[str, Any]] = load_data()
    connection_timeout = 30.0
    network_timeout = 60.0

    def on_start(self) -> None:
        # Each simulated person signs in with an account of their own (a doctor account may
        # be open on two workstations when there are more users than doctors).
        accounts = self.data["accounts"][self.account]
        counter = type(self)._next_account = getattr(type(self), "_next_account", -1) + 1
        username = accounts[counter % len(accounts)]
        with self.client.post(
            f"{API}/auth/login",
            name="sign in",
            catch_response=True,
            json={"username": username, "password": self.data["password"]},
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in {response.status_code}")
                raise RuntimeError("could not sign in")
            self._take_tokens(response.json())
        self.username = username
        self.headers = {
            "Authorization": f"Bearer {self.access_token}",
            "X-Workstation": f"ws-{uuid.uuid4().hex[:6]}",
        }

    def _take_tokens(self, pair: dict[str, Any]) -> None:
        self.access_token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]
        self.tokens_at = time.monotonic()

    def _fresh(self) -> None:
        """Rotate the token pair before the access token expires, as the desktop does."""
        if time.monotonic() - self.tokens_at < REFRESH_AFTER_SECONDS:
            return
        with self.client.post(
            f"{API}/auth/refresh",
            name="refresh token",
            catch_response=True,
            json={"refresh_token": self.refresh_token},
        ) as response:
            if response.status_code != 200:
                response.failure(f"refresh {response.status_code}")
                return
            self._take_tokens(response.json())
        self.headers["Authorization"] = f"Bearer {self.access_token}"

    def get(self, path: str, name: str, **params: Any) -> Any:
        self._fresh()
        with self.client.get(
            f"{API}{path}", name=name, headers=self.headers, params=params, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return None
            return response.json()

    def post(
        self,
        path: str,
        name: str,
        body: Any,
        *,
        ok: tuple[int, ...] = (200, 201),
        expected: tuple[int, ...] = (),
        idempotent: bool = True,
    ) -> Any:
        """POST; ``expected`` statuses are correct answers under load (e.g. 409 slot taken)
        and count as successes, anything else as an error."""
        self._fresh()
        headers = dict(self.headers)
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        with self.client.post(
            f"{API}{path}", name=name, headers=headers, json=body, catch_response=True
        ) as response:
            if response.status_code in ok:
                return response.json() if response.text else {}
            if response.status_code in expected:
                response.success()
                return None
            response.failure(f"{response.status_code} {response.text[:120]}")
            return None
