"""Counted nouns in proper English ("1 shift", "3 shifts"), never "shift(s)".

Qt's ``tr("%n shift(s)", "", n)`` relies on a translation file for its plural forms; with
none loaded (English, today) it shows the "(s)". Screens mark both forms instead, so a
translator still sees them and Qt still puts the count in::

    plural(n, self.tr("%n shift", "", n), self.tr("%n shifts", "", n))

No Qt here: the PDF builders (which must not import Qt) use it with plain strings.
"""

from __future__ import annotations


def plural(n: int, one: str, many: str) -> str:
    """``one`` when ``n`` is 1, else ``many`` (both already translated and filled in)."""
    return one if n == 1 else many
