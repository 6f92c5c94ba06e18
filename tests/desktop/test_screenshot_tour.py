"""The screenshot tour against the fake server, and the entry point's argument handling."""

import pytest

from hms_desktop.main import main, parse_args
from hms_desktop.screenshot_tour import run_screenshot_tour
from tests.desktop.fake_server import ADMIN_TOTP, BASE_URL

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_tour_saves_login_and_every_permitted_workspace(qapp, tmp_path, api_factory):
    messages: list[str] = []
    code = run_screenshot_tour(
        BASE_URL,
        "admin",
        "admin-pass-123",
        tmp_path,
        totp=ADMIN_TOTP,
        api_factory=api_factory,
        log=messages.append,
    )
    assert code == 0, messages
    names = sorted(p.name for p in tmp_path.iterdir())
    # The workspace, then each of its other views (the administration's tabs).
    assert names == [
        "administration-audit.png",
        "administration-emergency-access.png",
        "administration-messages.png",
        "administration.png",
        "login.png",
        "my_work.png",
        "reports-clinic-flow.png",
        "reports-inpatient.png",
        "reports-pharmacy.png",
        "reports-print.png",
        "reports-revenue.png",
        "reports.png",
    ]
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000


def test_tour_reports_a_failed_sign_in(qapp, tmp_path, api_factory):
    messages: list[str] = []
    code = run_screenshot_tour(
        BASE_URL, "reception", "wrong", tmp_path, api_factory=api_factory, log=messages.append
    )
    assert code == 2
    assert messages[-1] == "Sign-in failed: Wrong username or password. [invalid_credentials]"
    assert [p.name for p in tmp_path.iterdir()] == ["login.png"]


def test_screenshot_mode_needs_user_and_password_source(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--screenshot-dir", "out", "--server", BASE_URL])
    assert "--password-stdin" in capsys.readouterr().err


def test_main_reads_the_password_from_stdin(monkeypatch, tmp_path):
    import io

    seen = {}

    def fake_tour(server, user, password, out_dir, **kwargs):
        seen.update(server=server, user=user, password=password, totp=kwargs["totp"])
        return 0

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    monkeypatch.setattr("hms_desktop.screenshot_tour.run_screenshot_tour", fake_tour)
    code = main(
        [
            "--server",
            BASE_URL,
            "--user",
            "u1",
            "--password-stdin",
            "--screenshot-dir",
            str(tmp_path),
            "--totp",
            "123456",
        ]
    )
    assert code == 0
    assert seen == {"server": BASE_URL, "user": "u1", "password": "s3cret pass", "totp": "123456"}
