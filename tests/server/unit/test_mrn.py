"""MRN format and check digit."""

from __future__ import annotations

import pytest

from hms_server.domain.mrn import (
    InvalidMrnError,
    format_mrn,
    is_valid_mrn,
    luhn_check_digit,
    luhn_is_valid,
    mrn_candidates,
)


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("7992739871", 3),  # the textbook Luhn example
        ("00000000", 0),
        ("00001234", 4),
        ("12345678", 2),
    ],
)
def test_luhn_check_digit_known_values(digits, check):
    assert luhn_check_digit(digits) == check
    assert luhn_is_valid(digits + str(check))


def test_format_mrn_pads_prefixes_and_appends_check_digit():
    assert format_mrn("HMS", 1234) == "HMS000012344"
    assert format_mrn("abc", 1) == "ABC000000018"
    assert is_valid_mrn(format_mrn("HMS", 98765432))


@pytest.mark.parametrize("serial", [0, -1, 10**8])
def test_serial_out_of_range_is_refused(serial):
    with pytest.raises(InvalidMrnError):
        format_mrn("HMS", serial)


@pytest.mark.parametrize("prefix", ["", "H1", "TOOLONGPREFIX", "ÄB"])
def test_bad_prefix_is_refused(prefix):
    with pytest.raises(InvalidMrnError):
        format_mrn(prefix, 5)


def test_every_single_digit_typo_is_detected():
    mrn = format_mrn("HMS", 4711)
    body = mrn[3:]
    for pos in range(len(body)):
        for d in "0123456789":
            if d != body[pos]:
                typo = body[:pos] + d + body[pos + 1 :]
                assert not luhn_is_valid(typo), typo


def test_adjacent_swaps_are_detected_except_09_90():
    body = format_mrn("HMS", 12345678)[3:]
    for pos in range(len(body) - 1):
        a, b = body[pos], body[pos + 1]
        if a != b and {a, b} != {"0", "9"}:
            swapped = body[:pos] + b + a + body[pos + 2 :]
            assert not luhn_is_valid(swapped), swapped


def test_candidates_accept_formatting_missing_prefix_and_missing_check_digit():
    mrn = format_mrn("HMS", 1234)
    assert mrn_candidates(mrn, "HMS") == [mrn]
    assert mrn_candidates("hms-0000-1234-4", "HMS") == [mrn]
    assert mrn_candidates(" HMS 000012344 ", "HMS") == [mrn]
    assert mrn_candidates("000012344", "HMS") == [mrn]
    assert mrn_candidates("HMS00001234", "HMS") == [mrn]
    assert mrn_candidates("00001234", "HMS") == [mrn]
    # An MRN issued under an older prefix still reads as itself.
    assert mrn_candidates("OLD000012344", "HMS") == ["OLD000012344"]


@pytest.mark.parametrize("text", ["HMS000012345", "smith", "", "12", "HMS-12-34", "1234567890"])
def test_candidates_reject_what_cannot_be_an_mrn(text):
    assert mrn_candidates(text, "HMS") == []


def test_is_valid_mrn():
    assert is_valid_mrn("HMS000012344")
    assert not is_valid_mrn("HMS000012345")
    assert not is_valid_mrn("000012344")
    assert not is_valid_mrn("HMS00012344")
