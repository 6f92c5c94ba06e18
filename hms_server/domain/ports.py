"""Ports: questions one area answers for another, wired in the composition root.

Domain events (``domain.events``) tell other areas that something happened; a port is the
opposite direction, an area *asking* another one, without importing it. The asking area
declares the Protocol here; the answering area implements it; ``hms_server.bootstrap``
plugs the implementation into ``Runtime.ports``. Tests pass fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True)
class ScannedMedication:
    """What a medication barcode identifies: a GS1 pack (GTIN, maybe lot/expiry/serial) of a
    stock item, or a dispensing label printed by the pharmacy for one dispensed line."""

    stock_item_id: int | None
    drug_id: int | None
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    dispense_line_id: int | None = None
    #: Strength and form of the scanned product as the catalogue knows it (for "right dose").
    strength: str | None = None
    form: str | None = None
    route: str | None = None


class MedicationCodeResolver(Protocol):
    """Answered by the pharmacy area: which medicine does this scanned code identify?

    Raises a ``ValidationFailedError`` with code ``malformed_barcode`` for a code that is
    not a GS1 element string or a dispensing-label code, and a ``NotFoundError`` with code
    ``unknown_barcode`` for a well-formed code the catalogue does not know."""

    def __call__(self, uow: Any, code: str) -> ScannedMedication: ...


@dataclass
class Ports:
    """The ports of a running application (``Runtime.ports``); ``None`` = not available in
    this build, and the asking area answers with a clear error."""

    medication_codes: MedicationCodeResolver | None = None
