"""The installed product carries its resources: build the wheel exactly as the installers do
(``pip wheel``), install it into an empty folder, and from a Python that sees only that
folder (plus third-party dependencies, never this source tree) find every resource: fonts,
reference data, the icon, migrations and the booking page's static files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys
from pathlib import Path
import hms_server, hms_desktop, hms_resources
from hms_server.resources import reference_data_dir
from hms_server.adapters.migrations import MIGRATIONS_DIR
from hms_server.adapters.reference_data import DATASETS
from hms_desktop.printing.fonts import FONT_DIR, register_fonts

site = Path(sys.argv[1]).resolve()
found = {
    "modules": [str(Path(m.__file__).resolve().is_relative_to(site))
                for m in (hms_server, hms_desktop, hms_resources)],
    "datasets": {d.file: len(json.loads((reference_data_dir() / d.file).read_text("utf-8")))
                 for d in DATASETS},
    "fonts": sorted(p.name for p in FONT_DIR.glob("*.ttf")),
    "font_dir_installed": FONT_DIR.resolve().is_relative_to(site),
    "fonts_register": list(register_fonts()),
    "icon": hms_resources.path("icons", "hms-desktop.svg").is_file(),
    "migrations": sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py")),
    "static": sorted(p.name for p in (Path(hms_server.__file__).parent / "static").iterdir()),
    "breached_passwords": len(__import__(
        "hms_server.adapters.common_passwords", fromlist=["x"]).common_passwords()),
}
print(json.dumps(found))
"""


@pytest.mark.slow
def test_an_installed_wheel_finds_every_resource(tmp_path: Path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = wheels.glob("hms-*.whl")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    # -S: no site-packages processing, so the editable install of this checkout is invisible;
    # third-party packages come from the venv's site-packages after the installed wheel.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        ),
    }
    probe = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["modules"] == ["True", "True", "True"]
    assert set(found["datasets"]) == {
        "formulary.json",
        "drug_interactions.json",
        "lab_catalogue.json",
    }
    assert all(count > 10 for count in found["datasets"].values())
    assert found["fonts"] == [
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-BoldOblique.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans.ttf",
    ]
    assert found["font_dir_installed"] is True
    assert found["fonts_register"] == ["DejaVuSans", "DejaVuSans-Bold"]
    assert found["icon"] is True
    source_migrations = sorted(
        p.name for p in (ROOT / "hms_server/migrations/versions").glob("0*.py")
    )
    assert found["migrations"] == source_migrations
    assert {"booking.html", "booking.css", "booking.js"} <= set(found["static"])
    assert found["breached_passwords"] > 19_000  # the password policy's offline list
