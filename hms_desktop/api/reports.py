"""Typed calls for the management reports (``/reports/<name>`` and ``/reports/<name>.csv``).

Every report takes a period (hospital-calendar days, both included) and a grouping for its
series; the answers are the contract's report models. CSV exports come back as the
server's bytes and suggested file name. No Qt; thread-safe like the ``ApiClient`` it wraps
(call it from the task runner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from hms_contract.reports import (
    ActivityReport,
    ClinicFlowReport,
    InpatientReport,
    PharmacyReport,
    RevenueReport,
)
from hms_desktop.api.client import ApiClient

#: report name (as in the URL) → its answer model
REPORT_MODELS: dict[str, Any] = {
    "activity": ActivityReport,
    "clinic-flow": ClinicFlowReport,
    "inpatient": InpatientReport,
    "revenue": RevenueReport,
    "pharmacy": PharmacyReport,
}


@dataclass(frozen=True)
class CsvExport:
    """A CSV table as the server sent it (UTF-8 with a byte-order mark)."""

    content: bytes
    file_name: str


class ReportsApi:
    """The manager's reports."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @staticmethod
    def _params(start: date, end: date, grouping: str) -> dict[str, str]:
        return {"start": start.isoformat(), "end": end.isoformat(), "grouping": grouping}

    def report(self, name: str, start: date, end: date, grouping: str = "day") -> Any:
        """One report (``activity``, ``clinic-flow``, ``inpatient``, ``revenue``,
        ``pharmacy``) as its contract model."""
        return self.api.get(
            f"/reports/{name}", REPORT_MODELS[name], params=self._params(start, end, grouping)
        )

    def activity(self, start: date, end: date, grouping: str = "day") -> ActivityReport:
        return self.report("activity", start, end, grouping)  # type: ignore[no-any-return]

    def clinic_flow(self, start: date, end: date, grouping: str = "day") -> ClinicFlowReport:
        return self.report("clinic-flow", start, end, grouping)  # type: ignore[no-any-return]

    def inpatient(self, start: date, end: date, grouping: str = "day") -> InpatientReport:
        return self.report("inpatient", start, end, grouping)  # type: ignore[no-any-return]

    def revenue(self, start: date, end: date, grouping: str = "day") -> RevenueReport:
        return self.report("revenue", start, end, grouping)  # type: ignore[no-any-return]

    def pharmacy(self, start: date, end: date, grouping: str = "day") -> PharmacyReport:
        return self.report("pharmacy", start, end, grouping)  # type: ignore[no-any-return]

    def csv(
        self, name: str, start: date, end: date, grouping: str = "day", table: str | None = None
    ) -> CsvExport:
        """One table of a report as the server's CSV (``table`` None: its main table)."""
        params = self._params(start, end, grouping)
        if table:
            params["table"] = table
        content, _kind = self.api.get_bytes(f"/reports/{name}.csv", params=params)
        # The same name the server suggests in its Content-Disposition.
        stem = f"{name}_{start.isoformat()}_{end.isoformat()}"
        return CsvExport(content, f"{stem}_{table}.csv" if table else f"{stem}.csv")
