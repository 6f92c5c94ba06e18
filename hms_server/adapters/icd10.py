"""ICD-10-CM code set (CDC/NCHS, public domain) shipped by the ``simple-icd-10-cm`` package.

We read the package's bundled tabular XML ourselves (one ElementTree pass, ~1 s) rather than
importing the package, whose richer tree takes several times longer to build. The index is
built lazily on first use, once per process, and kept in memory (~98k codes including the
7th-character extensions). Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import xml.etree.ElementTree as ET  # trusted file from an installed package
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "simple_icd_10_cm"

_lock = threading.Lock()
_index: _Index | None = None


@dataclass(frozen=True)
class Icd10Code:
    code: str  # with the dot, e.g. "E11.9"
    description: str
    billable: bool


def bare(code: str) -> str:
    return code.strip().upper().replace(".", "")


def dotted(code: str) -> str:
    code = bare(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _tabular_xml() -> Path:
    # find_spec locates the package without importing it: importing it would parse the
    # whole XML a second time into the package's own tree.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE} package (ICD-10-CM data) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return next(folder.glob("icd10*tabular*.xml"))


@dataclass
class _Frame:
    seventh: dict[str, str] | None
    name: str | None = None
    description: str | None = None
    has_children: bool = False
    own_seventh: bool = False


class _Index:
    """Streams the tabular XML (``iterparse``, elements cleared as they end) so building
    the index never holds the whole document tree in memory."""

    def __init__(self, source: Path | io.BytesIO | None = None) -> None:
        self.version = "ICD-10-CM"
        self.by_code: dict[str, Icd10Code] = {}
        stack: list[_Frame] = []
        in_seventh = False
        for event, elem in ET.iterparse(  # noqa: S314 (the bundled CMS file, not user input)
            source or _tabular_xml(),
            events=("start", "end"),
        ):
            tag = elem.tag
            if event == "start":
                if tag == "diag":
                    parent = stack[-1] if stack else None
                    if parent is not None:
                        parent.has_children = True
                    stack.append(_Frame(seventh=parent.seventh if parent else None))
                elif tag == "sevenChrDef":
                    in_seventh = True
                continue
            if tag == "version" and elem.text:
                self.version = f"ICD-10-CM {elem.text.strip()}"
            elif not stack:
                pass
            elif tag == "name" and stack[-1].name is None:
                stack[-1].name = bare(elem.text or "")
            elif tag == "desc" and stack[-1].description is None:
                stack[-1].description = (elem.text or "").strip()
            elif tag == "extension" and in_seventh:
                frame = stack[-1]
                if not frame.own_seventh:
                    frame.seventh, frame.own_seventh = {}, True
                assert frame.seventh is not None
                frame.seventh[elem.get("char", "")] = (elem.text or "").strip()
            elif tag == "sevenChrDef":
                in_seventh = False
            elif tag == "diag":
                self._emit(stack.pop())
                elem.clear()
        self.entries = [
            (raw, entry.description.lower(), entry) for raw, entry in sorted(self.by_code.items())
        ]

    def _add(self, raw: str, description: str, billable: bool) -> None:
        self.by_code[raw] = Icd10Code(dotted(raw), description, billable)

    def _emit(self, frame: _Frame) -> None:
        raw, description = frame.name or "", frame.description or ""
        if not raw:
            return
        if frame.has_children:
            self._add(raw, description, False)
        elif frame.seventh:
            # Codes that need a 7th character: the base is not billable; pad with X to 6.
            self._add(raw, description, False)
            padded = raw.ljust(6, "X")
            for char, meaning in frame.seventh.items():
                self._add(padded + char, f"{description}, {meaning}", True)
        else:
            self._add(raw, description, True)


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def warm_up() -> None:
    """Build the index now (e.g. from a background thread at start-up)."""
    _get_index()


def version() -> str:
    return _get_index().version


def lookup(code: str) -> Icd10Code | None:
    return _get_index().by_code.get(bare(code))


def search(q: str, *, limit: int = 50, billable_only: bool = False) -> tuple[list[Icd10Code], int]:
    """Codes starting with ``q``, then codes whose title contains every word of ``q``
    (shorter, more general codes first)."""
    index = _get_index()
    words = q.lower().split()
    prefix = bare(q)
    code_hits: list[Icd10Code] = []
    text_hits: list[Icd10Code] = []
    for raw, folded, entry in index.entries:
        if billable_only and not entry.billable:
            continue
        if prefix and raw.startswith(prefix):
            code_hits.append(entry)
        elif words and all(w in folded for w in words):
            text_hits.append(entry)
    text_hits.sort(key=lambda e: (len(e.code), e.code))
    hits = code_hits + text_hits
    return hits[:limit], len(hits)
