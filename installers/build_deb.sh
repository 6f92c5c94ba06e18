#!/usr/bin/env bash
# Builds dist/hms-server_<version>_amd64.deb and dist/hms-desktop_<version>_amd64.deb.
#
# Each package carries a self-contained virtualenv under /opt/<package> made with the target's
# system interpreter (/usr/bin/python3.X: Debian 12 -> 3.11), holding the project wheel and its
# pinned dependencies from PyPI; nothing downloads at install or run time. The venv is built in
# a staging directory and relocated (shebangs, pyvenv.cfg, bytecode paths) to /opt/<package>.
#
# Usage: bash installers/build_deb.sh [server|desktop ...]     (default: both)
# Env:   DEB_COMPRESS=zstd|xz|gzip (default zstd: xz is 3-5x slower for ~25% smaller), DEB_MAINTAINER="Name <mail>"
set -euo pipefail
LOG_TAG=deb
# shellcheck source=common/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/common/lib.sh"

DEB_COMPRESS=${DEB_COMPRESS:-zstd}
DEB_MAINTAINER=${DEB_MAINTAINER:-HMS maintainers <hms@localhost>}
SIDES=("$@"); [ ${#SIDES[@]} -gt 0 ] || SIDES=(server desktop)
for side in "${SIDES[@]}"; do
    case $side in server|desktop) ;; *) die "unknown package '$side' (server or desktop)";; esac
done

[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] \
    || die "build on an amd64 Debian/Ubuntu machine (the venv holds native x86_64 code)"
