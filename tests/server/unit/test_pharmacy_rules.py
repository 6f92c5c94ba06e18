"""Pharmacy domain rules: FEFO picking, quantities of a unit, expiry checks, reorder
arithmetic, barcode reading, plain-words instructions, purchase-order states."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hms_server.domain.barcodes import (
    LabelCode,
    PackCode,
    dispense_label_code,
    normalize_gtin,
    parse_medication_code,
)
from hms_server.domain.dispensing import check_owed, plain_instructions, verify_scan
from hms_server.domain.pharmacy import (
    ExceedsOwedError,
    ExpiredLotError,
    ImplausibleExpiryError,
    IndivisibleUnitError,
    InsufficientStockError,
    InvalidStateError,
    MalformedBarcodeError,
    NothingOwedError,
    Pick,
    PickCandidate,
    ReorderInput,
    WrongBatchScannedError,
    WrongItemScannedError,
    check_po_transition,
    check_quantity,
    check_receipt_expiry,
    expiry_window,
    pick_fefo,
    po_status_after_receipt,
    reorder_advice,
    smoothed_weekly_demand,
)

TODAY = date(2026, 6, 15)


def _c(batch_id: int, days: int, qty: int, status: str = "available") -> PickCandidate:
    return PickCandidate(
        batch_id, 1, f"L{batch_id}", TODAY + timedelta(days=days), Decimal(qty), status
    )


def test_fefo_takes_the_first_expiry_and_spans_batches():
    picks = pick_fefo([_c(1, 300, 10), _c(2, 30, 4), _c(3, 90, 5)], Decimal(8), TODAY)
    assert [(p.batch_id, p.quantity) for p in picks] == [(2, Decimal(4)), (3, Decimal(4))]


def test_fefo_never_picks_expired_quarantined_or_recalled_stock():
    candidates = [
        _c(1, -1, 100),
        _c(2, 10, 100, "quarantined"),
        _c(3, 10, 100, "recalled"),
        _c(4, 0, 3),
    ]
    assert [p.batch_id for p in pick_fefo(candidates, Decimal(3), TODAY)] == [4]
    with pytest.raises(InsufficientStockError) as refused:
        pick_fefo(candidates, Decimal(4), TODAY)
    assert refused.value.extra["available"] == "3"


def test_quantity_rules():
    check_quantity(Decimal("2.5"), divisible=True, unit="mL", field="q")
    check_quantity(Decimal(-2), divisible=False, unit="tablet", field="q", allow_negative=True)
    with pytest.raises(IndivisibleUnitError):
        check_quantity(Decimal("0.5"), divisible=False, unit="tablet", field="q")
    with pytest.raises(Exception, match="greater than zero"):
        check_quantity(Decimal(-1), divisible=True, unit="mL", field="q")
    with pytest.raises(Exception, match="non-zero"):
        check_quantity(Decimal(0), divisible=True, unit="mL", field="q", allow_negative=True)


def test_receipt_expiry_must_be_future_and_plausible():
    check_receipt_expiry(TODAY, TODAY, field="e")
    with pytest.raises(ExpiredLotError):
        check_receipt_expiry(TODAY - timedelta(days=1), TODAY, field="e")
    with pytest.raises(ImplausibleExpiryError):
        check_receipt_expiry(date(2040, 1, 1), TODAY, field="e")
    check_receipt_expiry(date(2036, 6, 15), TODAY, field="e")
    check_receipt_expiry(date(2034, 2, 28), date(2024, 2, 29), field="e")


def test_expiry_windows_pick_the_tightest():
    assert expiry_window(TODAY + timedelta(days=20), TODAY, (90, 60, 30)) == 30
    assert expiry_window(TODAY + timedelta(days=61), TODAY, (90, 60, 30)) == 90
    assert expiry_window(TODAY + timedelta(days=91), TODAY, (90, 60, 30)) is None
    assert expiry_window(TODAY - timedelta(days=1), TODAY, (90, 60, 30)) is None


def test_smoothing_weights_recent_weeks_and_matches_a_constant_rate():
    assert smoothed_weekly_demand([10] * 52) == pytest.approx(10)
    assert smoothed_weekly_demand([20] + [0] * 51) > smoothed_weekly_demand([0] * 51 + [20])
    assert smoothed_weekly_demand([]) == 0


def test_reorder_orders_whole_packs_up_to_the_target():
    advice = reorder_advice(
        ReorderInput(
            on_hand=Decimal(10),
            on_order=Decimal(0),
            weekly_demand=70.0,
            lead_time_days=7,
            reorder_level=None,
            par_level=None,
            safety_stock=Decimal(5),
            pack_size=Decimal(28),
        )
    )
    assert advice.daily_demand == 10 and advice.days_of_stock == 1
    assert advice.reorder_point == Decimal(75)
    # Target: 21 days of demand + safety stock = 215; 205 needed → 8 boxes of 28.
    assert advice.suggested == Decimal(224)
    enough = reorder_advice(
        ReorderInput(Decimal(500), Decimal(0), 70.0, 7, None, None, Decimal(0), Decimal(1))
    )
    assert enough.suggested == 0 and enough.days_of_stock == 50
    on_order = reorder_advice(
        ReorderInput(Decimal(10), Decimal(300), 70.0, 7, None, None, Decimal(0), Decimal(1))
    )
    assert on_order.suggested == 0
    idle = reorder_advice(
        ReorderInput(Decimal(0), Decimal(0), 0.0, 7, None, None, Decimal(0), Decimal(1))
    )
    assert idle.suggested == 0 and idle.days_of_stock is None


def test_gs1_codes_in_every_form_a_scanner_sends():
    expected = PackCode("09501101530003", date(2027, 4, 30), "AB12", "S9")
    for code in (
        "]d201095011015300031727043010AB12\x1d21S9",
        "01095011015300031727043010AB12<GS>21S9",
        "(01)09501101530003(17)270430(10)AB12(21)S9",
    ):
        assert parse_medication_code(code) == expected
    assert parse_medication_code("5901234123457") == PackCode("05901234123457")
    assert parse_medication_code(dispense_label_code(42)) == LabelCode(42)
    assert dispense_label_code(42) == "HMSDL0000000042"
    for bad in ("", "x" * 300, "hello", "0109501101530009", "10ABC"):
        with pytest.raises(MalformedBarcodeError):
            parse_medication_code(bad)
    assert normalize_gtin("9501101530003") == "09501101530003"


def test_scan_must_be_the_prescribed_drug_and_a_picked_batch():
    picks = [Pick(1, 7, "AB12", date(2027, 4, 30), Decimal(5))]
    good = PackCode("09501101530003", date(2027, 4, 30), "AB12")
    verify_scan(good, 3, "Para", 3, "Paracetamol", picks, field="f")
    verify_scan(PackCode("09501101530003"), 3, "Para", 3, "Paracetamol", picks, field="f")
    with pytest.raises(WrongItemScannedError, match="Ibuprofen"):
        verify_scan(good, 4, "Ibuprofen", 3, "Paracetamol", picks, field="f")
    with pytest.raises(WrongBatchScannedError, match="AB12"):
        verify_scan(PackCode("09501101530003", None, "ZZ9"), 3, "P", 3, "P", picks, field="f")
    with pytest.raises(WrongBatchScannedError):
        verify_scan(
            PackCode("09501101530003", date(2027, 5, 31), "AB12"), 3, "P", 3, "P", picks, field="f"
        )
    with pytest.raises(WrongItemScannedError):
        verify_scan(LabelCode(5), None, "", 3, "P", picks, field="f")


def test_owed_rules():
    check_owed("X", Decimal(4), Decimal(10), Decimal(6))
    with pytest.raises(ExceedsOwedError):
        check_owed("X", Decimal(5), Decimal(10), Decimal(6))
    with pytest.raises(NothingOwedError):
        check_owed("X", Decimal(1), Decimal(10), Decimal(10))


def test_instructions_in_plain_words():
    assert plain_instructions(
        dose=Decimal(2),
        unit="tablet",
        route="oral",
        frequency="tds",
        duration_days=5,
        instructions="after food",
    ) == ("Take 2 tablets by mouth three times a day for 5 days. After food.")
    assert (
        plain_instructions(
            dose=Decimal("2.5"),
            unit="mL",
            route="oral",
            frequency="every 6 hours",
            duration_days=None,
            instructions=None,
        )
        == "Take 2.5 mL by mouth every 6 hours."
    )
    assert plain_instructions(
        dose=Decimal(2),
        unit="puff",
        route="inhaled",
        frequency="prn",
        duration_days=1,
        instructions=None,
    ) == ("Inhale 2 puffs when needed for 1 day.")


def test_purchase_order_states():
    check_po_transition("draft", "approved")
    with pytest.raises(InvalidStateError):
        check_po_transition("draft", "sent")
    with pytest.raises(InvalidStateError):
        check_po_transition("closed", "cancelled")
    assert (
        po_status_after_receipt([(Decimal(10), Decimal(10)), (Decimal(5), Decimal(2))])
        == "partly_received"
    )
    assert po_status_after_receipt([(Decimal(10), Decimal(10))]) == "closed"
