# One command for each thing a developer or operator does. See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed-stamp
# System packages the tests use when present: Chromium for the booking-page end-to-end test,
# wixl and msitools for the MSI property test, poppler for looking at PDFs, HAProxy for the
# scale-out test. Qt's offscreen platform needs only libraries the base image has.
TEST_APT_PACKAGES := chromium poppler-utils zbar-tools wixl msitools libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 haproxy
# What Qt's xcb platform plugin needs to open the desktop on an X11 display (a stock Debian 12
# lacks libxcb-cursor0, libxcb-icccm4 and libxcb-keysyms1, among others).
DEMO_APT_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 libxcb-shape0 libxkbcommon-x11-0 libx11-xcb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
# The HA rig of 'make bench' (bench/ha_failover.py): Patroni, etcd, HAProxy and PostgreSQL 15.
BENCH_APT_PACKAGES := patroni etcd-server haproxy postgresql-15

.PHONY: venv demo test test-fast lint format bench packages clean system-deps demo-deps openapi-snapshot

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP) demo-deps
	$(VENV)/bin/hms-server demo

# Installs the desktop's display libraries when run as root on Debian/Ubuntu; otherwise says
# exactly what to install (the demo itself also checks, and keeps the server running).
demo-deps:
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(DEMO_APT_PACKAGES)"

# Installs missing system libraries when run as root on Debian/Ubuntu; otherwise says what
# is missing and carries on (the tests that need them skip with the reason).
APT_PACKAGES ?= $(TEST_APT_PACKAGES)
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || echo "warning: could not install$$missing"; \
	  else echo "note: missing system packages (run as root to install):$$missing"; fi; \
	fi

# The README's test command and CI's: the static checks first (seconds), then the suite.
test: $(STAMP) system-deps lint
	QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
	  $(PY) -m pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -x tests/server/unit

# mypy --strict on the typed packages: the shared contract, the domain, the composition root,
# the security core (auth, audit, unit of work, API plumbing) and the data-access seam of the
# areas moved onto repositories. A new area adds its repository/query modules here once typed.
REPOSITORIES := $(addprefix hms_server/adapters/repositories/,__init__.py access.py \
	appointments.py billing.py clinical.py duplicates.py identity.py idempotency.py insurance.py \
	labs.py messaging.py patients.py prescribing.py scheduling.py wards.py mar.py nursing.py \
	devices.py pharmacy.py dispensing.py procurement.py equipment.py staff.py audit.py)
QUERIES := $(addprefix hms_server/adapters/queries/,__init__.py billing.py chart.py patients.py \
	wards.py ward_rounds.py ward_access.py hl7.py pharmacy.py dispensing.py procurement.py \
	reports.py staff.py)
STRICT_MODULES := hms_contract hms_server/domain hms_server/bootstrap.py \
	hms_server/services/auth.py hms_server/services/users.py \
	hms_server/services/audit.py hms_server/services/mfa.py hms_server/services/credentials.py \
	hms_server/services/sign_in_guard.py hms_server/services/security_alerts.py \
	hms_server/adapters/uow.py hms_server/adapters/audit_log.py hms_server/adapters/db.py \
	hms_server/adapters/audit_sealer.py hms_server/adapters/audit_checkpoints.py \
	hms_server/adapters/audit_key.py \
	hms_server/adapters/events.py hms_server/adapters/orm/base.py \
	hms_server/adapters/orm/infra.py hms_server/adapters/migrations.py \
	hms_server/adapters/reference_data.py hms_server/resources.py \
	$(REPOSITORIES) $(QUERIES) \
	hms_server/api/deps.py hms_server/api/idempotency.py hms_server/api/views.py \
	hms_server/api/problems.py hms_server/app.py hms_server/cli.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy --strict --follow-imports=silent $(STRICT_MODULES)

# After a deliberate API change: regenerate the OpenAPI snapshot the contract test compares.
openapi-snapshot: $(STAMP)
	$(PY) -m tests.server.api.openapi_snapshot

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(BENCH_APT_PACKAGES)"
	$(PIP) install --quiet -e '.[bench]'
	$(PY) bench/run_all.py

packages:
	bash installers/build_deb.sh
	bash installers/build_msi.sh

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
