#!/usr/bin/env python3
"""Write the WiX source for the HMS Desktop MSI from a staged install tree (for ``wixl``).

    make_wxs.py --source STAGE --version 0.1.0 --icon hms-desktop.ico --output hms-desktop.wxs

Silent deployment: ``msiexec /i hms-desktop.msi /qn SERVER_URL=https://hms.hospital.lan:8443
CA_FILE=C:\\ProgramData\\HMS\\ca.pem`` stores the two workstation settings under
``HKLM\\Software\\HMS\\HMS Desktop`` (``ServerUrl``, ``CaFile``), where the launcher reads them
when ``desktop.ini`` does not set them. An upgrade or repair without the properties keeps the
stored values (each property is first read back from the registry).

STAGE is laid out exactly as ``C:\\Program Files\\HMS Desktop`` will be. Every file becomes
its own component (the Windows Installer rule for clean repair/upgrade) with a GUID derived
from its install path, so the same file keeps the same component across versions. The
UpgradeCode below is fixed forever: it is what lets a newer MSI replace an older one
(MajorUpgrade); ProductCode is new for every build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

UPGRADE_CODE = "6F0C5B52-8E0A-4C3B-9B1E-2D8C4A7E5F31"  # never change: upgrades depend on it
NAMESPACE = uuid.UUID(UPGRADE_CODE)
MANUFACTURER = "HMS"
PRODUCT = "HMS Desktop"
LAUNCH_TARGET = r"[INSTALLDIR]python\pythonw.exe"
LAUNCH_ARGS = "-I -m hms_desktop_launcher"


def ident(prefix: str, rel: str) -> str:
    """A valid, stable MSI identifier (letters, digits, _ and ., at most 72 characters)."""
    return f"{prefix}_{hashlib.sha256(rel.encode()).hexdigest()[:24]}"


def guid(rel: str) -> str:
    return str(uuid.uuid5(NAMESPACE, rel.lower())).upper()


def msi_version(version: str) -> str:
    """MSI ProductVersion: up to three numeric fields (major.minor.build, 255.255.65535)."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    parts += [0] * (3 - len(parts))
    return ".".join(str(p) for p in parts)


# msiexec property → registry value the launcher reads (installers/common/hms_desktop_launcher)
SETTINGS = (("SERVER_URL", "ServerUrl"), ("CA_FILE", "CaFile"))
SETTINGS_KEY = f"Software\\{MANUFACTURER}\\{PRODUCT}"


def settings_properties() -> str:
    """Public, secure properties, each first read back from the registry, so an upgrade or
    a repair without them keeps what the first silent install stored."""
    searches = "\n".join(
        f'    <Property Id="{prop}">\n'
        f'      <RegistrySearch Id="Find{name}" Root="HKLM" Key="{SETTINGS_KEY}" '
        f'Name="{name}" Type="raw" Win64="yes"/>\n'
        f"    </Property>"
        for prop, name in SETTINGS
    )
    return searches


def secure_properties() -> str:
    """``SecureCustomProperties``: public properties a managed (elevated) install passes on.
    wixl ignores WiX's ``Secure="yes"`` and writes this list itself, so ``build_msi.sh`` sets
    it after wixl with ``msibuild`` (its upgrade properties kept)."""
    return ";".join(
        [*(prop for prop, _name in SETTINGS), "WIX_DOWNGRADE_DETECTED", "WIX_UPGRADE_DETECTED"]
    )


