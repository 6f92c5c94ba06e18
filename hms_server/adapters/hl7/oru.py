"""Reading bedside-monitor results (HL7 v2 ORU^R01) and writing the acknowledgements.

Parsing uses ``python-hl7`` (``hl7``), which reads a monitor message in about a third of a
millisecond (hl7apy's validating parser takes ~7 ms: too slow for a listener that must
keep up with a ward of monitors). The structure the ward relies on is checked here:

- MSH-9 must be ``ORU^R01``; MSH-10 (control id) is required (acknowledged in MSA-2).
- The patient: PID-3 (the MR identifier; its check digit, CX-2/CX-3 ``M10``/``M11`` or our
  MRN's own Luhn digit, must be right) and/or the bed in PV1-3 (ward^room^bed).
- Observations: OBX with value type ``NM``, a code we know (LOINC or IEEE 11073 MDC) and a
  unit that fits it (UCUM or MDC); Fahrenheit is converted. OBX-18 names the device.

A message that breaks these is refused as a whole, so a half-understood message never
becomes a partial reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import hl7

from hms_server.domain.mrn import is_valid_mrn, luhn_is_valid

# Metric → accepted codes (LOINC, IEEE 11073-10101 MDC reference ids and names).
_CODES: dict[str, tuple[str, ...]] = {
    "heart_rate_bpm": (
        "8867-4",
        "147842",
        "MDC_ECG_HEART_RATE",
        "149530",
        "MDC_PULS_OXIM_PULS_RATE",
        "MDC_PULS_RATE",
    ),
    "systolic_mmhg": (
        "8480-6",
        "150021",
        "MDC_PRESS_BLD_NONINV_SYS",
        "150017",
        "MDC_PRESS_BLD_SYS",
    ),
    "diastolic_mmhg": (
        "8462-4",
        "150022",
        "MDC_PRESS_BLD_NONINV_DIA",
        "150018",
        "MDC_PRESS_BLD_DIA",
    ),
    "respiratory_rate": ("9279-1", "151562", "MDC_RESP_RATE", "151554", "MDC_AWAY_RESP_RATE"),
    "spo2_pct": ("59408-5", "2708-6", "20564-1", "150456", "MDC_PULS_OXIM_SAT_O2"),
    "temperature_c": ("8310-5", "8332-9", "150344", "MDC_TEMP", "188496", "MDC_TEMP_BODY"),
}
_METRIC_BY_CODE = {code.upper(): metric for metric, codes in _CODES.items() for code in codes}
# Codes we recognise and deliberately ignore (mean pressure, BP panel headers).
_IGNORED = {"8478-0", "150023", "MDC_PRESS_BLD_NONINV_MEAN", "85354-9", "35094-2"}

# Metric → accepted unit codes (UCUM and MDC) → factor/offset to our unit.
_PER_MIN = {
    "/MIN",
    "{BEATS}/MIN",
    "{BREATHS}/MIN",
    "BPM",
    "264864",
    "MDC_DIM_BEAT_PER_MIN",
    "264928",
    "MDC_DIM_RESP_PER_MIN",
    "1/MIN",
}
_MMHG = {"MM[HG]", "MMHG", "266016", "MDC_DIM_MMHG"}
_PCT = {"%", "262688", "MDC_DIM_PERCENT"}
_CEL = {"CEL", "DEGC", "°C", "268192", "MDC_DIM_DEGC"}
_FAHR = {"[DEGF]", "DEGF", "°F", "266560", "MDC_DIM_FAHR"}
_UNITS = {
    "heart_rate_bpm": _PER_MIN,
    "respiratory_rate": _PER_MIN,
    "systolic_mmhg": _MMHG,
    "diastolic_mmhg": _MMHG,
    "spo2_pct": _PCT,
    "temperature_c": _CEL | _FAHR,
}
_ACCEPTED_STATUS = {"F", "C", "R", ""}
_DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


class OruError(Exception):
    """The message cannot be stored. ``code`` is stable (``check_digit``, ``bad_units``,
    …); ``status`` is what the review list shows (``malformed`` / ``rejected``)."""

    def __init__(self, code: str, detail: str, *, status: str = "rejected") -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, status


#: Our error code → HL7 table 0357 (message error condition codes) for the ERR segment.
ERROR_CONDITIONS = {
    "malformed": "100",
    "frame": "100",
    "no_patient": "101",
    "no_observations": "101",
    "check_digit": "102",
    "bad_value": "102",
    "bad_time": "102",
    "bad_units": "103",
    "unsupported_message": "200",
    "unknown_mrn": "204",
    "not_admitted": "204",
    "empty_bed": "204",
    "location_mismatch": "204",
    "ambiguous_bed": "204",
}


def acknowledgement(raw: str, status: str, code: str | None, detail: str | None) -> str:
    """``AA`` for a stored reading; ``AR`` when the message itself is unacceptable
    (malformed, not an ORU^R01); ``AE`` when it was understood but cannot be stored (its
    patient is not found, a unit or value is wrong). The monitor should not resend either:
    the message waits in the review list."""
    if status in ("stored", "duplicate"):
        return build_ack(raw, "AA")
    ack = "AR" if status == "malformed" or code == "unsupported_message" else "AE"
    return build_ack(
        raw, ack, error_code=ERROR_CONDITIONS.get(code or "", "207"), error_text=detail
    )


@dataclass(frozen=True)
class Header:
    """MSH facts, available even when the rest of the message is unusable."""

    sending_application: str
    sending_facility: str | None
    control_id: str | None
    message_type: str | None


@dataclass
class DeviceReading:
    """One ORU^R01, understood: who (MRN and/or bed), which device, when, which values."""

    header: Header
    mrn: str | None
    ward_code: str | None
    room: str | None
    bed: str | None
    device_id: str
    observed_at: datetime
    values: dict[str, int | Decimal] = field(default_factory=dict)


def _text(value: object) -> str:
    return str(value).strip() if value is not None else ""


def _field(segment: hl7.Segment, index: int, component: int = 1) -> str:
    """Field ``index``, first repetition, ``component`` (unescaped); '' when absent."""
    try:
        return _text(segment.extract_field(field_num=index, repeat_num=1, component_num=component))
    except (IndexError, KeyError):
        return ""


def _part(value: object, n: int) -> str:
    """Component ``n`` of a parsed repetition (a plain string has only component 1)."""
    if isinstance(value, str):
        return value.strip() if n == 1 else ""
    try:
        return _text(value(n))  # type: ignore[operator]
    except (IndexError, TypeError):
        return ""


def read_header(raw: str) -> Header:
    """MSH facts from a raw message (best effort, for the review list and the NAK)."""
    first = raw.replace("\n", "\r").split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 8:
        return Header("", None, None, None)
    sep = first[3]
    fields = first.split(sep)
    comp = first[4] if len(first) > 4 else "^"

    def get(n: int) -> str:
        # MSH-1 is the separator itself, so MSH-n is fields[n - 1].
        return fields[n - 1].split(comp)[0].strip() if len(fields) >= n else ""

    msg_type = "^".join(fields[8].split(comp)[:2]) if len(fields) >= 9 else ""
    return Header(get(3)[:64], get(4)[:64] or None, get(10)[:64] or None, msg_type or None)


def parse_hl7_time(value: str, zone: ZoneInfo) -> datetime:
    """HL7 DTM (``YYYYMMDD[HH[MM[SS]]][.S][+-ZZZZ]``); without an offset it is the
    hospital's local time."""
    match = _DTM.match(value.strip())
    if not match:
        raise OruError("bad_time", f"'{value}' is not an HL7 date/time.")
    y, mo, d, h, mi, s, offset = match.groups()
    try:
        naive = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError as exc:
        raise OruError("bad_time", f"'{value}' is not a valid date/time.") from exc
    if offset:
        sign = 1 if offset[0] == "+" else -1
        minutes = sign * (int(offset[1:3]) * 60 + int(offset[3:5]))
        from datetime import timedelta, timezone

        return naive.replace(tzinfo=timezone(timedelta(minutes=minutes))).astimezone(UTC)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _mod11_ok(digits: str, check: str) -> bool:
    """HL7 table 0061 ``M11``: weights 2, 3, 4, 5, 6, 7 from the right, repeating."""
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(digits)))
    remainder = 11 - total % 11
    expected = "0" if remainder == 11 else "X" if remainder == 10 else str(remainder)
    return expected == check.upper()


