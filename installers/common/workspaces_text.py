#!/usr/bin/env python3
"""Print the desktop's built workspaces as package text ("reception, clinical and
administration"), read from ``hms_desktop/workspaces/__init__.py`` without importing Qt, so a
package description never claims a workspace that is still a "coming soon" panel.

    workspaces_text.py [PATH_TO_WORKSPACES_INIT]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "hms_desktop" / "workspaces" / "__init__.py"


def built_workspaces(path: Path = DEFAULT) -> list[str]:
    """Keys of the ``WorkspaceInfo(...)`` entries marked ``built=True``, in rail order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "WorkspaceInfo":
            built = any(
                k.arg == "built" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            )
            if built and node.args and isinstance(node.args[0], ast.Constant):
                found.append(str(node.args[0].value))
    return found


def as_text(keys: list[str]) -> str:
    if len(keys) <= 1:
        return "".join(keys)
    return ", ".join(keys[:-1]) + " and " + keys[-1]


if __name__ == "__main__":
    print(as_text(built_workspaces(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)))
