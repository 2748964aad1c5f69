#!/usr/bin/env bash
# Benchmark: the drift pack over a synthetic year of nightly runs (no browser needed).
# Generates the history once per back end with examples/synth_history.rs (through the
# store API, real schema), then times, with the release binary:
#   (a) `consentry drift --site site-07` over the last 90 days, JSON (median of 5),
#   (b) the same window for every site (one `consentry drift` per site, summed),
#   (c) one site over the whole year (how the pack scales with the window),
#   (d) every site in one process, `consentry drift --all` (median of 3).
# DRIFT_BACKENDS="sqlite postgres" picks the back ends (default: sqlite). SQLite: a file
# in a temp dir, results in bench/RESULTS-drift.md. PostgreSQL: a database on the server
# at DRIFT_PG_URL (postgres://user@host:port, no database name) if given, else on a
# throwaway server of bench/pg.sh stopped on exit; results in $DRIFT_PG_RESULTS (default
# bench/RESULTS-drift-pg.md). DRIFT_SQLITE_RESULTS moves SQLite's (default
# bench/RESULTS-drift.md). DRIFT_SUMMARY_DIR=DIR also leaves the raw figures there per back
# end. `make bench-pg` (bench/pg-bench.sh) runs both back ends, PostgreSQL on its
# throwaway server, and puts it all into bench/RESULTS-pg.md. With both, the packs of the two back ends are
# compared byte for byte (the same history gives the same packs).
# DRIFT_DB=PATH (SQLite) / DRIFT_PG_DB=URL (PostgreSQL), with DRIFT_GEN_SECS=N, re-time an
# existing history instead of generating one.
# bench/RESULTS.md, written by bench/run.sh, links to the results; each script owns its
# own file, so re-running either never wipes the other.
set -euo pipefail
BIN=${1:?usage: bench/drift.sh path/to/consentry path/to/synth_history}
GEN=${2:?usage: bench/drift.sh path/to/consentry path/to/synth_history}
SITES=${DRIFT_SITES:-50}
DAYS=${DRIFT_DAYS:-365}
SEED=${DRIFT_SEED:-1}
BACKENDS=${DRIFT_BACKENDS:-sqlite}
END=2026-12-01            # synth_history's default --end: the last night is 2026-11-30
SINCE=2026-09-02          # 90 days before END
FIRST=$(date -u -d "$END - $DAYS days" +%F)
cd "$(dirname "$0")/.."
# shellcheck source=bench/pg.sh
source bench/pg.sh
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT
# A signal ends the script through `exit`, so the EXIT trap stops the server then too.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b - a}'; }