def settings_component() -> str:
    key_path = ' KeyPath="yes"'
    values = "\n".join(
        f'        <RegistryValue Root="HKLM" Key="{SETTINGS_KEY}" Name="{name}" '
        f'Type="string" Value="[{prop}]"{key_path if n == 0 else ""}/>'
        for n, (prop, name) in enumerate(SETTINGS)
    )
    return (
        f'    <DirectoryRef Id="INSTALLDIR">\n'
        f'      <Component Id="WorkstationSettings" Guid="{guid("workstation-settings")}" '
        f'Win64="yes">\n{values}\n      </Component>\n    </DirectoryRef>'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--icon", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    source = args.source.resolve()
    base = args.output.resolve().parent  # wixl runs there; it takes relative source paths

    def src(path: Path) -> str:
        return os.path.relpath(path.resolve(), base)

    components: list[str] = []
    lines: list[str] = []

    def walk(directory: Path, depth: int) -> None:
        pad = "  " * depth
        for path in sorted(directory.iterdir(), key=lambda p: (p.is_dir(), p.name.lower())):
            rel = path.relative_to(source).as_posix()
            if path.is_symlink():
                raise SystemExit(f"symlinks cannot go into an MSI: {rel}")
            if path.is_dir():
                lines.append(
                    f"{pad}<Directory Id={quoteattr(ident('d', rel))} Name={quoteattr(path.name)}>"
                )
                walk(path, depth + 1)
                lines.append(f"{pad}</Directory>")
            else:
                cid = ident("c", rel)
                components.append(cid)
                lines.append(
                    f"{pad}<Component Id={quoteattr(cid)} Guid={quoteattr(guid(rel))} "
                    f'Win64="yes"><File Id={quoteattr(ident("f", rel))} '
                    f"Name={quoteattr(path.name)} Source={quoteattr(src(path))} "
                    f'KeyPath="yes"/></Component>'
                )

    walk(source, 5)
    if not any("pythonw.exe" in line for line in lines):
        raise SystemExit("python/pythonw.exe missing from the staged tree")

    refs = "\n".join(f"      <ComponentRef Id={quoteattr(c)}/>" for c in components)
    wxs = f"""<?xml version="1.0" encoding="utf-8"?>
<!-- Generated by installers/msi/make_wxs.py: do not edit. -->
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="{PRODUCT}" Language="1033" Version="{msi_version(args.version)}"
           Manufacturer="{MANUFACTURER}" UpgradeCode="{UPGRADE_CODE}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"
             Manufacturer="{MANUFACTURER}" Description="{PRODUCT} {args.version}"
             Comments="HMS hospital management system - workstation client"/>
    <Media Id="1" Cabinet="hms.cab" EmbedCab="yes"/>
    <MajorUpgrade DowngradeErrorMessage="A newer version of [ProductName] is already installed."/>
    <Icon Id="hms.ico" SourceFile={quoteattr(src(args.icon))}/>
    <Property Id="ARPPRODUCTICON" Value="hms.ico"/>
    <Property Id="ARPNOMODIFY" Value="1"/>
{settings_properties()}

    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="{PRODUCT}">
{chr(10).join(lines)}
        </Directory>
      </Directory>
      <Directory Id="ProgramMenuFolder"/>
    </Directory>

    <DirectoryRef Id="ProgramMenuFolder">
      <Component Id="StartMenuShortcut" Guid="{guid("start-menu-shortcut")}" Win64="yes">
        <Shortcut Id="HmsDesktopShortcut" Name="{PRODUCT}"
                  Description="Hospital management system workstation client"
                  Target="{LAUNCH_TARGET}" Arguments="{LAUNCH_ARGS}"
                  WorkingDirectory="INSTALLDIR" Icon="hms.ico"/>
        <RegistryValue Root="HKLM" Key="Software\\{MANUFACTURER}\\{PRODUCT}" Name="InstallDir"
                       Type="string" Value="[INSTALLDIR]" KeyPath="yes"/>
      </Component>
    </DirectoryRef>

{settings_component()}

    <Feature Id="Main" Title="{PRODUCT}" Level="1">
      <ComponentRef Id="StartMenuShortcut"/>
      <ComponentRef Id="WorkstationSettings"/>
{refs}
    </Feature>
  </Product>
</Wix>
"""
    args.output.write_text(wxs, encoding="utf-8")
    print(f"{args.output}: {len(components)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
