"""Build a prescription PDF (reportlab, in ``hms_desktop.printing.prescription``).

Runs on a worker thread: fetches the prescription, then renders it. No Qt here.
"""

from __future__ import annotations

import inspect


def build_prescription_pdf(api, prescription_id: int, patient: dict, me: dict) -> bytes:
    from hms_desktop.printing import prescription as printing

    rx = api.get_prescription(prescription_id)
    render = getattr(printing, "render_prescription", None) or printing.prescription_pdf
    params = inspect.signature(render).parameters
    kwargs = {k: v for k, v in (("patient", patient), ("prescriber", me)) if k in params}
    return render(rx, **kwargs)
