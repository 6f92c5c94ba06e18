"""The layering contracts in pyproject.toml ([tool.importlinter]) hold: domain imports no
framework, services no HTTP layer, adapters no services; in the desktop, Qt only through
qt.py, workspaces independent of each other, the API client and printing without Qt and
only the API layer on HTTP; and server and desktop never import each other."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency"
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout
