"""End-of-day cash-up per cashier and drawer.

A session opens with the drawer's float (or by itself on the cashier's first payment). Every
payment, deposit and refund the cashier handles belongs to it. At the end of the shift the
cashier counts each method; the expected totals come from the payments themselves, a
variance needs a reason, and once submitted the session is locked (a database trigger
refuses any later change, and any payment into it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.billing import CashSession
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import CashSessionClosedError, field_error
from hms_server.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)
from hms_server.domain.versioning import check_version
from hms_server.services.billing.common import actor_id, audit, money, repo

METHODS = ("cash", "card", "bank_transfer")


class SessionOpenError(ConflictError):
    code, title = "cash_session_open", "A session is open"


@dataclass(frozen=True)
class MethodTotalView:
    method: str
    expected: Decimal
    counted: Decimal | None
    variance: Decimal | None
    count: int


@dataclass(frozen=True)
class CashSessionView:
    id: int
    cashier_id: int
    cashier_name: str | None
    drawer: str
    status: str
    opened_at: datetime
    opening_float: Decimal
    submitted_at: datetime | None
    totals: list[MethodTotalView] = field(default_factory=list)
    expected_cash_in_drawer: Decimal = Decimal(0)
    variance: Decimal | None = None
    variance_reason: str | None = None
    version: int = 1


def _expected(uow: UnitOfWork, session: CashSession) -> dict[str, tuple[Decimal, int]]:
    """Per method: money in (payments, deposits) minus money out (refunds), and the count."""
    totals = repo(uow).session_totals(session.id)
    expected = {}
    for method in METHODS:
        taken, n_in = Decimal(0), 0
        for kind in ("payment", "deposit"):
            amount, count = totals.get((kind, method), (Decimal(0), 0))
            taken, n_in = taken + amount, n_in + count
        out, n_out = totals.get(("refund", method), (Decimal(0), 0))
        expected[method] = (uow.hospital.round_money(taken - out), n_in + n_out)
    return expected


def session_view(uow: UnitOfWork, session: CashSession) -> CashSessionView:
    rm = uow.hospital.round_money
    expected = _expected(uow, session)
    counted = {k: Decimal(v) for k, v in (session.counted or {}).items()}
    in_drawer = rm(session.opening_float + expected["cash"][0])
    totals = []
    for method in METHODS:
        want, count = expected[method]
        got = counted.get(method)
        target = in_drawer if method == "cash" else want
        totals.append(
            MethodTotalView(
                method=method,
                expected=want,
                counted=rm(got) if got is not None else None,
                variance=rm(got - target) if got is not None else None,
                count=count,
            )
        )
    name = repo(uow).user_names([session.cashier_id]).get(session.cashier_id)
    return CashSessionView(
        id=session.id,
        cashier_id=session.cashier_id,
        cashier_name=name,
        drawer=session.drawer,
        status=session.status,
        opened_at=session.opened_at,
        opening_float=rm(session.opening_float),
        submitted_at=session.submitted_at,
        totals=totals,
        expected_cash_in_drawer=in_drawer,
        variance=rm(session.variance) if session.variance is not None else None,
        variance_reason=session.variance_reason,
        version=session.version,
    )


def open_session(uow: UnitOfWork, *, drawer: str, opening_float: Decimal) -> CashSessionView:
    with uow:
        r = repo(uow)
        cashier = actor_id(uow)
        if cashier is None:
            raise ForbiddenError("Only a signed-in cashier opens a drawer.")
        if r.open_cash_session(cashier) is not None:
            raise SessionOpenError("You already have an open cash session; cash it up first.")
        if r.drawer_open(drawer):
            raise SessionOpenError(
                f"Drawer {drawer} is in use by another cashier.",
                extra={"errors": [field_error("drawer", "in use")]},
            )
        session = CashSession(
            cashier_id=cashier,
            drawer=drawer,
            status="open",
            opened_at=utcnow(),
            opening_float=money(uow, opening_float, "opening_float"),
        )
        uow.session.add(session)
        uow.session.flush()
        audit(
            uow,
            "cashup.open",
            patient_id=None,
            cash_session_id=session.id,
            drawer=drawer,
            opening_float=session.opening_float,
        )
        view = session_view(uow, session)
        uow.commit()
        return view


def current_session(uow: UnitOfWork) -> CashSessionView:
    with uow:
        cashier = actor_id(uow)
        session = repo(uow).open_cash_session(cashier) if cashier is not None else None
        if session is None:
            raise NotFoundError("You have no open cash session.")
        return session_view(uow, session)


def get_session(uow: UnitOfWork, session_id: int, *, any_cashier: bool) -> CashSessionView:
    with uow:
        session = repo(uow).cash_session(session_id)
        if session is None or (not any_cashier and session.cashier_id != actor_id(uow)):
            raise NotFoundError(f"No cash session with id {session_id}.")
        return session_view(uow, session)


def list_sessions(
    uow: UnitOfWork, *, any_cashier: bool, status: str | None, limit: int, offset: int
) -> tuple[list[CashSessionView], int]:
    with uow:
        rows, total = repo(uow).list_cash_sessions(
            cashier_id=None if any_cashier else actor_id(uow),
            status=status,
            limit=limit,
            offset=offset,
        )
        return [session_view(uow, s) for s in rows], total


def submit_session(
    uow: UnitOfWork,
    session_id: int,
    *,
    version: int,
    counted: dict[str, Decimal],
    variance_reason: str | None,
) -> CashSessionView:
    """Close the shift with the counted totals (cash = the whole drawer, float included)."""
    with uow:
        session = repo(uow).cash_session(session_id, lock=True)
        if session is None or session.cashier_id != actor_id(uow):
            raise NotFoundError(f"No cash session of yours with id {session_id}.")
        if session.status != "open":
            raise CashSessionClosedError("This cash-up was already submitted; it is locked.")
        check_version(session.version, version, "cash session")
        counted = {m: money(uow, v, f"counted.{m}") for m, v in counted.items()}
        expected = _expected(uow, session)
        in_drawer = session.opening_float + expected["cash"][0]
        targets = {m: (in_drawer if m == "cash" else expected[m][0]) for m in METHODS}
        if "cash" not in counted:
            raise ValidationFailedError(
                "Count the cash in the drawer (float included).",
                extra={"errors": [field_error("counted", "the cash count is required")]},
            )
        # A method not counted (no card terminal, say) is taken as the expected total.
        counted = {m: counted.get(m, targets[m]) for m in METHODS}
        per_method = {m: counted[m] - targets[m] for m in METHODS}
        variance = sum(per_method.values(), Decimal(0))
        if any(v != 0 for v in per_method.values()) and not variance_reason:
            raise ValidationFailedError(
                "The count differs from what was expected; give a reason for the variance.",
                extra={
                    "errors": [field_error("variance_reason", "required when the count differs")],
                    "variance": {m: format(v, "f") for m, v in per_method.items()},
                },
            )
        session.expected = {m: format(targets[m], "f") for m in METHODS}
        session.counted = {m: format(v, "f") for m, v in counted.items()}
        session.variance = uow.hospital.round_money(variance)
        session.variance_reason = variance_reason
        session.status, session.submitted_at = "submitted", utcnow()
        uow.session.flush()
        audit(
            uow,
            "cashup.submit",
            patient_id=None,
            cash_session_id=session.id,
            variance=session.variance,
        )
        uow.publish("cashup.submitted", {"cash_session_id": session.id})
        view = session_view(uow, session)
        uow.commit()
        return view
