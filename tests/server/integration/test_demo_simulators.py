"""The demo's insurer and card gateway simulators start whatever random credentials the
demo draws: a token that begins with "-" once made argparse refuse the gateway's
``--api-key`` (about one demo start in thirty failed with "gateway_simulator did not
start")."""

from __future__ import annotations

import httpx
import pytest

from hms_server.adapters.billing import local_simulators


def test_credentials_that_look_like_options_still_start_the_simulators(monkeypatch):
    tokens = iter(["-leading-dash-key", "--double-dash-secret"])
    monkeypatch.setattr(local_simulators.secrets, "token_urlsafe", lambda n: next(tokens))
    env, running = local_simulators.demo_billing_environment("http://127.0.0.1:9")
    try:
        assert env["HMS_CARD_GATEWAY_API_KEY"] == "-leading-dash-key"
        assert env["HMS_CARD_GATEWAY_WEBHOOK_SECRET"] == "--double-dash-secret"
        assert all(sim.process.poll() is None for sim in running)

        # The gateway really took the key: it accepts that one and refuses another.
        def intent(key: str) -> int:
            return httpx.post(
                env["HMS_CARD_GATEWAY_URL"] + "/v1/payment_intents",
                headers={"Authorization": f"Bearer {key}"},
                json={"amount": 1250, "currency": "usd", "reference": "INV-T"},
                timeout=10,
            ).status_code

        assert intent("wrong") == 401
        assert intent("-leading-dash-key") in (200, 201)
    finally:
        for sim in running:
            local_simulators.stop_simulator(sim)


def test_a_simulator_that_cannot_start_says_why():
    with pytest.raises(RuntimeError, match=r"gateway_simulator did not start: .*--api-key"):
        local_simulators.start_simulator("gateway_simulator", "--webhook-secret=x")
