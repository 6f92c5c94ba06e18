"""Silent deployment of the desktop MSI: ``msiexec /i hms-desktop.msi /qn SERVER_URL=...
CA_FILE=...`` configures a workstation without a hand-written ini file. The MSI (built with
wixl from make_wxs.py, as build_msi.sh does, over a tiny staged tree) stores both properties
in the registry, remembers them across upgrades (AppSearch), and marks them secure; the
launcher reads them when desktop.ini does not set them."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLERS = ROOT / "installers"


def _module(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launcher = _module("hms_desktop_launcher", INSTALLERS / "common" / "hms_desktop_launcher.py")
make_wxs = _module("make_wxs", INSTALLERS / "msi" / "make_wxs.py")


def test_the_launcher_uses_the_deployed_settings_unless_the_ini_or_argv_says_otherwise(tmp_path):
    deployed = {"server": "https://hms.hospital.lan:8443", "ca_file": r"C:\ProgramData\HMS\ca.pem"}
    empty_ini = tmp_path / "desktop.ini"
    empty_ini.write_text("[desktop]\nserver =\nca_file =\n", encoding="utf-8")
    assert launcher.workstation_args([], empty_ini, deployed) == [
        "--server",
        "https://hms.hospital.lan:8443",
        "--ca-file",
        r"C:\ProgramData\HMS\ca.pem",
    ]
    assert launcher.workstation_args([], tmp_path / "missing.ini", deployed)[:2] == [
        "--server",
        "https://hms.hospital.lan:8443",
    ]
    edited = tmp_path / "edited.ini"
    edited.write_text("[desktop]\nserver = https://other:8443\n", encoding="utf-8")
    assert launcher.workstation_args([], edited, deployed)[:2] == ["--server", "https://other:8443"]
    assert launcher.workstation_args(["--server", "https://cli:1"], edited, deployed) == [
        "--ca-file",
        r"C:\ProgramData\HMS\ca.pem",
        "--server",
        "https://cli:1",
    ]


@pytest.mark.skipif(
    not (shutil.which("wixl") and shutil.which("msiinfo") and shutil.which("msibuild")),
    reason="needs wixl and msitools (apt-get install wixl msitools)",
)
def test_the_msi_stores_server_url_and_ca_file_and_remembers_them(tmp_path):
    stage = tmp_path / "stage"
    (stage / "python").mkdir(parents=True)
    (stage / "python" / "pythonw.exe").write_bytes(b"MZ")
    icon = tmp_path / "hms.ico"
    subprocess.run(
        [sys.executable, str(INSTALLERS / "msi" / "make_icon.py"), str(icon)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "msi"
    out.mkdir()
    subprocess.run(
        [
            sys.executable,
            str(INSTALLERS / "msi" / "make_wxs.py"),
            "--source",
            str(stage),
            "--version",
            "1.2.3",
            "--icon",
            str(icon),
            "--output",
            str(out / "hms.wxs"),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["wixl", "-a", "x64", "-o", "hms.msi", "hms.wxs"], cwd=out, check=True, capture_output=True
    )
    msi = str(out / "hms.msi")
    subprocess.run(
        [
            "msibuild",
            msi,
            "-q",
            "UPDATE `Property` SET `Value` = "
            f"'{make_wxs.secure_properties()}' WHERE `Property` = "
            "'SecureCustomProperties'",
        ],
        check=True,
        capture_output=True,
    )

    def table(name: str) -> list[list[str]]:
        text = subprocess.run(
            ["msiinfo", "export", msi, name], check=True, capture_output=True, text=True
        ).stdout
        return [line.split("\t") for line in text.splitlines()[3:] if line]

    registry = {(row[2], row[3]): row[4] for row in table("Registry")}
    assert registry[(r"Software\HMS\HMS Desktop", "ServerUrl")] == "[SERVER_URL]"
    assert registry[(r"Software\HMS\HMS Desktop", "CaFile")] == "[CA_FILE]"
    # An upgrade or repair run without the properties reads the stored values back first.
    assert {tuple(row[:2]) for row in table("AppSearch")} == {
        ("SERVER_URL", "FindServerUrl"),
        ("CA_FILE", "FindCaFile"),
    }
    locators = {row[0]: row[2:4] for row in table("RegLocator")}
    assert locators["FindServerUrl"] == [r"Software\HMS\HMS Desktop", "ServerUrl"]
    properties = dict(row[:2] for row in table("Property"))
    assert properties["SecureCustomProperties"].split(";")[:2] == ["SERVER_URL", "CA_FILE"]
