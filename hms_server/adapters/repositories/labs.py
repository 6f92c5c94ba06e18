"""Laboratory: the test catalogue, orders and results."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select

from hms_server.adapters.orm.clinical import LabOrder, LabResult, LabTest
from hms_server.adapters.repositories import Repository


class LabRepository(Repository):
    def catalogue(self, *, q: str | None, limit: int, offset: int) -> tuple[list[LabTest], int]:
        """Active tests whose name or code contains ``q``, or whose LOINC code is ``q``."""
        query = select(LabTest).where(LabTest.active.is_(True))
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(
                or_(
                    func.lower(LabTest.name).like(pattern),
                    func.lower(LabTest.code).like(pattern),
                    LabTest.loinc == q,
                )
            )
        return self.page(query, [LabTest.name], limit, offset)

    def test(self, test_id: int) -> LabTest | None:
        return self.session.get(LabTest, test_id)

    def test_by_code(self, code: str) -> LabTest | None:
        return self.session.scalar(select(LabTest).where(func.upper(LabTest.code) == code.upper()))

    def tests(self, ids: Iterable[int]) -> dict[int, LabTest]:
        return {
            t.id: t for t in self.session.scalars(select(LabTest).where(LabTest.id.in_(set(ids))))
        }

    def order(self, order_id: int, *, lock: bool = False) -> LabOrder | None:
        return self.session.get(LabOrder, order_id, with_for_update=lock)

    def result(self, result_id: int) -> LabResult | None:
        return self.session.get(LabResult, result_id)

    def results_of_orders(self, order_ids: list[int]) -> dict[int, LabResult]:
        return {
            r.order_id: r
            for r in self.session.scalars(
                select(LabResult).where(LabResult.order_id.in_(order_ids))
            )
        }

    def orders(
        self, patient_id: int, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[LabOrder], int]:
        query = select(LabOrder).where(LabOrder.patient_id == patient_id)
        if status:
            query = query.where(LabOrder.status == status)
        return self.page(query, [LabOrder.ordered_at.desc(), LabOrder.id.desc()], limit, offset)

    def results(
        self, patient_id: int, *, test_code: str | None, limit: int, offset: int
    ) -> tuple[list[tuple[LabResult, LabTest]], int]:
        query = (
            select(LabResult, LabTest)
            .join(LabTest, LabTest.id == LabResult.test_id)
            .where(LabResult.patient_id == patient_id)
        )
        if test_code:
            query = query.where(func.upper(LabTest.code) == test_code.upper())
        total = self.count(query)
        rows = [
            (r, t)
            for r, t in self.session.execute(
                query.order_by(LabResult.resulted_at.desc(), LabResult.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ]
        return rows, total
