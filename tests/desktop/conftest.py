"""Desktop test fixtures: a fake contract server over httpx.MockTransport, real widgets."""

import os

# Before any Qt import: headless Qt, and a keyring that stores nothing.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
os.environ.pop("HMS_IDLE_LOCK_MINUTES", None)

import pytest

from hms_contract.auth import MeRead
from hms_desktop.api.client import ApiClient
from hms_desktop.settings import DesktopSettings
from hms_desktop.tasks import TaskRunner
from tests.desktop.fake_server import ADMIN_TOTP, BASE_URL, CREATED_FAKES, FakeHmsServer

PASSWORDS = {"admin": "admin-pass-123", "reception": "reception-pass", "manager": "manager-pass"}


@pytest.fixture(autouse=True)
def fakes_answer_by_the_contract():
    """Fail a test whose fake server met a request it could not answer by the contract
    (a handler error, or an answer its route's contract model refused)."""
    CREATED_FAKES.clear()
    yield
    errors = [error for fake in CREATED_FAKES for error in fake.errors]
    CREATED_FAKES.clear()
    assert not errors, "the fake server could not answer by the contract:\n" + "\n".join(errors)


@pytest.fixture
def fake_server() -> FakeHmsServer:
    return FakeHmsServer.with_demo_data(extra_users=117, audit_entries=130)


@pytest.fixture
def api_factory(fake_server):
    clients: list[ApiClient] = []

    def factory(url: str = BASE_URL) -> ApiClient:
        client = ApiClient(
            url, transport=fake_server.transport(), workstation="TEST-WS", retry_backoff=0.0
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def signed_in(api_factory):
    """``signed_in("admin")`` → an ApiClient signed in as that demo user, and ``/me``."""

    def sign_in(username: str) -> tuple[ApiClient, MeRead]:
        api = api_factory()
        api.login(username, PASSWORDS[username], ADMIN_TOTP if username == "admin" else None)
        return api, api.me()

    return sign_in


@pytest.fixture
def tasks(qapp):
    runner = TaskRunner()
    yield runner
    runner.wait_for_done(5000)
    qapp.processEvents()


@pytest.fixture
def desktop_settings() -> DesktopSettings:
    return DesktopSettings.in_memory()


@pytest.fixture
def make_main_window(qtbot, tasks, signed_in):
    from hms_desktop.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(username: str = "admin", **kwargs) -> MainWindow:
        api, me = signed_in(username)
        kwargs.setdefault("idle_lock_ms", 3600_000)
        window = MainWindow(api, me, tasks, **kwargs)
        qtbot.addWidget(window)
        window.resize(1200, 760)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=15000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