def _check_identifier(cx: object) -> str:
    """The MRN of a PID-3 repetition, after its check digit is verified."""
    ident, check, scheme = _part(cx, 1), _part(cx, 2), _part(cx, 3).upper()
    if not ident:
        return ""
    digits = re.sub(r"\D", "", ident)
    if scheme == "M10" and check:
        if not luhn_is_valid(digits + check):
            raise OruError(
                "check_digit",
                "The patient identifier's check digit (M10) is wrong.",
                status="malformed",
            )
        ident = ident + check if not is_valid_mrn(ident) else ident
    elif scheme == "M11" and check and not _mod11_ok(digits, check):
        raise OruError(
            "check_digit",
            "The patient identifier's check digit (M11) is wrong.",
            status="malformed",
        )
    if re.fullmatch(r"[A-Z]{1,8}\d{9}", ident.upper()) and not is_valid_mrn(ident.upper()):
        raise OruError(
            "check_digit",
            "The MRN's check digit is wrong (a misread or mistyped number).",
            status="malformed",
        )
    return ident.upper()


def _mrn(message: hl7.Message) -> str | None:
    try:
        pid = message.segment("PID")
    except KeyError:
        return None
    try:
        repetitions = list(pid(3)) if len(pid) > 3 else []
    except IndexError:
        return None
    chosen = None
    for rep in repetitions:
        if not _part(rep, 1):
            continue
        kind = _part(rep, 5).upper()
        if chosen is None or kind == "MR":
            chosen = rep
            if kind == "MR":
                break
    return _check_identifier(chosen) or None if chosen is not None else None


