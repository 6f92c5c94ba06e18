"""Start hms-desktop with the workstation's settings (installed by the DEB and the MSI).

The hospital's IT puts two settings in one file per workstation, so the menu entry / Start
menu shortcut needs no arguments:

    Linux:   /etc/hms/desktop.ini
    Windows: %ProgramData%\\HMS\\desktop.ini

    [desktop]
    server = https://hms.hospital.lan:8443
    ca_file = /etc/hms/ca.pem            ; C:\\ProgramData\\HMS\\ca.pem on Windows

``HMS_DESKTOP_CONFIG`` names another file. Arguments given on the command line win.

On Windows a silent install can set both without any file: ``msiexec /i hms-desktop.msi /qn
SERVER_URL=https://hms.hospital.lan:8443 CA_FILE=C:\\ProgramData\\HMS\\ca.pem`` stores them under
``HKLM\\Software\\HMS\\HMS Desktop`` (``ServerUrl``, ``CaFile``); ``desktop.ini`` still wins
over the registry, so a hand-edited file is never overridden by the deployment. On
Windows (pythonw.exe has no console) a crash is written to %LOCALAPPDATA%\\HMS\\hms-desktop.log
and shown in a message box instead of vanishing.
"""

from __future__ import annotations

import configparser
import os
import sys
import traceback
from pathlib import Path


def config_path() -> Path:
    explicit = os.environ.get("HMS_DESKTOP_CONFIG")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "HMS" / "desktop.ini"
    return Path("/etc/hms/desktop.ini")


REGISTRY_KEY = r"Software\HMS\HMS Desktop"
REGISTRY_VALUES = {"server": "ServerUrl", "ca_file": "CaFile"}


def registry_settings() -> dict[str, str]:
    """What a silent MSI install stored (``SERVER_URL``, ``CA_FILE``); empty off Windows."""
    if sys.platform != "win32":
        return {}
    import winreg  # type: ignore[import-not-found]

    found: dict[str, str] = {}
    try:
        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        ) as key:
            for setting, name in REGISTRY_VALUES.items():
                try:
                    value, _kind = winreg.QueryValueEx(key, name)
                except OSError:
                    continue
                if isinstance(value, str) and value.strip():
                    found[setting] = value.strip()
    except OSError:
        return {}
    return found


def workstation_args(
    argv: list[str], path: Path, deployed: dict[str, str] | None = None
) -> list[str]:
    """``argv`` plus ``--server``/``--ca-file`` where argv does not set them: from ``path``,
    else from ``deployed`` (what the MSI's SERVER_URL / CA_FILE stored)."""
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    section: configparser.SectionProxy | dict[str, str] = {}
    try:
        parser.read(path, encoding="utf-8")
        if parser.has_section("desktop"):
            section = parser["desktop"]
    except (OSError, configparser.Error) as exc:
        print(f"hms-desktop: ignoring {path}: {exc}", file=sys.stderr)
    deployed = deployed or {}
    extra: list[str] = []
    for option, key in (("--server", "server"), ("--ca-file", "ca_file")):
        value = (section.get(key) or "").strip() or deployed.get(key, "")
        given = any(a == option or a.startswith(option + "=") for a in argv)
        if value and not given:
            extra += [option, value]
    return extra + argv


def _report_crash() -> None:
    text = traceback.format_exc()
    if sys.platform != "win32" or sys.stderr is not None:
        sys.stderr.write(text)
        return
    log = Path(os.environ.get("LOCALAPPDATA", str(Path.home()))) / "HMS" / "hms-desktop.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError:
        pass
    try:
        import ctypes

        ctypes.windll.user32.MessageBoxW(  # type: ignore[attr-defined]
            None,
            f"HMS Desktop stopped with an error.\n\n{text[-1500:]}\n\nLog: {log}",
            "HMS Desktop",
            0x10,
        )
    except Exception:  # noqa: S110 - last resort, nothing left to tell
        pass


def main() -> int:
    argv = workstation_args(sys.argv[1:], config_path(), registry_settings())
    try:
        from hms_desktop.main import main as desktop_main

        return int(desktop_main(argv) or 0)
    except SystemExit:
        raise
    except BaseException:
        _report_crash()
        return 1


if __name__ == "__main__":
    sys.exit(main())
