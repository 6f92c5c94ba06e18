"""What a list showed, for the audit trail (ONC 170.315(d)(2)/(3)): every patient whose data
a search, a board or a list returned must be attributable, not only how many there were."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def shown_patients(ids: Iterable[int | None]) -> dict[str, Any]:
    """Audit ``detail`` for a list: ``patient_ids`` (unique, ascending — ids only, never
    names; a page holds at most a few hundred) and ``returned`` (how many patients)."""
    unique = sorted({int(i) for i in ids if i is not None})
    return {"returned": len(unique), "patient_ids": unique}
