"""The DEB's description names exactly the workspaces the desktop has built (read from the
workspace registry without importing Qt), never one that is still "coming soon"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "workspaces_text", ROOT / "installers" / "common" / "workspaces_text.py"
)
assert spec is not None and spec.loader is not None
workspaces_text = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workspaces_text)


def test_the_description_lists_the_built_workspaces_only():
    from hms_desktop.workspaces import WORKSPACES

    built = [info.key for info in WORKSPACES if info.built]
    assert workspaces_text.built_workspaces() == built
    text = workspaces_text.as_text(built)
    assert all(key in text for key in built)
    assert not any(info.key in text for info in WORKSPACES if not info.built)


def test_the_deb_script_takes_its_description_from_the_registry():
    script = (ROOT / "installers" / "build_deb.sh").read_text(encoding="utf-8")
    assert "workspaces_text.py" in script
    assert "ward, pharmacy, billing" not in script
