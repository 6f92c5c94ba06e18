"""How a queue entry's status looks everywhere (reception board, doctor's list), and which
queue actions its status allows. The server is the authority; this only enables buttons."""

from __future__ import annotations

from hms_desktop.qt import QT_TRANSLATE_NOOP, QColor, translate

# Colour is never the only signal: each status has a word and a symbol as well.
QUEUE_STATUS = {
    "waiting": (QT_TRANSLATE_NOOP("QueueStatus", "Waiting"), "◷", "#b26a00"),
    "called": (QT_TRANSLATE_NOOP("QueueStatus", "Called"), "📣", "#1f5fa8"),
    "in_consultation": (QT_TRANSLATE_NOOP("QueueStatus", "In consultation"), "▶", "#6a3fb5"),
    "done": (QT_TRANSLATE_NOOP("QueueStatus", "Done"), "✓", "#2e7d32"),
    "left": (QT_TRANSLATE_NOOP("QueueStatus", "Left"), "⊘", "#6b7280"),
}

# Mirrors the server's QUEUE_TRANSITIONS for the three actions the desktop offers.
_ALLOWED_FROM = {
    "call": ("waiting", "called"),
    "start": ("waiting", "called"),
    "complete": ("in_consultation",),
}


def queue_status_text(status: str | None) -> str:
    """``◷ Waiting``: symbol and translated word for a queue status."""
    text, symbol, _ = QUEUE_STATUS.get(str(status), (str(status), "•", ""))
    return f"{symbol} {translate('QueueStatus', text)}"


def queue_status_colour(status: str | None) -> QColor | None:
    colour = QUEUE_STATUS.get(str(status), ("", "", ""))[2]
    return QColor(colour) if colour else None


def queue_action_allowed(action: str, entry: dict | None) -> bool:
    """Whether ``action`` (call, start, complete) makes sense for ``entry``'s status."""
    return bool(entry) and entry.get("status") in _ALLOWED_FROM.get(action, ())
