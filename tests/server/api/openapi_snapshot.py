"""The committed OpenAPI snapshot and the checksum of the contract package it was made from.

Regenerate after a deliberate API change (``make openapi-snapshot``, i.e.
``python -m tests.server.api.openapi_snapshot``) and commit the snapshot with the change; on a
merge conflict in the snapshot, regenerate it on the merged tree.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
CONTRACT = ROOT / "hms_contract"


def contract_checksum() -> str:
    """SHA-256 over the contract package's sources (path and content of each file)."""
    digest = hashlib.sha256()
    for path in sorted(CONTRACT.rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def current_openapi() -> dict[str, Any]:
    """The application's OpenAPI document (built without touching a database)."""
    from hms_server.bootstrap import create_app
    from hms_server.config import Settings

    unused = "postgresql://snapshot@localhost/none"  # never connected to
    app = create_app(
        Settings(
            database_url=unused,
            runtime_database_url=unused,
            jwt_secret="openapi-snapshot-" + "x" * 32,
        )
    )
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    app.state.engine.dispose()
    return document


def render(document: dict[str, Any], checksum: str) -> str:
    return (
        json.dumps(
            {"contract_sha256": checksum, "openapi": document},
            indent=1,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def load() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main() -> int:
    SNAPSHOT.write_text(render(current_openapi(), contract_checksum()), encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
