"""Patient rules: folding, search-box reading, duplicate scoring, dates."""

from __future__ import annotations

from datetime import date

import pytest

from hms_server.domain import patients as rules
from hms_server.domain.patients import PersonKey, assess_duplicate


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("José Müller", "jose muller"),
        ("Zoë  Ångström", "zoe angstrom"),
        ("Łukasz Wąsik", "lukasz wasik"),
        ("Straße", "strasse"),
        ("Søren Kierkegård", "soren kierkegard"),
        ("ÇAĞLA", "cagla"),
        ("Nguyễn Thị", "nguyen thi"),
    ],
)
def test_fold_removes_accents_and_case(raw, folded):
    assert rules.fold(raw) == folded


def test_clean_name_collapses_whitespace_and_normalises_unicode():
    assert rules.clean_name("  Jose\u0301   Maria ") == "José Maria"


def test_similarity_matches_pg_trgm():
    # pg_trgm: similarity('word', 'two words') = 0.36363637
    assert rules.similarity("word", "two words") == pytest.approx(0.3636, abs=1e-3)
    assert rules.similarity("Müller", "muller") == 1.0
    assert rules.similarity("", "x") == 0.0


def test_edit_distance_counts_swaps_as_one():
    assert rules.edit_distance("schneider", "schnieder") == 1
    assert rules.edit_distance("kitten", "sitting") == 3
    assert rules.edit_distance("", "abc") == 3


def _key(given="Maria", family="Garcia", dob=date(1980, 5, 17), **kw):
    return PersonKey(given, family, dob, **kw)


def test_same_name_and_birth_date_is_likely():
    verdict = assess_duplicate(_key(given="María", family="García"), _key())
    assert verdict.likely and "same_birth_date_similar_name" in verdict.reasons


def test_swapped_names_with_same_birth_date_are_likely():
    assert assess_duplicate(_key(given="Garcia", family="Maria"), _key()).likely


def test_short_form_of_given_name_is_likely():
    assert assess_duplicate(_key(given="Jo"), _key(given="Josephine")).likely


def test_same_national_id_is_likely_whatever_else_differs():
    new = _key(given="Ahmed", family="Khan", dob=date(1990, 1, 1), national_id="ab-123 456")
    old = _key(national_id="AB123456")
    verdict = assess_duplicate(new, old)
    assert verdict.likely and verdict.score == 1.0


def test_twins_and_family_members_are_not_duplicates():
    twin = assess_duplicate(
        _key(given="Lucia", phone="+34 600 000 001"), _key(given="Marta", phone="+34600000001")
    )
    assert not twin.likely
    parent = assess_duplicate(
        _key(given="Jorge", dob=date(1955, 1, 1), phone="600000001"), _key(phone="600000001")
    )
    assert not parent.likely


def test_same_birth_date_alone_or_same_phone_alone_is_not_enough():
    assert not assess_duplicate(_key(given="Wei", family="Chen"), _key()).likely
    assert not assess_duplicate(
        _key(given="Wei", family="Chen", dob=date(2000, 1, 1), phone="555123456"),
        _key(phone="555123456"),
    ).likely


def test_same_phone_and_similar_name_is_likely_even_with_other_birth_date():
    verdict = assess_duplicate(
        _key(dob=date(1981, 5, 17), phone="+1 555 123 4567"), _key(phone="15551234567")
    )
    assert verdict.likely and verdict.reasons == ("same_phone_similar_name",)


def test_estimated_birth_date_matches_within_two_years():
    est = _key(dob=date(1982, 1, 1), birth_date_estimated=True)
    assert assess_duplicate(est, _key()).likely
    assert not assess_duplicate(
        _key(dob=date(1985, 1, 1), birth_date_estimated=True), _key()
    ).likely
    # Exact dates must agree exactly.
    assert not assess_duplicate(_key(dob=date(1980, 5, 18)), _key()).likely


def test_estimated_birth_date_from_age():
    assert rules.estimated_birth_date(40, date(2026, 11, 26)) == date(1986, 11, 26)
    assert rules.estimated_birth_date(1, date(2028, 2, 29)) == date(2027, 2, 28)
    with pytest.raises(ValueError):
        rules.estimated_birth_date(131, date(2026, 1, 1))


def test_birth_date_problems():
    today = date(2026, 11, 26)
    assert rules.birth_date_problem(date(2026, 11, 27), today)
    assert rules.birth_date_problem(date(1890, 1, 1), today)
    assert rules.birth_date_problem(date(2026, 11, 26), today) is None
    assert rules.age_on(date(2000, 11, 27), today) == 25


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("müller", {"name_tokens": ("müller",), "prefix_only": False}),
        ("mu", {"name_tokens": ("mu",), "prefix_only": True}),
        ("jo mül", {"name_tokens": ("jo", "mül"), "prefix_only": False}),
        ("1980-02-03", {"birth_date": date(1980, 2, 3), "name_tokens": ()}),
        ("garcia 1980-02-03", {"birth_date": date(1980, 2, 3), "name_tokens": ("garcia",)}),
        ("+44 20 7946 0958", {"phone": "442079460958", "name_tokens": ()}),
        ("HMS-0000-1234-4", {"raw_mrn": "HMS-0000-1234-4", "national_id": "HMS000012344"}),
        ("Test-12345678", {"name_tokens": ("Test-12345678",), "raw_mrn": "Test-12345678"}),
        ("AB 12 34 56 C", {"national_id": "AB123456C", "name_tokens": ("AB", "C")}),
    ],
)
def test_parse_search_reads_the_search_box(q, expected):
    terms = rules.parse_search(q)
    for attr, value in expected.items():
        assert getattr(terms, attr) == value, attr


def test_parse_search_invalid_date_is_not_a_date():
    terms = rules.parse_search("1980-02-30")
    assert terms.birth_date is None


def test_blank_search_is_empty():
    assert rules.parse_search("   ").empty


def test_like_escape():
    assert rules.like_escape(r"50%_a\b") == r"50\%\_a\\b"


def test_phone_helpers():
    assert rules.phone_digits("+1 (555) 010-9999") == "15550109999"
    assert rules.phone_digits("") is None
    assert rules.is_phone_like("0151 234 567")
    assert not rules.is_phone_like("12345")
    assert rules.normalize_national_id(" ab-12.34 ") == "AB1234"
