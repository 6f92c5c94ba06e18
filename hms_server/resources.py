"""Where the server finds the files of the top-level ``resources/`` folder (reference data).

An installed wheel carries them as the ``hms_resources`` package; a source checkout whose
editable install predates that package still finds the folder beside ``hms_server/``.
"""

from __future__ import annotations

from pathlib import Path


def resources_root() -> Path:
    try:
        import hms_resources
    except ModuleNotFoundError:  # a source checkout with an older editable install
        return Path(__file__).resolve().parent.parent / "resources"
    return Path(hms_resources.ROOT)


def reference_data_dir() -> Path:
    """``formulary.json``, ``drug_interactions.json``, ``lab_catalogue.json``."""
    return resources_root() / "reference-data"
