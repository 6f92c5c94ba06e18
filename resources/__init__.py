"""Files a person edits rather than code: the PDF fonts, the reference data (formulary,
interaction table, laboratory catalogue) and the application icon.

This folder is the top-level ``resources/`` of the source tree; the build ships it inside the
wheel as the ``hms_resources`` package (see ``setup.py``), so an installed server or desktop
finds the same files at ``hms_resources.path(...)``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent

FONTS = "fonts"
REFERENCE_DATA = "reference-data"
ICONS = "icons"


def path(*parts: str) -> Path:
    """A resource file or folder, e.g. ``path("fonts", "DejaVuSans.ttf")``."""
    return ROOT.joinpath(*parts)
