"""HL7 v2 without I/O: ADT messages are valid v2.5 structures and carry escaped values; ORU
results are read (MDC and LOINC, unit conversion) or refused for a reason; MLLP frames are
found in a byte stream however it is split, and broken ones are reported."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import hl7
import pytest
from hl7apy import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from hms_server.adapters.hl7.adt import AdtFacts, Location, build_adt
from hms_server.adapters.hl7.mllp import FrameReader, frame
from hms_server.adapters.hl7.oru import OruError, build_ack, parse_oru

UTC_ZONE = ZoneInfo("UTC")
FACTS = AdtFacts(
    change="admitted",
    control_id="HMS7-1",
    at=datetime(2026, 3, 29, 14, 30, tzinfo=timezone(timedelta(hours=1))),
    mrn="HMS000012344",
    family_name="O'Brien & Sons|x",
    given_name="Zoë^Ann",
    date_of_birth=date(1950, 1, 2),
    sex="female",
    admission_id=7,
    admitted_at=datetime(2026, 3, 28, tzinfo=UTC),
    source="emergency",
    location=Location("ICU", "R1", "03"),
    attending_id=5,
    attending_name="Dr. Daniel Okafor",
)


@pytest.mark.parametrize(
    ("change", "event", "structure"),
    [
        ("admitted", "A01", "ADT_A01"),
        ("transferred", "A02", "ADT_A02"),
        ("discharged", "A03", "ADT_A03"),
        ("cancelled", "A11", "ADT_A09"),
        ("updated", "A08", "ADT_A01"),
    ],
)
def test_adt_messages_are_valid_v25_structures(change, event, structure):
    facts = dataclasses.replace(
        FACTS,
        change=change,
        prior_location=Location("MED", "2", "01") if change == "transferred" else None,
        discharged_at=datetime(2026, 3, 30, tzinfo=UTC) if change == "discharged" else None,
        disposition="home" if change == "discharged" else None,
    )
    er7 = build_adt(facts)
    strict = parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    strict.validate()
    assert strict.msh.msh_9.to_er7() == f"ADT^{event}^{structure}"
    msg = hl7.parse(er7)
    assert str(msg.segment("EVN")(1)) == event
    pv1 = msg.segment("PV1")
    assert str(pv1(2)) == "I" and str(pv1(3)) == "ICU^R1^03^HMS"
    assert str(pv1(19)) == "7"
    if change == "transferred":
        assert str(pv1(6)) == "MED^2^01^HMS"
    if change == "discharged":
        assert str(pv1(45)).startswith("20260330") and str(pv1(36)) == "01"


def test_adt_values_with_delimiters_survive_the_round_trip():
    msg = hl7.parse(build_adt(FACTS))
    name = msg.segment("PID")(5)(1)
    assert msg.unescape(str(name(1))) == "O'Brien & Sons|x"
    assert msg.unescape(str(name(2))) == "Zoë^Ann"
    assert str(msg.segment("PID")(3)) == "HMS000012344^^^HMS^MR"
    assert str(msg.segment("PV1")(7)) == "5^Okafor^Daniel"
    assert str(msg.segment("MSH")(7)) == "20260329143000+0100"


def _oru(
    *obx: str,
    pid: str = "HMS000012344^^^HMS^MR",
    pv1: str = "ICU^1^03",
    msg_type: str = "ORU^R01^ORU_R01",
    control: str = "C1",
) -> str:
    lines = [
        f"MSH|^~\\&|MON7|ICU|HMS|HOSP|20260501101500+0000||{msg_type}|{control}|P|2.5",
        f"PID|||{pid}",
        f"PV1||I|{pv1}",
        "OBR|1|||VITALS|||20260501101500+0000",
    ]
    lines += [f"OBX|{n}|{line}" for n, line in enumerate(obx, start=1)]
    return "\r".join(lines)


HR = "NM|147842^MDC_ECG_HEART_RATE^MDC||72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||MON7"


def test_oru_is_read_with_mdc_and_loinc_codes_and_fahrenheit_converted():
    reading = parse_oru(
        _oru(
            HR,
            "NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||96|%|||||F",
            "NM|8480-6^Systolic^LN||128|mm[Hg]|||||F",
            "NM|8462-4^Diastolic^LN||79|mm[Hg]|||||F",
            "NM|8310-5^Temp^LN||100.4|[degF]|||||F",
            "NM|8478-0^Mean BP^LN||95|mm[Hg]|||||F",
            "ST|X-1^Rhythm comment^L||sinus||||||F",
        ),
        UTC_ZONE,
    )
    assert reading.mrn == "HMS000012344"
    assert (reading.ward_code, reading.room, reading.bed) == ("ICU", "1", "03")
    assert reading.device_id == "MON7" and reading.header.control_id == "C1"
    assert reading.values == {
        "heart_rate_bpm": 72,
        "spo2_pct": 96,
        "systolic_mmhg": 128,
        "diastolic_mmhg": 79,
        "temperature_c": Decimal("38.0"),
    }
    assert reading.observed_at == datetime(2026, 5, 1, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "code", "status"),
    [
        (_oru(HR, pid="HMS000012345^^^HMS^MR"), "check_digit", "malformed"),
        (_oru(HR, pid="12345^3^M10^HMS^MR"), "check_digit", "malformed"),
        (_oru("NM|8480-6^Systolic^LN||16|kPa|||||F"), "bad_units", "rejected"),
        (_oru("NM|8867-4^HR^LN||fast|/min|||||F"), "bad_value", "rejected"),
        (_oru(HR, msg_type="ADT^A01^ADT_A01"), "unsupported_message", "rejected"),
        (_oru(HR, pid="", pv1=""), "no_patient", "malformed"),
        (_oru("ST|X-1^Comment^L||hello||||||F"), "no_observations", "rejected"),
        (_oru(HR, control=""), "malformed", "malformed"),
        ("PID|||x", "malformed", "malformed"),
    ],
)
def test_bad_oru_messages_are_refused_with_their_reason(message, code, status):
    with pytest.raises(OruError) as caught:
        parse_oru(message, UTC_ZONE)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_a_valid_m10_check_digit_is_accepted():
    assert parse_oru(_oru(HR, pid="HMS00001234^4^M10^HMS^MR"), UTC_ZONE).mrn == "HMS000012344"


def test_local_times_without_offset_are_the_hospitals():
    message = _oru(HR).replace("20260501101500+0000", "20260501101500")
    london = parse_oru(message, ZoneInfo("Europe/London"))
    assert london.observed_at == datetime(2026, 5, 1, 9, 15, tzinfo=UTC)


def test_acknowledgements_echo_the_control_id_and_say_why():
    raw = _oru(HR, control="ABC-9")
    ok = hl7.parse(build_ack(raw, "AA"))
    assert str(ok.segment("MSA")(1)) == "AA" and str(ok.segment("MSA")(2)) == "ABC-9"
    assert str(ok.segment("MSH")(5)) == "MON7"
    nak = hl7.parse(build_ack(raw, "AE", error_code="204", error_text="No patient | here"))
    assert str(nak.segment("MSA")(1)) == "AE"
    assert str(nak.segment("ERR")(3)(1)(1)) == "204"
    assert nak.unescape(str(nak.segment("MSA")(3))) == "No patient | here"


def test_frames_are_found_however_the_stream_is_split():
    stream = frame("MSH|one") + b"\r\n" + frame("MSH|two")
    for size in (1, 3, 7, len(stream)):
        reader = FrameReader()
        found = [
            e.message
            for i in range(0, len(stream), size)
            for e in reader.feed(stream[i : i + size])
        ]
        assert found == ["MSH|one", "MSH|two"]
        assert reader.close() is None


def test_truncated_frames_and_junk_are_reported():
    reader = FrameReader()
    events = list(reader.feed(b"garbage" + frame("MSH|cut")[:5] + frame("MSH|whole")))
    assert [e.error is not None for e in events] == [True, True, False]
    assert "outside" in events[0].error and "truncated" in events[1].error
    assert events[2].message == "MSH|whole"
    list(reader.feed(b"\x0bMSH|unfinished"))
    closed = reader.close()
    assert closed is not None and b"unfinished" in closed.raw
