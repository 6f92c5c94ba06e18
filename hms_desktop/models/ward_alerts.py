"""What a bed's alerts say: short chips for the tile, whole sentences for its tooltip.

The bed board flags counts, not details (``BedAlerts``): an allergy, doses overdue or due,
care tasks overdue and the latest NEWS2. A tile has room for a few words, so each alert is
one short *chip* ("⚑ 1 dose overdue", "◷ 2 doses due", "NEWS2 3"); the tile lays the chips
out whole, never cut mid-word, and the tooltip (and screen reader) gets the full detail.

Plurals are proper English and still translatable: the singular and plural source strings
are both marked, and Qt's ``%n`` numerus form is passed the count, so a translation file can
give any language its own plural rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from hms_contract.wards import BedAlerts, BedRead
from hms_desktop.qt import QT_TRANSLATE_NOOP, QCoreApplication

CONTEXT = "BedBoard"
NEWS2_RISK = {
    "low": QT_TRANSLATE_NOOP("BedBoard", "low risk"),
    "low_medium": QT_TRANSLATE_NOOP("BedBoard", "low–medium risk"),
    "medium": QT_TRANSLATE_NOOP("BedBoard", "medium risk"),
    "high": QT_TRANSLATE_NOOP("BedBoard", "high risk"),
}


@dataclass(frozen=True)
class AlertChip:
    """One alert on a tile: its short text, shorter ways to say it (tried in order when
    it does not fit a tile's line), and whether it is urgent (drawn red and bold; the
    symbol and words say the same, so colour is never the only signal)."""

    text: str
    urgent: bool
    shorter: tuple[str, ...] = ()


def plural(one: str, many: str, n: int, context: str = CONTEXT) -> str:
    """``one`` or ``many`` (each with ``%n``) for ``n``, through Qt's translator."""
    return QCoreApplication.translate(context, one if n == 1 else many, None, n)


def news2_urgent(alerts: BedAlerts) -> bool:
    return (alerts.news2 or 0) >= 5


def _overdue_chip(alerts: BedAlerts) -> AlertChip | None:
    doses, tasks = alerts.overdue_doses, alerts.overdue_tasks
    if doses and tasks:
        both = QCoreApplication.translate(CONTEXT, "{doses}, {tasks}").format(
            doses=plural("%n dose", "%n doses", doses),
            tasks=plural("%n task", "%n tasks", tasks),
        )
        return AlertChip(
            QCoreApplication.translate(CONTEXT, "⚑ {both} overdue").format(both=both),
            True,
            (
                QCoreApplication.translate(CONTEXT, "⚑ {both} late").format(both=both),
                plural("⚑ %n overdue", "⚑ %n overdue", doses + tasks),
            ),
        )
    if doses:
        return AlertChip(plural("⚑ %n dose overdue", "⚑ %n doses overdue", doses), True)
    if tasks:
        return AlertChip(plural("⚑ %n task overdue", "⚑ %n tasks overdue", tasks), True)
    return None


def alert_chips(bed: BedRead) -> list[AlertChip]:
    """The tile's alerts, most urgent first: allergy; doses and care tasks overdue (one
    chip); NEWS2 when it calls for a response (5 or more); doses due; a lower NEWS2 (``*``
    when the last set of observations was incomplete)."""
    alerts = bed.alerts
    if alerts is None:
        return []
    chips = []
    if alerts.allergy:
        chips.append(AlertChip(QCoreApplication.translate(CONTEXT, "⚠ Allergy"), True))
    overdue = _overdue_chip(alerts)
    if overdue is not None:
        chips.append(overdue)
    news2 = None
    if alerts.news2 is not None:
        mark = "" if alerts.news2_complete else "*"
        text = QCoreApplication.translate(CONTEXT, "NEWS2 {n}{mark}").format(
            n=alerts.news2, mark=mark
        )
        news2 = AlertChip(text, news2_urgent(alerts))
        if news2.urgent:
            chips.append(news2)
    if alerts.due_doses and not alerts.overdue_doses:
        chips.append(AlertChip(plural("◷ %n dose due", "◷ %n doses due", alerts.due_doses), False))
    if news2 is not None and not news2.urgent:
        chips.append(news2)
    return chips


def alert_sentences(bed: BedRead) -> list[str]:
    """The same alerts in full, for the tooltip and screen readers."""
    alerts = bed.alerts
    if alerts is None:
        return []
    out = []
    if alerts.allergy:
        out.append(QCoreApplication.translate(CONTEXT, "⚠ Allergy recorded: check the chart"))
    if alerts.overdue_doses:
        out.append(
            plural(
                "⚑ %n medicine dose overdue", "⚑ %n medicine doses overdue", alerts.overdue_doses
            )
        )
    if alerts.due_doses:
        out.append(plural("◷ %n medicine dose due", "◷ %n medicine doses due", alerts.due_doses))
    if alerts.overdue_tasks:
        out.append(
            plural("⚑ %n care task overdue", "⚑ %n care tasks overdue", alerts.overdue_tasks)
        )
    if alerts.news2 is not None:
        risk = NEWS2_RISK.get(alerts.news2_risk or "")
        text = QCoreApplication.translate(CONTEXT, "NEWS2 {n}").format(n=alerts.news2)
        if risk:
            text += f" ({QCoreApplication.translate(CONTEXT, risk)})"
        if not alerts.news2_complete:
            text += QCoreApplication.translate(CONTEXT, ", * incomplete set of observations")
        out.append(text)
    return out
