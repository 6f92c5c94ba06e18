"""ApiClient against the fake contract server (httpx.MockTransport)."""

import uuid

import httpx
import keyring.backend
import pytest
from keyring.backends import null
from keyring.errors import KeyringError, PasswordDeleteError

from hms_contract.clinical import DocumentRead
from hms_desktop.api.client import ApiClient, normalize_server_url
from hms_desktop.api.clinical import ClinicalApi
from hms_desktop.api.errors import ApiProblem, ServerUnavailableError, UnexpectedAnswerError
from hms_desktop.api.session_store import SERVICE_NAME, SessionStore
from hms_desktop.api.users import UsersApi
from hms_desktop.widgets.problems import describe_error
from tests.desktop.fake_clinical_server import DOCTOR_PASSWORD, FakeClinicalServer
from tests.desktop.fake_reception_server import FakeReceptionServer
from tests.desktop.fake_server import ADMIN_TOTP, BASE_URL, problem


def test_login_and_me_send_workstation_header(api_factory, fake_server):
    api = api_factory()
    user = api.login("reception", "reception-pass")
    me = api.me()
    assert user.username == "reception"
    assert me.workspaces == ["reception", "my_work"]
    assert all(r.headers["X-Workstation"] == "TEST-WS" for r in fake_server.requests)
    assert fake_server.requests_to("GET", "/me")[0].headers["Authorization"].startswith("Bearer ")


def test_expired_access_token_is_refreshed_once_and_the_call_retried(api_factory, fake_server):
    api = api_factory()
    api.login("reception", "reception-pass")
    old_refresh = api.refresh_token
    fake_server.expire_access_tokens()

    assert api.me().username == "reception"

    assert len(fake_server.requests_to("POST", "/auth/refresh")) == 1
    assert len(fake_server.requests_to("GET", "/me")) == 2
    assert api.refresh_token != old_refresh


def test_refresh_rotation_is_reported_to_the_listener(api_factory, fake_server):
    api = api_factory()
    api.login("reception", "reception-pass")
    seen: list[str | None] = []
    api.on_refresh_token_changed = seen.append
    fake_server.expire_access_tokens()
    api.me()
    assert seen == [api.refresh_token]


def test_failed_refresh_ends_the_session(api_factory, fake_server):
    api = api_factory()
    api.login("reception", "reception-pass")
    fake_server.expire_access_tokens()
    fake_server.revoke_refresh_tokens()  # the server ended the session

    with pytest.raises(ApiProblem) as caught:
        api.me()

    assert caught.value.status == 401
    assert caught.value.code == "not_authenticated"
    assert not api.is_authenticated
    assert api.refresh_token is None


def test_wrong_password_maps_to_problem(api_factory):
    api = api_factory()
    with pytest.raises(ApiProblem) as caught:
        api.login("reception", "nope")
    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")
    assert caught.value.detail == "Wrong username or password."


def test_totp_required_then_accepted(api_factory):
    api = api_factory()
    with pytest.raises(ApiProblem) as caught:
        api.login("admin", "admin-pass-123")
    assert caught.value.code == "totp_required"
    assert api.login("admin", "admin-pass-123", ADMIN_TOTP).roles == ["admin"]


def _client_with(handler) -> ApiClient:
    return ApiClient(BASE_URL, transport=httpx.MockTransport(handler), retry_backoff=0.0)


def test_validation_problem_lists_every_field():
    errors = [
        {"field": "body.password", "message": "too short"},
        {"field": "body.roles", "message": "unknown role"},
    ]
    api = _client_with(
        lambda r: problem(422, "validation_error", "Check the fields.", errors=errors)
    )
    with pytest.raises(ApiProblem) as caught:
        UsersApi(api).list_users()
    assert caught.value.code == "validation_error"
    assert caught.value.field_errors() == {"password": "too short", "roles": "unknown role"}


@pytest.mark.parametrize(("status", "code"), [(423, "account_locked"), (429, "too_many_attempts")])
def test_lockout_problems_carry_retry_after(status, code):
    api = _client_with(lambda r: problem(status, code, "Wait.", headers={"Retry-After": "42"}))
    with pytest.raises(ApiProblem) as caught:
        api.login("x", "y")
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (status, code, 42)