need_cmd dpkg-deb dpkg
PYVER=$("$SYS_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYBIN=/usr/bin/python$PYVER
[ -x "$PYBIN" ] || die "$PYBIN not found"
PYPKG=python$PYVER                 # the Debian package of the interpreter the venvs link to
VERSION=$(version)
START=$(date +%s)
log "hms $VERSION, interpreter $PYBIN ($(dpkg-query -W -f='${Version}' "$PYPKG"))"

tools_venv
project_wheel

# Desktop runtime libraries: what PySide6's Qt (xcb, offscreen and wayland platform plugins,
# OpenGL, fonts, D-Bus, CUPS for the print dialog) links against on Debian 12, beyond libc
# and libstdc++. Qt plugins for unused SQL drivers (ODBC, MySQL, Oracle, ...) stay unresolved.
DESKTOP_LIBS="libegl1, libgl1, libopengl0, libglib2.0-0, libfontconfig1, libfreetype6,
 libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libxcb1,
 libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0,
 libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1,
 libxcb-xfixes0, libxcb-xkb1, libwayland-client0, libwayland-cursor0, libwayland-egl1,
 libgssapi-krb5-2, libcups2, fonts-dejavu-core"

# max_glibc VENV: the highest manylinux glibc any bundled wheel needs (for libc6 >= X).
max_glibc() {
    "$PYBIN" - "$1" <<'EOF'
import re, sys
from pathlib import Path
best = (2, 17)
for wheel in Path(sys.argv[1]).glob("lib/python3*/site-packages/*.dist-info/WHEEL"):
    for tag in re.findall(r"^Tag: .*-(\S+)$", wheel.read_text(), re.M):
        m = re.match(r"manylinux_(\d+)_(\d+)_", tag)
        ver = (int(m[1]), int(m[2])) if m else {"manylinux2014": (2, 17), "manylinux2010": (2, 12),
                                                 "manylinux1": (2, 5)}.get(tag.split("_x86")[0])
        if ver and ver > best:
            best = ver
print("%d.%d" % best)
EOF
}

# build_venv SIDE STAGE PREFIX: the venv at STAGE$PREFIX, relocated to PREFIX.
build_venv() {
    local side=$1 stage=$2 prefix=$3 pkg_import venv="$2$3"
    pkg_import=hms_$side
    log "[$side] creating venv for $prefix with $PYBIN"
    "$PYBIN" -m venv --without-pip "$venv"
    "$SYS_PY" "$INSTALLERS/common/project.py" requirements "$side" > "$WORK/deb/$side.in"
    log "[$side] installing $(wc -l < "$WORK/deb/$side.in") pinned dependencies and their requirements (uv, PyPI)"
    "$UV" pip install --quiet --python "$venv/bin/python" --link-mode copy \
        -r "$WORK/deb/$side.in" || die "[$side] dependency install failed"
    "$UV" pip install --quiet --python "$venv/bin/python" --link-mode copy --no-deps "$WHEEL" \
        || die "[$side] installing the project wheel failed"
    if [ "$side" = desktop ]; then
        cp "$INSTALLERS/common/hms_desktop_launcher.py" "$venv/lib/python$PYVER/site-packages/"
    fi
    mkdir -p "$stage/usr/share/doc/hms-$side"
    "$UV" pip freeze --quiet --python "$venv/bin/python" > "$stage/usr/share/doc/hms-$side/requirements.txt"

    log "[$side] import check: every module of $pkg_import"
    # shellcheck disable=SC2046
    QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" \
        "$INSTALLERS/common/import_check.py" "$pkg_import" \
        $("$SYS_PY" "$INSTALLERS/common/project.py" split-off "$side") \
        || die "[$side] import check failed (see above)"

    log "[$side] relocating $venv -> $prefix"
    rm -f "$venv"/lib/python*/site-packages/hms-*.dist-info/direct_url.json "$venv/.lock"
    # One distribution, two programs: each package ships only its own entry point.
    local other=desktop; [ "$side" = desktop ] && other=server
    rm -f "$venv/bin/hms-$other" "$venv"/bin/pyside6-*
    rm -rf "$venv/lib/python$PYVER/site-packages/hms_$other"
    trim_pyside "$venv/lib/python$PYVER/site-packages"
    find "$venv" -name __pycache__ -type d -prune -exec rm -rf {} +
    # Text files naming the staging path: entry-point shebangs, activate scripts, pyvenv.cfg.
    grep -rlIZ --fixed-strings "$stage" "$venv" | xargs -0 -r sed -i "s#$stage##g"
    "$PYBIN" -m compileall -q -f -j0 -x '\.tmpl\.py$' -s "$stage" -p / "$venv/lib" \
        || die "[$side] compileall failed"
    if grep -rlq --fixed-strings "$stage" "$venv"; then
        grep -rl --fixed-strings "$stage" "$venv" | head -5 >&2
        die "[$side] the staging path is still named in the files above"
    fi
    head -1 "$venv/bin/hms-$side" | grep -qx "#!$prefix/bin/python" \
        || die "[$side] unexpected entry-point shebang: $(head -1 "$venv/bin/hms-$side")"
}

# control_file SIDE STAGE DEPENDS RECOMMENDS DESCRIPTION...
control_file() {
    local side=$1 stage=$2 depends=$3 recommends=$4; shift 4
    local size; size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
    {
        echo "Package: hms-$side"
        echo "Version: $VERSION"
        echo "Architecture: amd64"
        echo "Maintainer: $DEB_MAINTAINER"
        echo "Installed-Size: $size"
        echo "Depends: $(echo "$depends" | tr '\n' ' ' | tr -s ' ')"
        [ -n "$recommends" ] && echo "Recommends: $recommends"
        echo "Section: misc"
        echo "Priority: optional"
        printf '%s\n' "$@"
    } > "$stage/DEBIAN/control"
}

build_deb() {
    local side=$1 pkg=hms-$side prefix=/opt/hms-$side
    local stage="$WORK/deb/$side/root"
    local out="$DIST/${pkg}_${VERSION}_amd64.deb"
    rm -rf "$WORK/deb/$side"; mkdir -p "$stage/DEBIAN" "$stage/usr/bin"
    build_venv "$side" "$stage" "$prefix"

    local doc="$stage/usr/share/doc/$pkg"
    cp "$INSTALLERS/deb/copyright" "$doc/copyright"
    cp "$ROOT/docs/installation.md" "$doc/installation.md" 2>/dev/null || true
    local glibc; glibc=$(max_glibc "$stage$prefix")
    # The venv runs on the system interpreter it was made with (python3.X, not "python3"):
    # a Debian with another minor Python needs a package rebuilt there.
    local base="$PYPKG, python3 (>= $PYVER), libc6 (>= $glibc)"

    if [ "$side" = server ]; then
        ln -s "$prefix/bin/hms-server" "$stage/usr/bin/hms-server"
        install -D -m 0644 "$INSTALLERS/deb/server/hms-server.service" \
            "$stage/lib/systemd/system/hms-server.service"
        install -D -m 0640 "$INSTALLERS/deb/server/hms.env" "$stage/etc/hms/hms.env"
        install -m 0644 "$INSTALLERS/deb/server/conffiles" "$stage/DEBIAN/conffiles"
        install -m 0755 "$INSTALLERS/deb/server/postinst" "$INSTALLERS/deb/server/prerm" \
            "$INSTALLERS/deb/server/postrm" "$stage/DEBIAN/"
        control_file server "$stage" "$base, adduser" \
            "postgresql (>= 15), postgresql-client (>= 15)" \
            "Description: HMS hospital management system - application server" \
            " The FastAPI application server of HMS (hms-server): business rules, access" \
            " control and audit for the hospital LAN, backed by PostgreSQL 15+." \
            " Bundles its Python dependencies in a virtualenv under /opt/hms-server;" \
            " runs as the systemd unit hms-server.service, configured in /etc/hms/hms.env."
    else
        install -m 0755 "$INSTALLERS/deb/desktop/hms-desktop.sh" "$stage/usr/bin/hms-desktop"
        install -D -m 0644 "$INSTALLERS/deb/desktop/hms-desktop.desktop" \
            "$stage/usr/share/applications/hms-desktop.desktop"
        install -D -m 0644 "$ROOT/resources/icons/hms-desktop.svg" \
            "$stage/usr/share/icons/hicolor/scalable/apps/hms-desktop.svg"
        install -D -m 0644 "$INSTALLERS/deb/desktop/desktop.ini" "$stage/etc/hms/desktop.ini"
        install -m 0644 "$INSTALLERS/deb/desktop/conffiles" "$stage/DEBIAN/conffiles"
        control_file desktop "$stage" "$base, $DESKTOP_LIBS" "" \
            "Description: HMS hospital management system - desktop client" \
            " The PySide6 (Qt) workstation client of HMS (hms-desktop), with the" \
            " $(python3 "$INSTALLERS/common/workspaces_text.py") workspaces." \
            " Bundles its Python dependencies and Qt in a virtualenv under /opt/hms-desktop;" \
            " workstation settings (server address, LAN CA file) in /etc/hms/desktop.ini."
    fi

    log "[$side] dpkg-deb --build ($DEB_COMPRESS) -> $(basename "$out")"
    rm -f "$out"
    dpkg-deb --root-owner-group -Z"$DEB_COMPRESS" --build "$stage" "$out" >/dev/null \
        || { rm -f "$out"; die "[$side] dpkg-deb failed"; }
    log "[$side] $(basename "$out"): $(du -h "$out" | cut -f1) (installed $(( $(du -sk --exclude=DEBIAN "$stage" | cut -f1) / 1024 )) MB)"
}

for side in "${SIDES[@]}"; do build_deb "$side"; done
log "done in $(( $(date +%s) - START ))s"