# Generates (or reuses) the history of back end $1 into $db, times (a)-(d) into $out.
bench_backend() {
  local backend=$1
  out="$work/$backend"
  mkdir -p "$out"
  local reuse=
  case $backend in
    sqlite)
      db="$work/year.db"
      reuse=${DRIFT_DB:-}
      ;;
    postgres)
      reuse=${DRIFT_PG_DB:-}
      if [ -z "$reuse" ]; then
        local server=${DRIFT_PG_URL:-}
        if [ -z "$server" ]; then
          pg_start
          server=$PG_URL
          echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $NF}') on $PG_URL ($PG_DIR)"
        fi
        local name
        name="drift_year_$$"
        pg_sql "$server/postgres" "CREATE DATABASE $name" > /dev/null
        db="$server/$name"
      fi
      ;;
    *) echo "DRIFT_BACKENDS: unknown back end $backend (sqlite, postgres)" >&2; exit 2 ;;
  esac
  if [ -n "$reuse" ]; then
    # Re-time an already generated history (same --sites/--days/--seed), skipping generation.
    db=$reuse
    echo "$backend: reusing $db"
    elapsed 0 "${DRIFT_GEN_SECS:-0}" > "$out/gen_secs"
  else
    echo "$backend: generating $SITES sites x $DAYS nights into $db"
    local t
    t=$(now)
    "$GEN" --db "$db" --sites "$SITES" --days "$DAYS" --seed "$SEED" --end "$END" > "$out/gen.out"
    elapsed "$t" "$(now)" > "$out/gen_secs"
    cat "$out/gen.out"
  fi
  echo "$db" > "$out/db"
  if [ "$backend" = sqlite ]; then
    stat -c %s "$db" > "$out/size"
    # Rows and bytes per table, its indexes included (SQLite's dbstat: pages in use).
    python3 bench/db_bytes.py "$db" | awk -F'|' '{print $1 "|" $3}' > "$out/bytes"
  else
    # What the report shows of the database, asked of the server (the SQLite side reads
    # its file with Python's sqlite3).
    pg_sql "$db" "SELECT pg_database_size(current_database())" > "$out/size"
    pg_sql "$db" "SELECT MAX(version) FROM _sqlx_migrations" > "$out/version"
    pg_sql "$db" "SELECT version()" > "$out/server"
    : > "$out/rows"
    : > "$out/bytes"
    local table
    for table in $(pg_sql "$db" "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\_sqlx%' ORDER BY tablename"); do
      echo "$table|$(pg_sql "$db" "SELECT COUNT(*) FROM $table")" >> "$out/rows"
      echo "$table|$(pg_sql "$db" "SELECT pg_total_relation_size('$table')")" >> "$out/bytes"
    done
  fi

  local site=site-07 i n t
  : > "$out/one.txt"
  for i in 1 2 3 4 5; do
    t=$(now)
    "$BIN" drift --db "$db" --site "$site" --since "$SINCE" --until "$END" --format json --output - > "$out/one.json"
    elapsed "$t" "$(now)" >> "$out/one.txt"; echo >> "$out/one.txt"
  done

  : > "$out/all.txt"
  local t_all
  t_all=$(now)
  # (b) one process per site (it shows what a process costs): DRIFT_PER_PROCESS=0 skips it.
  local per_process=$SITES
  if [ "${DRIFT_PER_PROCESS:-1}" = 0 ]; then per_process=0; fi
  for n in $(seq -f '%02g' 1 "$per_process"); do
    t=$(now)
    "$BIN" drift --db "$db" --site "site-$n" --since "$SINCE" --until "$END" --format json --output - > "$out/all.json"
    elapsed "$t" "$(now)" >> "$out/all.txt"; echo >> "$out/all.txt"
  done
  elapsed "$t_all" "$(now)" > "$out/all_secs"

  # (d) every site in one process: `drift --all` (sites read concurrently).
  : > "$out/allone.txt"
  for i in 1 2 3; do
    t=$(now)
    "$BIN" drift --db "$db" --all --since "$SINCE" --until "$END" --format json --output - > "$out/allone.json"
    elapsed "$t" "$(now)" >> "$out/allone.txt"; echo >> "$out/allone.txt"
  done

  t=$(now)
  "$BIN" drift --db "$db" --site "$site" --since "$FIRST" --until "$END" --format json --output - > "$out/year.json"
  elapsed "$t" "$(now)" > "$out/year_secs"

  # Our own retention: a smaller history that kept every night's raw requests and steps,
  # purged at 90 days (SQLite; DRIFT_PURGE_SITES=0 skips it).
  local psites=${DRIFT_PURGE_SITES:-10}
  if [ "$backend" = sqlite ] && [ "$psites" -gt 0 ]; then
    local pdb="$work/purge.db"
    "$GEN" --db "$pdb" --sites "$psites" --days "$DAYS" --seed "$SEED" --end "$END" --raw-days "$DAYS" > /dev/null
    in_use() {
      python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
q = lambda p: c.execute(f"PRAGMA {p}").fetchone()[0]
print((q("page_count") - q("freelist_count")) * q("page_size"))' "$1"
    }
    {
      echo "sites=$psites"
      echo "before=$(in_use "$pdb")"
      echo "deleted=$("$BIN" purge --db "$pdb" --older-than 90d 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
      echo "after=$(in_use "$pdb")"
      python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("VACUUM")' "$pdb"
      echo "vacuumed=$(stat -c %s "$pdb")"
    } > "$out/purge"
    rm -f "$pdb"
  fi
}

