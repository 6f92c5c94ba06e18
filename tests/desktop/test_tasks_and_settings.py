"""Task runner behaviour and the few persisted settings."""

import threading

import pytest

from hms_desktop.qt import QObject, QSettings
from hms_desktop.settings import DesktopSettings


def test_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(qtbot, tasks):
    gui_thread = threading.get_ident()
    seen = {}

    def work():
        seen["worker"] = threading.get_ident()
        return 42

    def done(result):
        seen["callback"] = threading.get_ident()
        seen["result"] = result

    with qtbot.waitSignal(tasks.sig_busy_changed, check_params_cb=lambda busy: not busy):
        tasks.run(work, on_done=done)
    assert seen == {"worker": seen["worker"], "callback": gui_thread, "result": 42}
    assert seen["worker"] != gui_thread
    assert not tasks.busy


def test_errors_reach_on_error_and_the_global_signal(qtbot, tasks):
    errors = []
    with qtbot.waitSignal(tasks.sig_task_failed) as blocker:
        tasks.run(lambda: 1 / 0, on_error=errors.append)
    assert isinstance(errors[0], ZeroDivisionError)
    assert blocker.args[1] is True  # handled by the caller


def test_callbacks_of_a_deleted_owner_are_dropped(qtbot, tasks):
    class Receiver(QObject):
        called = False

        def on_done(self, _result):
            Receiver.called = True

    receiver = Receiver()
    release = threading.Event()
    tasks.run(release.wait, on_done=receiver.on_done)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive(receiver), timeout=15000)
    release.set()
    qtbot.waitUntil(lambda: tasks.pending == 0, timeout=15000)
    assert Receiver.called is False


def _alive(obj):
    from hms_desktop.qt import qt_object_alive

    return qt_object_alive(obj)


def test_quiet_tasks_do_not_show_progress(qtbot, tasks):
    changes = []
    tasks.sig_busy_changed.connect(changes.append)
    tasks.run(lambda: None, on_done=lambda _r: None, quiet=True)
    qtbot.waitUntil(lambda: tasks.pending == 0, timeout=15000)
    assert changes == []


def test_only_address_and_username_are_persisted(tmp_path):
    path = str(tmp_path / "hms.ini")
    settings = DesktopSettings(QSettings(path, QSettings.Format.IniFormat))
    settings.server_address = "https://hms.lan"
    settings.last_username = "rita"
    reread = QSettings(path, QSettings.Format.IniFormat)
    assert sorted(reread.allKeys()) == ["last_username", "server_address"]


@pytest.mark.parametrize(
    ("env", "stored", "minutes"),
    [
        (None, None, 10),
        ("2", None, 2),
        (None, "5", 5),
        ("3", "5", 3),
        ("nonsense", "0", 10),
    ],
)
def test_idle_lock_minutes_come_from_env_then_settings(monkeypatch, env, stored, minutes):
    if env is None:
        monkeypatch.delenv("HMS_IDLE_LOCK_MINUTES", raising=False)
    else:
        monkeypatch.setenv("HMS_IDLE_LOCK_MINUTES", env)
    values = {} if stored is None else {"idle_lock_minutes": stored}
    assert DesktopSettings.in_memory(**values).idle_lock_minutes() == minutes
