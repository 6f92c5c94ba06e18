"""Billing arithmetic in plain Python: rounding per line, discounts spread so parts add up,
tax lines per category, the insurance split (coverage, co-payment, deductible, yearly
limit, exclusions), document numbers, ageing buckets, and money checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from hms_server.domain import billing as b
from hms_server.domain.hospital import Hospital

EUR = Hospital(currency="EUR", currency_minor_unit=2)
JPY = Hospital(currency="JPY", currency_minor_unit=0)
KWD = Hospital(currency="KWD", currency_minor_unit=3)


def line(
    qty: str,
    price: str,
    rate: str = "0",
    category: str = "service",
    code: str = "X",
    discount: b.Discount | None = None,
) -> b.LineInput:
    return b.LineInput(
        D(qty), D(price), D(rate), "standard" if D(rate) else "exempt", category, code, discount
    )


def test_each_line_is_rounded_half_up_and_totals_are_sums_of_rounded_lines():
    amounts = b.compute_invoice([line("3", "0.335", "20"), line("1", "10.005", "0")], None, EUR)
    assert [a.gross for a in amounts.lines] == [D("1.01"), D("10.01")]
    assert amounts.lines[0].tax == D("0.20")  # 1.01 × 20 % = 0.202 → 0.20
    assert amounts.subtotal == D("11.02") and amounts.tax == D("0.20")
    assert amounts.total == sum((a.total for a in amounts.lines), D(0)) == D("11.22")


def test_invoice_discount_is_spread_over_lines_and_tax_follows_the_discounted_net():
    amounts = b.compute_invoice(
        [line("1", "100", "20"), line("1", "50", "0")], b.Discount("amount", D("10.00")), EUR
    )
    assert [a.discount for a in amounts.lines] == [D("6.67"), D("3.33")]
    assert sum(a.discount for a in amounts.lines) == D("10.00")
    assert amounts.lines[0].tax == D("18.67")
    assert amounts.total == D("140.00") + D("18.67")


def test_percentage_line_discount_and_caps():
    amounts = b.compute_invoice(
        [line("2", "15", discount=b.Discount("percent", D("12.5")))], None, EUR
    )
    assert amounts.lines[0].discount == D("3.75") and amounts.lines[0].net == D("26.25")
    capped = b.compute_invoice([line("1", "5", discount=b.Discount("amount", D("9")))], None, EUR)
    assert capped.lines[0].net == D("0.00")


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (D("10.00"), [D(1)] * 3, [D("3.34"), D("3.33"), D("3.33")]),
        (D("0.05"), [D(3), D(1)], [D("0.04"), D("0.01")]),
        (D("7"), [D(0), D(0)], [D("0.00"), D("0.00")]),
    ],
)
def test_allocate_adds_up_exactly(total, weights, parts):
    assert b.allocate(total, weights, D("0.01")) == parts


def test_currency_minor_units_are_respected():
    assert b.compute_invoice([line("1", "1999")], None, JPY).total == D("1999")
    assert b.check_money(D("12.5"), 2, "amount") == D("12.50")
    assert b.check_money(D("12.500"), 2, "amount") == D("12.50")
    assert b.check_money(D("0.125"), 3, "amount") == D("0.125")
    for bad, unit in ((D("12.345"), 2), (D("1.5"), 0), (D("0.0001"), 3)):
        with pytest.raises(b.TooManyDecimalsError):
            b.check_money(bad, unit, "amount")
    assert KWD.round_money(D("1.2345")) == D("1.235")


def test_tax_lines_group_by_category_and_rate():
    lines = b.tax_lines(
        [
            ("standard", D("20.00"), D("100"), D("20")),
            ("standard", D("20"), D("50"), D("10")),
            ("reduced", D("5"), D("40"), D("2")),
            ("exempt", D("0"), D("30"), D("0")),
        ]
    )
    assert [(t.tax_category, t.taxable, t.tax) for t in lines] == [
        ("standard", D("150"), D("30")),
        ("reduced", D("40"), D("2")),
        ("exempt", D("30"), D("0")),
    ]


def split_lines() -> list[b.SplitLine]:
    return [
        b.SplitLine("imaging", "XRAY", D("200.00")),
        b.SplitLine("procedure", "SUT", D("50.00")),
        b.SplitLine("service", "TEA", D("5.00")),
        b.SplitLine("procedure", "COSM", D("100.00")),
    ]


def test_split_by_category_with_copay_deductible_and_exclusions():
    rules = b.PlanRules(
        coverage={"imaging": D(80), "procedure": D(100)},
        copay=D("10"),
        deductible=D("25"),
        excluded_codes=frozenset({"COSM"}),
    )
    split = b.split_invoice(split_lines(), rules, b.PolicyYearUsage(), EUR)
    # covered 160 + 50 = 210; − 10 co-pay − 25 deductible = 175 to the payer
    assert split.payer_due == D("175.00") and split.patient_due == D("180.00")
    assert (split.copay, split.deductible) == (D("10.00"), D("25.00"))
    assert split.payer_shares[2] == split.payer_shares[3] == D("0.00")
    assert sum(split.payer_shares) == split.payer_due
    assert all(
        p + q == line.total
        for p, q, line in zip(split.payer_shares, split.patient_shares, split_lines(), strict=True)
    )


def test_deductible_already_used_and_annual_limit_reached():
    rules = b.PlanRules(coverage={"imaging": D(100)}, deductible=D("100"), annual_limit=D("1000"))
    used = b.split_invoice(
        [b.SplitLine("imaging", "X", D("300"))],
        rules,
        b.PolicyYearUsage(deductible_used=D("100"), payer_used=D("900")),
        EUR,
    )
    assert used.deductible == D("0.00") and used.payer_due == D("100.00")
    assert used.limited_by_annual_limit


def test_invoice_state_follows_its_money():
    assert b.invoice_status(total=D(10), credited=D(0), paid=D(0), balance=D(10)) == "finalised"
    assert b.invoice_status(total=D(10), credited=D(0), paid=D(4), balance=D(6)) == "partly_paid"
    assert b.invoice_status(total=D(10), credited=D(0), paid=D(10), balance=D(0)) == "paid"
    assert b.invoice_status(total=D(10), credited=D(10), paid=D(0), balance=D(0)) == "void"


def test_numbers_ageing_and_approval_thresholds():
    assert b.document_number("INV", 2026, 123) == "INV-2026-000123"
    assert b.document_number("INV", 2026, 1234567) == "INV-2026-1234567"
    assert [b.ageing_bucket(d) for d in (0, 30, 31, 60, 61, 90, 91, 400)] == [
        "0-30",
        "0-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
        "90+",
    ]
    needs = b.needs_discount_approval
    assert not needs(
        b.Discount("percent", D(10)), D(10), D(100), percent_threshold=D(10), amount_threshold=D(50)
    )
    assert needs(
        b.Discount("percent", D(11)), D(11), D(100), percent_threshold=D(10), amount_threshold=D(50)
    )
    assert needs(
        b.Discount("amount", D(60)), D(60), D(1000), percent_threshold=D(10), amount_threshold=D(50)
    )
    assert needs(
        b.Discount("amount", D(20)), D(20), D(100), percent_threshold=D(10), amount_threshold=D(50)
    )