def test_non_json_error_still_becomes_a_problem():
    api = _client_with(lambda r: httpx.Response(500, text="<html>boom</html>"))
    with pytest.raises(ApiProblem) as caught:
        api.me()
    assert (caught.value.status, caught.value.code) == (500, "http_500")


def test_proxy_gateway_error_means_server_unavailable():
    api = _client_with(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(ServerUnavailableError):
        api.me()


def test_network_failure_becomes_server_unavailable(api_factory, fake_server):
    api = api_factory()
    fake_server.down = True
    with pytest.raises(ServerUnavailableError) as caught:
        api.login("reception", "reception-pass")
    assert caught.value.server == BASE_URL
    with pytest.raises(ServerUnavailableError):
        api.health()


def test_degraded_health_is_an_answer_not_an_error():
    api = _client_with(
        lambda r: httpx.Response(
            503, json={"status": "degraded", "database": "unreachable", "version": "1"}
        )
    )
    health = api.health()
    assert (health.status, health.database) == ("degraded", "unreachable")


def test_connect_errors_are_retried_before_giving_up():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"status": "ok", "database": "ok", "version": "1"})

    api = _client_with(handler)
    assert api.get("/me") == {"status": "ok", "database": "ok", "version": "1"}
    assert len(calls) == 3


def test_idempotency_key_is_reused_when_a_create_is_retried(fake_server):
    dropped = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/users") and not dropped:
            # The server processed the request but the answer was lost on the way back.
            fake_server.handle(request)
            dropped.append(request)
            raise httpx.ReadError("connection reset", request=request)
        return fake_server.handle(request)

    api = _client_with(flaky)
    api.login("admin", "admin-pass-123", ADMIN_TOTP)
    user = UsersApi(api).create_user(
        username="nina", full_name="Nina Nurse", roles=["nurse"], password="long-enough-pw"
    )

    posts = fake_server.requests_to("POST", "/users")
    assert len(posts) == 2
    keys = {r.headers["Idempotency-Key"] for r in posts}
    assert len(keys) == 1
    uuid.UUID(keys.pop(), version=4)
    assert [u.username for u in fake_server.users.values()].count("nina") == 1
    assert user.username == "nina"


def test_each_create_gets_a_new_idempotency_key(signed_in, fake_server):
    api, _me = signed_in("admin")
    users = UsersApi(api)
    users.create_user(username="a1", full_name="A One", roles=["nurse"], password="long-enough-1")
    users.create_user(username="a2", full_name="A Two", roles=["nurse"], password="long-enough-2")
    keys = [r.headers["Idempotency-Key"] for r in fake_server.requests_to("POST", "/users")]
    assert len(set(keys)) == 2


def test_non_create_post_is_not_resent_after_a_read_error():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadError("reset", request=request)

    api = _client_with(handler)
    with pytest.raises(ServerUnavailableError):
        api.login("x", "y")
    assert len(calls) == 1
    assert "Idempotency-Key" not in calls[0].headers


def test_logout_forgets_tokens(signed_in, fake_server):
    api, _me = signed_in("reception")
    api.logout()
    assert not api.is_authenticated
    assert api.refresh_token is None
    assert len(fake_server.requests_to("POST", "/auth/logout")) == 1


def test_input_the_contract_refuses_is_the_servers_422_and_nothing_is_sent(signed_in, fake_server):
    api, _me = signed_in("admin")
    before = len(fake_server.requests)
    with pytest.raises(ApiProblem) as caught:
        UsersApi(api).create_user(username="-x", full_name="", roles=["wizard"], password="short")
    assert (caught.value.status, caught.value.code) == (422, "validation_error")
    assert set(caught.value.field_errors()) == {"username", "full_name", "roles", "password"}
    assert len(fake_server.requests) == before


