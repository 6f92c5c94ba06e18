"""One way to turn a story of flowables into the bytes of a printable PDF: every HMS
document has the same margins rule (a little more at the bottom for the footer), the same
metadata (title, author = the hospital, creator HMS) and the same footer on every page."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate


def render_pdf(
    story: Sequence[Flowable],
    *,
    pagesize: tuple[float, float],
    margin: float,
    on_page: Callable[[Any, Any], None],
    title: str,
    author: str,
    subject: str,
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=title,
        author=author,
        subject=subject,
        creator="HMS",
    )
    doc.build(list(story), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