def _value(metric: str, raw: str, unit: str, code: str) -> int | Decimal:
    unit_key = unit.split("^")[0].strip().upper()
    if unit_key not in _UNITS[metric]:
        raise OruError("bad_units", f"{code}: unit '{unit or '(none)'}' does not fit {metric}.")
    try:
        number = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise OruError("bad_value", f"{code}: '{raw}' is not a number.") from exc
    if not number.is_finite():
        raise OruError("bad_value", f"{code}: '{raw}' is not a number.")
    if metric == "temperature_c":
        if unit_key in _FAHR:
            number = (number - 32) * 5 / 9
        return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return int(number.to_integral_value(rounding=ROUND_HALF_UP))


def parse_oru(raw: str, zone: ZoneInfo) -> DeviceReading:
    """Understand one ORU^R01 or raise ``OruError``."""
    header = read_header(raw)
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    if not text.startswith("MSH"):
        raise OruError(
            "malformed", "The message does not start with an MSH segment.", status="malformed"
        )
    try:
        message = hl7.parse(text)
    except Exception as exc:  # python-hl7 raises several types on garbage
        raise OruError("malformed", "The message cannot be parsed.", status="malformed") from exc
    if not header.control_id:
        raise OruError("malformed", "MSH-10 (message control id) is missing.", status="malformed")
    if (header.message_type or "").upper() != "ORU^R01":
        raise OruError(
            "unsupported_message",
            f"Only ORU^R01 is accepted here, not '{header.message_type}'.",
            status="rejected",
        )
    mrn = _mrn(message)
    ward = room = bed = None
    try:
        pv1 = message.segment("PV1")
        ward, room, bed = (_field(pv1, 3, n) or None for n in (1, 2, 3))
    except KeyError:
        pass
    if not mrn and not (ward and bed):
        raise OruError(
            "no_patient",
            "Neither PID-3 (MRN) nor PV1-3 (ward^room^bed) identifies the patient.",
            status="malformed",
        )
    values: dict[str, int | Decimal] = {}
    device = ""
    observed: datetime | None = None
    try:
        obr = message.segment("OBR")
        obr_time = _field(obr, 7)
        if obr_time:
            observed = parse_hl7_time(obr_time, zone)
    except KeyError:
        pass
    try:
        obx_segments = list(message.segments("OBX"))
    except KeyError:
        obx_segments = []
    for obx in obx_segments:
        code = _field(obx, 3, 1).upper()
        if code in _IGNORED:
            continue
        metric = _METRIC_BY_CODE.get(code) or _METRIC_BY_CODE.get(_field(obx, 3, 2).upper())
        if metric is None:
            continue  # a parameter the chart does not hold (e.g. ST segment)
        status = _field(obx, 11).upper()
        if status not in _ACCEPTED_STATUS:
            continue
        if _field(obx, 2).upper() not in ("NM", ""):
            raise OruError("bad_value", f"{code}: value type must be NM.")
        unit = _field(obx, 6, 1) or _field(obx, 6, 2)
        values[metric] = _value(metric, _field(obx, 5), unit, code)
        device = device or _field(obx, 18)
        obx_time = _field(obx, 14)
        if obx_time and observed is None:
            observed = parse_hl7_time(obx_time, zone)
    if not values:
        raise OruError(
            "no_observations",
            "The message holds no vital-sign observations this system records.",
            status="rejected",
        )
    if observed is None:
        msh_time = _field(message.segment("MSH"), 7)
        observed = parse_hl7_time(msh_time, zone) if msh_time else datetime.now(UTC)
    return DeviceReading(
        header,
        mrn,
        ward,
        room,
        bed,
        (device or header.sending_application or "unknown")[:64],
        observed,
        values,
    )


def build_ack(
    raw: str,
    code: str,
    *,
    error_code: str | None = None,
    error_text: str | None = None,
    application: str = "HMS",
    facility: str = "HMS",
) -> str:
    """An original-mode acknowledgement (``AA``/``AE``/``AR``) of ``raw``; for an error,
    MSA-3 and an ERR segment say why. Works for a message we could not parse too."""
    header = read_header(raw)
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    trigger = (header.message_type or "ORU^R01").split("^")[-1]
    control = f"ACK{now}{abs(hash((raw, now))) % 100000:05d}"
    msh = (
        f"MSH|^~\\&|{application}|{facility}|{_safe(header.sending_application)}|"
        f"{_safe(header.sending_facility or '')}|{now}||ACK^{trigger}^ACK|{control}|P|2.5"
    )
    msa = f"MSA|{code}|{_safe(header.control_id or '')}"
    segments = [msh]
    if error_text:
        msa += f"|{_safe(error_text[:80])}"
    segments.append(msa)
    if error_code:
        segments.append(
            f"ERR|||{_safe(error_code)}^{_safe(_ERROR_NAMES.get(error_code, ''))}"
            f"^HL70357|E||||{_safe((error_text or '')[:200])}"
        )
    return "\r".join(segments)


_ERROR_NAMES = {
    "0": "Message accepted",
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "207": "Application internal error",
}


def _safe(value: str) -> str:
    return (
        value.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
    )