def test_an_answer_that_does_not_fit_the_contract_is_a_clear_error():
    # A server of another version: /me without the fields this desktop's contract requires.
    api = _client_with(lambda r: httpx.Response(200, json={"id": 1, "username": "rita"}))
    with pytest.raises(UnexpectedAnswerError) as caught:
        api.me()
    assert caught.value.model == "MeRead" and caught.value.path == "/api/v1/me"
    assert describe_error(caught.value)[1] == "unexpected_answer"


def test_event_stream_refreshes_an_expired_token_and_reconnects():
    server = FakeReceptionServer.with_reception_data(patients=1)
    api = ApiClient(BASE_URL, transport=server.transport(), retry_backoff=0.0)
    api.login("reception", "reception-pass")
    server.expire_access_tokens()
    with api.stream("/events", headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert next(response.iter_lines()).startswith("retry:")
    assert len(server.requests_to("POST", "/auth/refresh")) == 1
    tried = [r.headers["Authorization"] for r in server.requests_to("GET", "/events")]
    assert tried == ["Bearer access-1", "Bearer access-2"]  # the refreshed token, once
    api.close()


def test_document_upload_is_multipart_with_an_idempotency_key():
    server = FakeClinicalServer.with_clinical_data()
    api = ApiClient(BASE_URL, transport=server.transport(), retry_backoff=0.0)
    api.login("doctor", DOCTOR_PASSWORD)
    pdf = b"%PDF-1.4 referral letter"
    document = ClinicalApi(api).upload_document(
        1, title="Referral", filename="referral.pdf", content=pdf
    )
    assert isinstance(document, DocumentRead)
    assert (document.title, document.filename, document.size_bytes) == (
        "Referral",
        "referral.pdf",
        len(pdf),
    )
    (sent,) = server.requests_to("POST", "/patients/1/documents")
    assert sent.headers["content-type"].startswith("multipart/form-data")
    uuid.UUID(sent.headers["Idempotency-Key"], version=4)
    api.close()


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("hms.lan:8443", "https://hms.lan:8443"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://hms.lan/api/v1", "https://hms.lan"),
    ],
)
def test_server_address_is_normalized(typed, url):
    assert normalize_server_url(typed) == url


@pytest.mark.parametrize("typed", ["", "ftp://x", "https://"])
def test_garbage_server_address_is_refused(typed):
    with pytest.raises(ValueError):
        normalize_server_url(typed)


# -- session store ---------------------------------------------------------------------
@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "APPDATA"):
        monkeypatch.setenv(name, str(tmp_path))
    return tmp_path


class _FailingKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def set_password(self, service, username, password):
        raise KeyringError("locked collection")

    def get_password(self, service, username):
        raise KeyringError("locked collection")

    def delete_password(self, service, username):
        raise KeyringError("locked collection")


class _MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def get_password(self, service, username):
        return self.items.get((service, username))

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


def test_null_keyring_is_reported_and_nothing_is_written(isolated_home):
    store = SessionStore(BASE_URL, backend=null.Keyring())
    assert store.is_available() is False
    assert store.save("reception", "refresh-1") is False
    assert store.load("reception") is None
    assert "no keyring backend" in store.unavailable_reason
    assert list(isolated_home.rglob("*")) == []


def test_default_backend_in_tests_is_unusable(isolated_home):
    store = SessionStore(BASE_URL)  # PYTHON_KEYRING_BACKEND=null from conftest
    assert store.save("reception", "refresh-1") is False
    assert list(isolated_home.rglob("*")) == []


def test_failing_keyring_falls_back_to_memory_only(isolated_home):
    store = SessionStore(BASE_URL, backend=_FailingKeyring())
    assert store.save("reception", "refresh-1") is False
    assert store.is_available() is False
    assert store.load("reception") is None
    assert list(isolated_home.rglob("*")) == []


def test_working_keyring_holds_only_the_refresh_token_under_server_and_user():
    backend = _MemoryKeyring()
    store = SessionStore(BASE_URL, backend=backend)
    assert store.save("reception", "refresh-7") is True
    assert backend.items == {(SERVICE_NAME, f"{BASE_URL}|reception"): "refresh-7"}
    assert store.load("reception") == "refresh-7"
    store.clear("reception")
    assert backend.items == {}
    store.clear("reception")  # clearing twice is fine