for backend in $BACKENDS; do
  bench_backend "$backend"
  if [ "$backend" = postgres ] && [ -f "$work/sqlite/year.json" ]; then
    # Both back ends ran on the same history: their packs must be the same, byte for byte.
    : > "$out/same"
    for f in one all allone year; do
      [ -f "$work/sqlite/$f.json" ] || continue
      if cmp -s "$work/sqlite/$f.json" "$out/$f.json"; then r=identical; else r=DIFFERENT; fi
      echo "$f $r" >> "$out/same"
    done
  fi
  case $backend in
    sqlite) results=${DRIFT_SQLITE_RESULTS:-bench/RESULTS-drift.md} ;;
    postgres) results=${DRIFT_PG_RESULTS:-bench/RESULTS-drift-pg.md} ;;
  esac
  python3 - "$backend" "$out" "$SITES" "$DAYS" "$SEED" "$SINCE" "$END" > "$results" <<'PY'
import sqlite3, statistics, sys, os, json, datetime, subprocess, platform
backend, work, sites, days, seed, since, end = sys.argv[1:]
read = lambda name: open(f"{work}/{name}").read().strip()
db, gen, all_secs, year_secs = read("db"), read("gen_secs"), read("all_secs"), read("year_secs")
one = [float(x) for x in read("one.txt").split()]
per_site = [float(x) for x in read("all.txt").split()]
allone = [float(x) for x in read("allone.txt").split()]
if backend == "sqlite":
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '_sqlx%' ORDER BY name")]
    rows = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    version = con.execute("SELECT MAX(version) FROM _sqlx_migrations").fetchone()[0]
    size = os.path.getsize(db) / 2**20
    size_how = "the file"
else:
    rows = {t: int(n) for t, n in (line.split("|") for line in read("rows").splitlines())}
    tables = sorted(rows)
    version = read("version")
    size = int(read("size")) / 2**20
    size_how = "`pg_database_size`"
rep = json.load(open(f"{work}/one.json"))
year = json.load(open(f"{work}/year.json"))
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
med = statistics.median(one)
ok = lambda v, lim: "met" if v < lim else "**missed**"
# Issue 26's targets: a site-quarter < 0.1 s; all sites in one process < 1 s at 50 sites,
# < 10 s at 500 (in between: 20 ms a site).
all_target = 1.0 if int(sites) <= 50 else 10.0 if int(sites) >= 500 else 0.02 * int(sites)
if backend == "sqlite":
    print("# Drift pack over a year of history\n")
    print(f"Measured {datetime.date.today()} by `make bench-drift` (`bench/drift.sh`; `make bench` runs it after "
          f"the audit benchmark of [RESULTS.md](RESULTS.md)), release build, {cpu} cores, {platform.machine()}, "
          "one shared, noisy machine. No browser: the history is synthetic.\n")
else:
    print("# Drift pack over a year of history, on PostgreSQL\n")
    print(f"Measured {datetime.date.today()} by `bench/drift.sh` with `postgres` in `DRIFT_BACKENDS` (`make bench-pg` "
          f"runs it), release build, {cpu} cores, {platform.machine()}, one shared, noisy machine; "
          f"{read('server').split(' on ')[0]}, a throwaway server on 127.0.0.1 (`bench/pg.sh`: PostgreSQL's "
          "defaults, fsync on), the client on the same machine. The same synthetic history as on SQLite "
          "([RESULTS-drift.md](RESULTS-drift.md)). No browser.\n")
print("## The history\n")
print(f"`examples/synth_history.rs --sites {sites} --days {days} --seed {seed}`: one run per site and night "
      f"for {days} nights up to {end} (exclusive), four scenarios per run (`no_action`, `accept_all`, "
      "`reject_all`, `object_li` ending with the objection recorded), ten declared vendors per site (consent, "
      "legitimate interest, contract), a declaration change mid-year on some sites, per visit the inventory "
      "(vendors' activity, third-party hosts, cookies, loaded-by) and its findings, from episodes that appear, "
      "persist, resolve and regress; ~2% of visits not observed. Written through the store API "
      "(`store.admin().import_runs`, one transaction per night: the same rows as the audit's per-visit path).\n")
