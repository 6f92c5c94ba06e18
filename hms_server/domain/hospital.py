"""The hospital's own facts every area needs: name, address, time zone and currency.

Built once from settings by the composition root (``hms_server.bootstrap``) and handed to
services through the unit of work (``uow.hospital``), so no service threads a ``tz=``
argument through its calls or reads a module-level global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZoneError(ValueError):
    """The configured hospital time zone is not an IANA zone name."""


def zone_named(name: str | ZoneInfo) -> ZoneInfo:
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZoneError(f"Unknown time zone {name!r}.") from exc


@dataclass(frozen=True)
class Hospital:
    """Facts about the hospital running this server. Immutable; one per process."""

    name: str = "HMS Demo Hospital"
    timezone: str = "UTC"
    address: str = ""
    phone: str = ""
    email: str = ""
    tax_id: str = ""
    booking_url: str = ""
    mrn_prefix: str = "HMS"
    #: ISO 4217 code and its minor unit (2 for EUR/USD, 0 for JPY, 3 for KWD).
    currency: str = "EUR"
    currency_minor_unit: int = 2
    #: Path of the letterhead logo (PNG or JPEG) on the server, or "" for none.
    logo_file: str = ""
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", zone_named(self.timezone))

    # -- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The current time in the hospital's zone."""
        return datetime.now(UTC).astimezone(self.zone)

    def today(self) -> date:
        """Today's date on the hospital's wall calendar (not the server's)."""
        return self.now().date()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """``[start, end)`` of a local calendar day as aware datetimes (DST-safe)."""
        start = datetime.combine(day, time.min, self.zone)
        end = datetime.combine(day + timedelta(days=1), time.min, self.zone)
        return start, end

    # -- money -----------------------------------------------------------------------------
    @property
    def money_quantum(self) -> Decimal:
        """The smallest amount of the currency (``Decimal('0.01')`` for two decimals)."""
        return Decimal(1).scaleb(-self.currency_minor_unit)

    def round_money(self, amount: Decimal) -> Decimal:
        """The hospital's one rounding rule: half up to the currency's minor unit."""
        return amount.quantize(self.money_quantum, rounding=ROUND_HALF_UP)


def age_on(born: date, on: date) -> int:
    """Completed years between ``born`` and ``on`` (a birthday on 29 February counts on 1 March
    in common years)."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return max(years, 0)
