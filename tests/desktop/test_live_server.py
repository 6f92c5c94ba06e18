"""The desktop against the real server on real PostgreSQL (fixtures from tests/conftest.py).

``live_server.url`` is the base URL of a running server; ``make_user(role)`` returns
``(username, password)`` or, for roles that need TOTP, ``(username, password, secret)``.
"""

import pytest

from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem
from hms_desktop.screenshot_tour import run_screenshot_tour

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _credentials(made: tuple) -> tuple[str, str, str | None]:
    username, password, *rest = made
    return username, password, (rest[0] if rest else None)


@pytest.fixture
def live_api(live_server):
    api = ApiClient(live_server.url, workstation="DESKTOP-LIVE-TEST")
    yield api
    api.close()


def test_login_and_me_against_the_real_server(live_api, make_user):
    username, password, _secret = _credentials(make_user("receptionist"))
    user = live_api.login(username, password)
    me = live_api.me()
    assert user.username == username
    assert me.username == username
    assert "receptionist" in me.roles
    assert me.workspaces == ["reception", "my_work"]
    assert live_api.health().status == "ok"


def test_wrong_password_is_a_readable_problem(live_api, make_user):
    username, _password, _secret = _credentials(make_user("receptionist"))
    with pytest.raises(ApiProblem) as caught:
        live_api.login(username, "definitely-not-the-password")
    assert caught.value.status == 401
    assert caught.value.code == "invalid_credentials"
    assert caught.value.detail


def test_screenshot_tour_for_a_receptionist(qapp, live_server, make_user, tmp_path):
    username, password, secret = _credentials(make_user("receptionist"))
    totp = None
    if secret:
        import pyotp

        totp = pyotp.TOTP(secret).now()
    messages: list[str] = []
    code = run_screenshot_tour(
        live_server.url, username, password, tmp_path, totp=totp, log=messages.append
    )
    assert code == 0, messages
    for name in ("login.png", "reception.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
