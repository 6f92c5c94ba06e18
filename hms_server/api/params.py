"""Path and query parameter types the routers share, so every id, page size and offset is
bounded the same way (a 64-bit id, at most 500 rows a page) and answers 422 past it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
