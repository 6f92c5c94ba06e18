"""``make demo`` on a machine with a display but without Qt's xcb libraries says exactly
what to install instead of failing inside Qt."""

from __future__ import annotations

from hms_server import demo


def test_missing_libraries_name_the_packages_to_install():
    assert demo.install_hint(["libxcb-icccm.so.4", "libxcb-cursor.so.0"]) == (
        "sudo apt-get install libxcb-cursor0 libxcb-icccm4"
    )


def test_with_a_display_but_no_xcb_libraries_the_demo_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(demo, "missing_qt_libraries", lambda: ["libxcb-keysyms.so.1"])
    spawned: list[list[str]] = []
    monkeypatch.setattr(demo, "_spawn", lambda args, *a, **k: spawned.append(args))
    assert demo._open_desktop("http://127.0.0.1:8765", True, "pw") is None
    out = capsys.readouterr().out
    assert "sudo apt-get install libxcb-keysyms1" in out
    assert "The server keeps running." in out and spawned == []


def test_with_everything_in_place_the_desktop_opens(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(demo, "missing_qt_libraries", lambda: [])
    spawned: list[list[str]] = []
    monkeypatch.setattr(demo, "_spawn", lambda args, *a, **k: spawned.append(args) or "proc")
    assert demo._open_desktop("http://127.0.0.1:8765", True, "pw") == "proc"
    assert spawned and spawned[0][-2:] == ["--server", "http://127.0.0.1:8765"]
