# Shared by build_deb.sh and build_msi.sh (sourced, not run).
# Layout: build/installers/{tools,cache,wheel,deb,msi} (kept between runs: caches make
# re-runs fast), dist/ (the packages).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTALLERS="$ROOT/installers"
WORK="$ROOT/build/installers"
DIST="$ROOT/dist"
TOOLS="$WORK/tools"                 # venv with uv (built with the system python3)
export UV_CACHE_DIR="$WORK/cache/uv"
export UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1
mkdir -p "$WORK" "$DIST"

log()  { printf '\033[1m[%s %s]\033[0m %s\n' "${LOG_TAG:-installers}" "$(date +%H:%M:%S)" "$*"; }
die()  { printf '\033[31m[%s] error:\033[0m %s\n' "${LOG_TAG:-installers}" "$*" >&2; exit 1; }

# need_cmd COMMAND APT_PACKAGE: install the package when root on Debian/Ubuntu, else fail clearly.
need_cmd() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $pkg (for $cmd)"
        if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null \
            || die "apt-get install $pkg failed"
        command -v "$cmd" >/dev/null 2>&1 || die "$pkg installed but $cmd still missing"
    else
        die "'$cmd' not found: install the '$pkg' package (sudo apt-get install $pkg) and run again"
    fi
}

# need_pkg APT_PACKAGE: a Debian package that provides no command (e.g. python3-venv).
need_pkg() {
    local pkg=$1
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $pkg"
        if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null \
            || die "apt-get install $pkg failed"
    else
        die "Debian package '$pkg' is missing: sudo apt-get install $pkg"
    fi
}

# The system interpreter the DEBs run on (Debian 12: 3.11) also runs the build tools.
SYS_PY=/usr/bin/python3
[ -x "$SYS_PY" ] || die "$SYS_PY not found: install python3 (the packages are built for the system Python)"

version() { "$SYS_PY" "$INSTALLERS/common/project.py" version; }

# tools_venv: uv in build/installers/tools (one PyPI download, then cached).
tools_venv() {
    need_pkg python3-venv
    if [ ! -x "$TOOLS/bin/uv" ]; then
        log "creating build tools venv ($TOOLS) with uv"
        rm -rf "$TOOLS"
        "$SYS_PY" -m venv "$TOOLS"
        "$TOOLS/bin/pip" install --quiet --disable-pip-version-check uv 2>&1 \
            | { grep -v "is ignored: it is neither" || true; } >&2
        [ -x "$TOOLS/bin/uv" ] || die "could not install uv from PyPI"
    fi
    UV="$TOOLS/bin/uv"
}

# project_wheel: builds dist-independent wheel of the working tree into $WORK/wheel; sets WHEEL.
project_wheel() {
    local v; v=$(version)
    local wdir="$WORK/wheel-${LOG_TAG:-build}"
    rm -rf "$wdir"; mkdir -p "$wdir"
    log "building the project wheel hms-$v (from the working tree)"
    # Build from a clean copy of what the wheel is made of, so setuptools' build/ and
    # *.egg-info never land in the working tree and stale build files never get in.
    local src="$wdir/src"
    mkdir -p "$src"
    (cd "$ROOT" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml setup.py \
        README.md $(ls -d LICENSE* 2>/dev/null) hms_server hms_desktop hms_contract resources) \
        | tar -xf - -C "$src"
    "$UV" build --quiet --wheel --out-dir "$wdir" "$src" >/dev/null \
        || die "building the project wheel failed"
    WHEEL=$(ls "$wdir"/hms-"$v"-*.whl 2>/dev/null | head -1)
    [ -n "$WHEEL" ] || die "no wheel hms-$v-*.whl produced"
    log "wheel: $(basename "$WHEEL")"
}

# trim_pyside SITE_PACKAGES: drop PySide6's developer tooling, which the app never runs
# (Qt Designer/Linguist/QML tools, uic/rcc, C++ headers, typesystems, pyside6-* scripts).
trim_pyside() {
    local pyside="$1/PySide6"
    [ -d "$pyside" ] || return 0
    local tool
    for tool in assistant designer linguist lrelease lupdate qmlformat qmllint qmlls svgtoqml \
                balsam balsamui qmlcachegen qmlimportscanner qmltyperegistrar rcc uic; do
        rm -f "$pyside/$tool" "$pyside/$tool.exe"
    done
    rm -rf "$pyside/include" "$pyside/typesystems" "$pyside/glue" "$pyside/scripts" \
           "$pyside/doc" "$pyside/Qt/libexec" "$pyside/Qt/metatypes"
}
