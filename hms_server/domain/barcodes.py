"""What a medication barcode says: a GS1 pack code or one of our own dispensing labels.

Pack codes are parsed with ``biip`` (a maintained GS1 library): a GS1 DataMatrix or GS1-128
element string (``01`` GTIN, ``17`` expiry, ``10`` lot, ``21`` serial), with or without the
scanner's symbology prefix (``]d2``, ``]C1``) and with ``<GS>`` separators, its human-readable
form ``(01)…(17)…``, or a plain linear EAN-13/UPC-A/GTIN-14. GTINs are stored and compared as
14 digits.

Dispensing labels carry a Code 128 of ``HMSDL`` + the dispense line id (10 digits, e.g.
``HMSDL0000001234``): the ward's medication-administration scan reads it back to the exact
dispensed line (patient, drug, batch). Code 128's own check character guards against misreads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from biip import ParseConfig, parse
from biip.gs1_messages import GS1Message

from hms_server.domain.pharmacy import MalformedBarcodeError

DISPENSE_LABEL_PREFIX = "HMSDL"
_LABEL = re.compile(rf"^{DISPENSE_LABEL_PREFIX}(\d{{1,18}})$")
_GS = "\x1d"
MAX_CODE_LENGTH = 200


@dataclass(frozen=True)
class PackCode:
    """The GS1 data of one scanned pack."""

    gtin: str  # 14 digits
    expiry: date | None = None
    lot: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class LabelCode:
    dispense_line_id: int


def dispense_label_code(dispense_line_id: int) -> str:
    """The barcode text printed on a dispensing label."""
    return f"{DISPENSE_LABEL_PREFIX}{dispense_line_id:010d}"


def _clean(raw: str) -> str:
    text = raw.strip()
    # Keyboard-wedge scanners send FNC1 as <GS>, or as a configured stand-in; keep <GS> only.
    return text.replace("\\x1d", _GS).replace("<GS>", _GS)


def parse_medication_code(raw: str) -> PackCode | LabelCode:
    """Interpret a scanned code. Raises ``MalformedBarcodeError`` for anything that is not a
    GS1 pack code with a valid GTIN, nor a dispensing label."""
    if not raw or len(raw) > MAX_CODE_LENGTH:
        raise MalformedBarcodeError("The scanned code is empty or too long to be a barcode.")
    text = _clean(raw)
    label = _LABEL.match(text.upper())
    if label:
        return LabelCode(int(label.group(1)))
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text)
            return _pack_from_message(message, raw)
        result = parse(text, config=ParseConfig(rcn_region=None))
    except Exception as exc:  # biip raises ParseError/ValueError subclasses for bad input
        raise MalformedBarcodeError(
            f"The scanned code is not a GS1 pack code or a dispensing label ({exc})."
        ) from exc
    # A bare 8/12/13/14-digit number is a linear pack code (EAN/UPC/ITF-14), even when its
    # digits could also be read as a GS1 element string.
    if result.gtin is not None and text.isdigit() and len(text) in (8, 12, 13, 14):
        return PackCode(gtin=result.gtin.as_gtin_14())
    if result.gs1_message is not None:
        return _pack_from_message(result.gs1_message, raw)
    if result.gtin is not None:
        return PackCode(gtin=result.gtin.as_gtin_14())
    reason = result.gtin_error or result.gs1_message_error or "unrecognised format"
    raise MalformedBarcodeError(
        f"The scanned code is not a GS1 pack code or a dispensing label: {reason}"
    )


def _pack_from_message(message: GS1Message, raw: str) -> PackCode:
    gtin: str | None = None
    expiry: date | None = None
    lot = serial = None
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in ("01", "02"):
            if element.gtin is None:
                raise MalformedBarcodeError(
                    f"The GTIN in the scanned code is invalid: {element.gtin_error}"
                )
            gtin = element.gtin.as_gtin_14()
        elif ai == "17":
            expiry = element.date
        elif ai == "10":
            lot = element.value
        elif ai == "21":
            serial = element.value
    if gtin is None:
        raise MalformedBarcodeError(
            "The scanned GS1 code carries no GTIN (AI 01), so it cannot identify a medicine."
        )
    return PackCode(gtin=gtin, expiry=expiry, lot=lot, serial=serial)


def normalize_gtin(value: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits, with its check digit verified."""
    result = parse(value.strip())
    if result.gtin is None:
        raise MalformedBarcodeError(f"{value!r} is not a valid GTIN: {result.gtin_error}")
    return result.gtin.as_gtin_14()