print("Raw observations are **not** kept, as after `consentry purge` of raw data older than 14 days: "
      "only the last 14 nights carry their visits' raw requests (one per third-party host) and steps; cookie "
      "writes, the jar, storage writes and page errors are empty. Visits, findings (with evidence), the "
      "vendors' sums, inventory and declarations are all there.\n")
if os.path.exists(f"{work}/purge"):
    p = dict(l.split("=", 1) for l in read("purge").splitlines())
    mib = lambda k: int(p[k]) / 2**20
    print(f"`consentry purge` at 90 days, on a history of {p['sites']} sites x {days} nights generated with every "
          f"night's raw requests and steps kept (`--raw-days {days}`): {mib('before'):.1f} MiB in use before, "
          f"{mib('after'):.1f} MiB after ({p['deleted']}); the file is {mib('vacuumed'):.1f} MiB after `VACUUM` "
          f"(purge frees pages for reuse; it does not shrink the file). Drift needs none of what it deleted.\n")
nights = int(sites) * int(days)
size_target = 5.7 * 1024 * nights / 2**20  # MiB: 5.7 KB per site-night (issue 26)
print(f"- generation: **{float(gen):.0f} s** (`admin().import_runs`); database: **{size:.0f} MiB** ({size_how}), "
      f"schema version {version}: **{size * 2**20 / nights / 1024:.1f} KB per site-night** "
      f"(target <= 5.7 KB, i.e. {size_target:.0f} MiB here: {'met' if size <= size_target else '**missed**'})")
bytes_ = {t: int(n) for t, n in (l.split("|") for l in read("bytes").splitlines() if "|" in l)}
print(f"- rows and bytes per table (a table's bytes include its indexes; "
      f"{'pages in use, `dbstat`' if backend == 'sqlite' else '`pg_total_relation_size`'}):\n")
print("| table | rows | MiB | bytes per site-night |\n|---|---:|---:|---:|")
for t in sorted(set(tables) | set(bytes_)):
    if rows.get(t, 0) == 0 and bytes_.get(t, 0) <= 8192:
        continue
    b = bytes_.get(t, 0)
    print(f"| `{t}` | {rows.get(t, 0):,} | {b / 2**20:.1f} | {b / nights:,.0f} |")
print(f"| all | | {sum(bytes_.values()) / 2**20:.1f} | {sum(bytes_.values()) / nights:,.0f} |")
print(f"\n(Tables and indexes with no rows left out.)")
print("\n## Timings\n")
print("Wall time of the whole `consentry drift ... --format json` process (open and migrate check, "
      "`context_start`, `site_history`, `pack::build`, JSON rendering), output to a file.\n")
print("| what | time | target | |")
print("|---|---:|---:|---|")
print(f"| (a) one site-quarter: `drift --site site-07 --since {since} --until {end}` (median of 5; "
      f"min {min(one):.3f}, max {max(one):.3f}) | {med:.3f} s | < 0.1 s | {ok(med, 0.1)} |")
if per_site:
    print(f"| (b) all {sites} sites, same window (one process per site, wall time of the loop; "
          f"per site median {statistics.median(per_site):.2f}, max {max(per_site):.2f}) | {float(all_secs):.2f} s | — | |")
print(f"| (d) all {sites} sites in one process: `drift --all`, same window (median of 3; min {min(allone):.2f}, "
      f"max {max(allone):.2f}) | {statistics.median(allone):.2f} s | < {all_target:g} s | {ok(statistics.median(allone), all_target)} |")
print(f"| (c) one site, the whole year (`--since` {days} nights back) | {float(year_secs):.2f} s | — | |")
if os.path.exists(f"{work}/same"):
    same = dict(line.split() for line in read("same").splitlines())
    names = {"one": "the site-quarter", "all": f"site-{int(sites):02}'s quarter", "allone": "`--all`", "year": "the site-07 year"}
    print("\nThe packs against SQLite's from the same history, same run of this script (JSON, byte for byte): "
          + ", ".join(f"{names[k]} {v}" for k, v in same.items()) + ".")
