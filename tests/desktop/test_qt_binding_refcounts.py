"""The desktop survives the Qt binding's reference leaks on ``None``, ``True`` and ``False``.

PySide6-Essentials 6.12.0 on CPython 3.11 drops one reference to ``None`` on every call of a
void method (``setText``, ``QPainter.drawRect`` …) and one to ``True``/``False`` on every
``Signal(bool)`` emission. They start with a few thousand, so without the guard in
``hms_desktop/qt.py`` a long shift at the ward workspace — or one paint of a 900-bed board —
aborted the process (``Fatal Python error: none_dealloc``). This test makes far more such
calls than they had references: without the guard it crashes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_many_void_qt_calls_do_not_exhaust_none():
    script = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from hms_desktop.qt import QApplication, QImage, QLabel, QObject, QPainter, QRect, Signal
        class Flag(QObject):
            sig = Signal(bool)
        app = QApplication([])
        flag = Flag()
        flag.sig.connect(lambda value: None)
        label = QLabel()
        image = QImage(16, 16, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        rect = QRect(0, 0, 4, 4)
        start = sys.getrefcount(None)
        for _ in range(20_000):
            label.setText("x")
            painter.drawRect(rect)
            flag.sig.emit(True)
            flag.sig.emit(False)
        painter.end()
        print("alive", start > 40_000)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "alive True"
