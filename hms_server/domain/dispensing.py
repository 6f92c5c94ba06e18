"""Dispensing rules: what is still owed on a prescription, the safety stop at the counter,
scan verification against the picked batches, and dose instructions in plain words for
the label."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hms_server.domain.barcodes import LabelCode, PackCode
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.pharmacy import (
    ExceedsOwedError,
    NothingOwedError,
    Pick,
    WrongBatchScannedError,
    WrongItemScannedError,
)
from hms_server.domain.prescribing import Conflict, PrescribingConflictError


class DispensingConflictError(PrescribingConflictError):
    """409 at the counter: the safety checks, re-run on today's record, found conflicts.
    ``code`` is the most severe conflict type (``allergy_conflict`` / ``interaction`` /
    ``duplicate_therapy``), as at prescribing."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__(conflicts)
        reasons = "; ".join(c.reason for c in conflicts)
        self.detail = (
            f"Safety check at dispensing found {len(conflicts)} problem(s): "
            f"{reasons} To dispense anyway, resend with an override_reason "
            "(audited), or send the prescription back to the prescriber."
        )
        self.args = (self.detail,)


class UnknownGtinError(ValidationFailedError):
    """A scanned pack whose GTIN no stock item carries (at the counter: 422)."""

    code, title = "unknown_barcode", "Unknown barcode"


def owed(prescribed: Decimal, dispensed: Decimal) -> Decimal:
    return max(prescribed - dispensed, Decimal(0))


def check_owed(name: str, requested: Decimal, prescribed: Decimal, dispensed: Decimal) -> None:
    """Dispense at most what is still owed (a partial dispense leaves the rest owed)."""
    remaining = owed(prescribed, dispensed)
    if remaining <= 0:
        raise NothingOwedError(f"{name} has been dispensed in full already.", extra={"owed": "0"})
    if requested > remaining:
        raise ExceedsOwedError(
            f"Only {_fmt(remaining)} of {name} is still owed; {_fmt(requested)} requested.",
            extra={"owed": _fmt(remaining)},
        )


def verify_scan(
    scan: PackCode | LabelCode,
    pack_drug_id: int | None,
    pack_item_name: str,
    prescribed_drug_id: int,
    prescribed_name: str,
    picks: Sequence[Pick],
    *,
    field: str,
) -> None:
    """The scanned pack must be the prescribed medicine and one of the picked batches (same
    lot, same expiry when the code carries them)."""
    errors = [{"field": field, "message": "", "type": "value_error"}]
    if isinstance(scan, LabelCode):
        errors[0]["message"] = "a dispensing label, not a pack"
        raise WrongItemScannedError(
            "That is a dispensing label; scan the manufacturer's pack.", extra={"errors": errors}
        )
    if pack_drug_id != prescribed_drug_id:
        errors[0]["message"] = "not the prescribed medicine"
        raise WrongItemScannedError(
            f"Wrong medicine: the scanned pack is {pack_item_name}, the prescription is for "
            f"{prescribed_name}.",
            extra={"errors": errors},
        )
    if scan.lot is None and scan.expiry is None:
        return
    lots = ", ".join(f"{p.lot} (exp {p.expiry.isoformat()})" for p in picks)
    matching = [
        p
        for p in picks
        if (scan.lot is None or p.lot == scan.lot)
        and (scan.expiry is None or p.expiry == scan.expiry)
    ]
    if not matching:
        scanned = f"lot {scan.lot or '?'}, exp {scan.expiry.isoformat() if scan.expiry else '?'}"
        errors[0]["message"] = "not the picked batch"
        raise WrongBatchScannedError(
            f"Wrong batch: the scanned pack is {scanned}; pick {lots} (first expiry first).",
            extra={"errors": errors, "picked_lots": [p.lot for p in picks]},
        )


def _fmt(q: Decimal) -> str:
    return format(q.normalize() if q == q.to_integral_value() else q, "f")


_ROUTES = {
    "oral": "by mouth",
    "po": "by mouth",
    "sublingual": "under the tongue",
    "iv": "into a vein",
    "intravenous": "into a vein",
    "im": "into a muscle",
    "intramuscular": "into a muscle",
    "sc": "under the skin",
    "subcutaneous": "under the skin",
    "topical": "on the skin",
    "inhaled": "by inhalation",
    "inhalation": "by inhalation",
    "rectal": "into the back passage",
    "vaginal": "into the vagina",
    "ophthalmic": "into the eye",
    "otic": "into the ear",
    "nasal": "into the nose",
    "transdermal": "as a skin patch",
}
_FREQUENCIES = {
    "od": "once a day",
    "once daily": "once a day",
    "bd": "twice a day",
    "bid": "twice a day",
    "twice daily": "twice a day",
    "tds": "three times a day",
    "tid": "three times a day",
    "three times daily": "three times a day",
    "qds": "four times a day",
    "qid": "four times a day",
    "four times daily": "four times a day",
    "nocte": "at night",
    "at night": "at night",
    "prn": "when needed",
    "as needed": "when needed",
    "stat": "now, once",
    "weekly": "once a week",
}


def plain_instructions(
    *,
    dose: Decimal,
    unit: str,
    route: str,
    frequency: str,
    duration_days: int | None,
    instructions: str | None,
) -> str:
    """``1 tablet, oral, bd, 7 days`` → "Take 1 tablet by mouth twice a day for 7 days."."""
    verb = (
        "Take"
        if route.lower() in ("oral", "po", "sublingual")
        else ("Inhale" if route.lower() in ("inhaled", "inhalation") else "Use")
    )
    amount = _fmt(dose)
    plural = (
        unit
        if dose == 1 or unit.endswith("s") or unit in ("mg", "g", "mL", "ml", "mcg")
        else unit + "s"
    )
    how = _ROUTES.get(route.lower(), route.lower())
    if verb == "Inhale" and how == "by inhalation":
        how = ""
    when = _FREQUENCIES.get(frequency.lower().strip(), frequency.strip())
    text = f"{verb} {amount} {plural}{' ' + how if how else ''} {when}"
    if duration_days:
        text += f" for {duration_days} day{'s' if duration_days != 1 else ''}"
    text += "."
    if instructions:
        extra = instructions.strip()
        if extra:
            extra = extra[0].upper() + extra[1:]
            text += " " + extra + ("" if extra.endswith(".") else ".")
    return text