s = rep["summary"]
print(f"\nThe site-07 quarter: {s['runs']} runs ({s['complete_runs']} complete), {len(rep['lifecycles'])} "
      f"finding lifecycles, {len(rep['inventory'])} inventory changes, {s['declaration_changes']} declaration "
      f"changes, {len(rep['vendors'])} vendor sections. Its year: {year['summary']['runs']} runs, "
      f"{len(year['lifecycles'])} lifecycles, {len(year['inventory'])} inventory changes, "
      f"{year['summary']['declaration_changes']} declaration changes.")
PY
  if [ "$backend" = sqlite ]; then
    cat >> "$results" <<'EOF'

## What changed to get here

**Schema 16 (2026-12-07, issue 26): store what changed, read what the pack shows.** Before it,
the same history took 348 MiB (19.5-20 KB per site-night; `make bench-layout`,
[RESULTS-layout.md](RESULTS-layout.md), has the table-by-table comparison on the very same
data), 273 s to generate, one site-quarter 0.12 s and `drift --all` 3.5 s (50 sites): a
site-quarter fetched ~14,000 rows (9,100 inventory items, 2,200 vendor activities, 1,200
declarations, 830 findings, 364 visits), at ~10 us a row through sqlx's SQLite worker thread.
Now (docs/storage.md, "History layout"):

- a run's declared map and a visit's inventory are stored once per distinct content
  (`declaration_sets`, `inventory_sets`, found again by a SHA-256 digest) and referred to;
  a quarter of a stable site reads a handful of sets instead of ~10,000 item rows;
- the vendors' activity is summed per run when a visit is written, not per visit and vendor:
  since schema 17 one `run_vendor_sums` row per run (it was a `run_vendors` row per run and
  vendor, which on PostgreSQL cost ~130 bytes a row);
- a finding's identity (fingerprint, code, severity, subject, vendor, rule and its first
  message) is a `finding_keys` row; what changes each night (occurrences, evidence without
  `null` members and without the finding's own scenario, the message only when it changed)
  is an item of the `finding_batches` row of the write that added it (schema 17: one row
  per visit instead of one per finding; `finding_view` unpacks them);
- drift shares each set between the visits that stored it (`Arc`), and a scenario whose set
  is the one it stored last time is known unchanged without being compared;
- `purge` also removes steps (drift needs a visit's status and reason, not its steps).

The packs are byte for byte the same: `tests/history_layout.rs` (SQLite and PostgreSQL, in
`make test`) and `make bench-layout` (the previous consentry's packs against this one's on a
migrated copy) check it.

**Migration 5 (2026-12-01).** Before it, the visits query of `Store::site_history` computed
`has_inventory` with an `EXISTS` over `visit_inventory`, which had no index on `visit_id`: a
full scan of 2.0 million rows for every visit not observed (one site-quarter 2.29 s, all 50
sites 66.5 s). `0005_drift_indexes.sql` added the index (that table is gone since schema 16).

The generated history is a little thinner than the issue's sketch: 2.6 findings per visit (asked:
~3-8), 12.6 third-party hosts and 14.7 cookies per observed visit (asked: ~15 and ~20), 0.2 loaded-by
items; 20 of the 50 sites change a declaration mid-year. More rows would cost time in proportion.
EOF
  fi
  cat "$results"
  if [ -n "${DRIFT_SUMMARY_DIR:-}" ]; then
    # The raw figures, for a caller that lays them out itself (bench/pg-bench.sh).
    mkdir -p "$DRIFT_SUMMARY_DIR/$backend"
    cp "$out"/*.txt "$out"/*_secs "$out/size" "$DRIFT_SUMMARY_DIR/$backend/"
    if [ -f "$out/same" ]; then cp "$out/same" "$DRIFT_SUMMARY_DIR/$backend/"; fi
  fi
done
