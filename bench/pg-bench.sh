#!/usr/bin/env bash
# Benchmark: PostgreSQL against SQLite (`make bench-pg`; issue 19). On a throwaway
# PostgreSQL server (bench/pg.sh, stopped on exit) and on SQLite files in a temp dir:
#   1. ingest time per visit: examples/ingest_bench.rs writes judged visits through
#      `record_judged_visit`, one transaction each as the pipeline does, at two sizes (the
#      demo shop's own visit, and a busy page's visit of a few hundred requests); rounds
#      alternate the back ends so the machine's load falls on both alike;
#   2. the drift pack over the synthetic year on PostgreSQL (same server), and on SQLite in
#      the same run for comparison: bench/drift.sh with DRIFT_BACKENDS="sqlite postgres"
#      (one site-quarter, `drift --all`; targets < 1 s and < 5 s); the two back ends' packs
#      are compared byte for byte.
# Writes bench/RESULTS-pg.md (bench/RESULTS.md links to it), with `uptime` at start and end;
# its section "Throughput of one vs two workers" is bench/queue.sh's, kept as it was.
# PG_INGEST_VISITS (default 100 per round), PG_INGEST_ROUNDS (3), PG_SKIP_DRIFT=1 (ingest
# only), and DRIFT_* as bench/drift.sh takes them.
set -euo pipefail
BIN=${1:?usage: bench/pg-bench.sh path/to/consentry path/to/synth_history path/to/ingest_bench}
GEN=${2:?usage: bench/pg-bench.sh path/to/consentry path/to/synth_history path/to/ingest_bench}
INGEST=${3:?usage: bench/pg-bench.sh path/to/consentry path/to/synth_history path/to/ingest_bench}
VISITS=${PG_INGEST_VISITS:-100}
ROUNDS=${PG_INGEST_ROUNDS:-3}
cd "$(dirname "$0")/.."
# shellcheck source=bench/pg.sh
source bench/pg.sh
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT
# A signal ends the script through `exit`, so the EXIT trap stops the server then too.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

uptime > "$work/uptime_start"
echo "load at start: $(cat "$work/uptime_start")"
pg_start
"$PG_BIN/postgres" --version > "$work/pg_version"
echo "$(cat "$work/pg_version") on $PG_URL ($PG_DIR)"

# The two visit sizes: `demo` is a real accept_all visit of the demo shop as stored by an
# audit (42 requests, 12 cookie writes, 7 cookies in the jar, no storage write, 8
# findings); `busy` is a busy page (a few hundred requests).
declare -A SIZE
SIZE[demo]="--requests 42 --cookie-writes 12 --cookies 7 --storage-writes 0 --findings 8"
SIZE[busy]="--requests 300 --cookie-writes 40 --cookies 30 --storage-writes 20 --findings 8"

mkdir -p "$work/ingest"
for round in $(seq 1 "$ROUNDS"); do
  for size in demo busy; do
    for backend in sqlite postgres; do
      case $backend in
        sqlite) db="$work/ingest-$size-$round.db" ;;
        postgres) db=$(pg_createdb "ingest_${size}_$round") ;;
      esac
      # shellcheck disable=SC2086 # SIZE holds a list of options
      "$INGEST" --db "$db" --visits "$VISITS" ${SIZE[$size]} --seed "$round" \
        > "$work/ingest/$size-$backend-$round.json"
      python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("ingest %s: median %.2f ms, p95 %.2f ms" % (sys.argv[2], d["median_ms"], d["p95_ms"]))' \
        "$work/ingest/$size-$backend-$round.json" "$size $backend round $round"
    done
  done
done

if [ -z "${PG_SKIP_DRIFT:-}" ]; then
  # Both back ends in this one run, so they share the machine's load; SQLite's own
  # results file (bench/RESULTS-drift.md, `make bench-drift`) is left alone.
  DRIFT_BACKENDS="sqlite postgres" DRIFT_PG_URL=$PG_URL DRIFT_PG_RESULTS="$work/drift.md" \
    DRIFT_SQLITE_RESULTS="$work/drift-sqlite.md" DRIFT_SUMMARY_DIR="$work/drift-sum" \
    bench/drift.sh "$BIN" "$GEN"
fi
uptime > "$work/uptime_end"
echo "load at end: $(cat "$work/uptime_end")"
# bench/queue.sh's section of the file is kept (below).
cp bench/RESULTS-pg.md "$work/previous.md" 2>/dev/null || true

python3 - "$work" "$VISITS" "$ROUNDS" "${DRIFT_SITES:-50}" "${DRIFT_DAYS:-365}" "${DRIFT_SEED:-1}" \
  > bench/RESULTS-pg.md <<'PY'
import json, math, os, platform, statistics, subprocess, sys, datetime, glob
work, visits, rounds, sites, days, seed = sys.argv[1:]
read = lambda name: open(f"{work}/{name}").read().strip()
run = lambda *a: subprocess.run(a, capture_output=True, text=True).stdout.strip()
commit = run("git", "rev-parse", "--short", "HEAD")
dirty = " (with uncommitted changes)" if run("git", "status", "--porcelain", "--untracked-files=no", "--",
                                             ".", ":!bench/RESULTS*.md") else ""
print("# PostgreSQL against SQLite\n")
print(f"Measured {datetime.date.today()} by `make bench-pg` (`bench/pg-bench.sh`; `make bench` runs it too), "
      f"release build of {commit}{dirty} ({run('rustc', '--version')}), {run('nproc')} cores, "
      f"{platform.machine()}; {read('pg_version')}, a throwaway server on 127.0.0.1 started by `bench/pg.sh` "
      "with PostgreSQL's durable defaults (fsync, synchronous_commit and full_page_writes on; the tests' "
      "server turns them off), the client on the same machine; SQLite files in a temp dir on the same disk "
      "(WAL, synchronous FULL, as consentry opens them).\n")
print("**The machine is shared**: other sessions' builds and tests run on its 2 cores at any time, and "
      "the load averages below (1, 5 and 15 min) show it was loaded while this ran. `uptime` at the start and "
      "at the end:\n")
print(f"    start: {read('uptime_start')}\n    end:   {read('uptime_end')}\n")
print("Read the figures as orders of magnitude and the PostgreSQL/SQLite ratios as indicative.\n")

print("## Ingest time per visit\n")
print(f"`examples/ingest_bench.rs`: judged visits written through `RunWriter::record_judged_visit`, one "
      "transaction per visit as the audit pipeline does (visit row, steps, requests, cookie writes, the jar, "
      "storage writes, page errors, findings with evidence, the visit's inventory), in runs of five scenarios "
      "started with a ten-vendor declared map; only `record_judged_visit` is timed (wall time of the call, "
      f"client and server on one machine). {rounds} rounds, each a fresh database per back end and size with "
      f"{visits} timed visits after 5 untimed ones; the rounds alternate SQLite and PostgreSQL. Figures over "
      f"all {int(visits) * int(rounds)} visits; *round medians* is the spread of the rounds' medians "
      "(min / median / max).\n")
print("| visit | back end | min ms | median ms | p95 ms | max ms | round medians (ms) |")
print("|---|---|---:|---:|---:|---:|---|")
sizes = {"demo": "demo shop (42 requests, 12 cookie writes, 7 cookies, 8 findings)",
         "busy": "busy page (300 requests, 40 cookie writes, 30 cookies, 20 storage writes, 8 findings)"}
q = lambda xs, p: sorted(xs)[max(0, math.ceil(p * len(xs)) - 1)]  # nearest rank
medians = {}
for size in ("demo", "busy"):
    for backend in ("sqlite", "postgres"):
        times, round_medians = [], []
        for f in sorted(glob.glob(f"{work}/ingest/{size}-{backend}-*.json")):
            d = json.load(open(f))
            times += d["times_ms"]
            round_medians.append(d["median_ms"])
        med = statistics.median(times)
        medians[(size, backend)] = med
        rm = sorted(round_medians)
        print(f"| {sizes[size]} | {backend} | {min(times):.2f} | {med:.2f} | {q(times, 0.95):.2f} | "
              f"{max(times):.2f} | {rm[0]:.2f} / {statistics.median(rm):.2f} / {rm[-1]:.2f} |")
print()
for size in ("demo", "busy"):
    r = medians[(size, "postgres")] / medians[(size, "sqlite")]
    print(f"- {size}: PostgreSQL/SQLite median = **{r:.2f}x**")
print()

# One vs two queue workers is bench/queue.sh's section (`make bench-queue`): kept as the
# previous file has it.
title = "## Throughput of one vs two workers"
kept = None
if os.path.exists(f"{work}/previous.md"):
    prev = open(f"{work}/previous.md").read().splitlines()
    start = next((i for i, l in enumerate(prev) if l.startswith(title)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(prev)) if prev[i].startswith("## ")), len(prev))
        kept = "\n".join(prev[start:end]).rstrip("\n") + "\n"
if kept:
    print(kept)
else:
    print(title + "\n")
    print("Not measured yet: `make bench-queue` (bench/queue.sh) measures it and writes this section.\n")

if os.path.exists(f"{work}/drift-sum/postgres"):
    print("## Drift pack over the synthetic year: PostgreSQL and SQLite side by side\n")
    print(f"The same history (`examples/synth_history.rs`, {sites} sites x {days} nights, seed {seed}) generated into "
          "each back end and timed by `bench/drift.sh` in this one run, SQLite first (min / median / max "
          "seconds; wall time of the whole `consentry drift` process). Details of the PostgreSQL side below; "
          "SQLite's own history of this benchmark is [RESULTS-drift.md](RESULTS-drift.md).\n")
    def figs(backend):
        d = f"{work}/drift-sum/{backend}"
        nums = lambda f: [float(x) for x in open(f"{d}/{f}").read().split()]
        one, allone, per_site = nums("one.txt"), nums("allone.txt"), nums("all.txt")
        scalar = lambda f: float(open(f"{d}/{f}").read().strip())
        return {"one": one, "allone": allone, "per_site": per_site, "all": scalar("all_secs"),
                "year": scalar("year_secs"), "gen": scalar("gen_secs"), "size": scalar("size") / 2**20}
    sq, pg = figs("sqlite"), figs("postgres")
    mmm = lambda xs: f"{min(xs):.2f} / **{statistics.median(xs):.2f}** / {max(xs):.2f}"
    ok = lambda v, lim: "met" if v < lim else "**missed**"
    print("| what | SQLite | PostgreSQL | target | PostgreSQL |")
    print("|---|---:|---:|---:|---|")
    print(f"| (a) one site-quarter, `drift --site site-07` (5 runs) | {mmm(sq['one'])} | {mmm(pg['one'])} | < 1 s | "
          f"{ok(statistics.median(pg['one']), 1)} |")
    print(f"| (d) all sites in one process, `drift --all` (3 runs) | {mmm(sq['allone'])} | {mmm(pg['allone'])} | < 5 s | "
          f"{ok(statistics.median(pg['allone']), 5)} |")
    print(f"| (b) all sites as one process each (loop total; per site min / median / max) | {sq['all']:.2f} "
          f"({mmm(sq['per_site'])}) | {pg['all']:.2f} ({mmm(pg['per_site'])}) | — | |")
    print(f"| (c) one site, the whole year | {sq['year']:.2f} | {pg['year']:.2f} | — | |")
    print(f"| generating the year (`admin().import_runs`, one transaction per night) | {sq['gen']:.0f} s | {pg['gen']:.0f} s | — | |")
    print(f"| database size (SQLite: the file; PostgreSQL: `pg_database_size`) | {sq['size']:.0f} MiB | {pg['size']:.0f} MiB | — | |")
    print()
    same = f"{work}/drift-sum/postgres/same"
    if os.path.exists(same):
        res = dict(l.split() for l in open(same).read().splitlines())
        verdict = "identical" if all(v == "identical" for v in res.values()) else "**DIFFERENT**: " + ", ".join(k for k, v in res.items() if v != "identical")
        print(f"The packs of the two back ends (JSON of the site-quarter, the last site's quarter, `--all` and the "
              f"site-07 year), compared byte for byte: {verdict}.\n")

if os.path.exists(f"{work}/drift.md"):
    drift = read("drift.md").splitlines()
    # Its title becomes a section here; its sections become subsections.
    print("## " + drift[0].lstrip("# ").strip())
    for line in drift[1:]:
        print("#" + line if line.startswith("## ") else line)
PY
cat >> bench/RESULTS-pg.md <<'EOF'

## Profile of the history queries on PostgreSQL (2026-12-07, schema 15)

Measured before schema 16 replaced `visit_vendors`, `visit_inventory` and `run_declarations`
with per-run sums and shared sets (docs/storage.md, "History layout"; the same history on
schema 16: [RESULTS-drift-pg.md](RESULTS-drift-pg.md)). Both drift targets were met on
PostgreSQL then, so no store change was made for it. For the record,
`EXPLAIN (ANALYZE, BUFFERS)` of the six queries of `src/store/sql/history.rs` for the
site-07 quarter on the generated year (PostgreSQL 15, after generation; literal values in
place of the binds): every one selects the window's 90 runs through `runs_site_started_at`
(bitmap index scan) and reaches each child table by index, no sequential scan anywhere:

| query | plan (after the runs) | rows | execution |
|---|---|---:|---:|
| runs | bitmap heap scan, sort | 90 | 0.7 ms |
| visits + `has_inventory` | `visits_run_id_scenario_key`; the two `EXISTS` as index-only scans of `visit_vendors_visit_id_vendor_key` and `visit_inventory_visit` | 360 | 8.6 ms |
| findings | `findings_run_visit` | 823 | 5.7 ms |
| vendors' activity | `visit_vendors_run`, `visits_pkey` | 2,185 | 7.0 ms |
| inventory | `visit_inventory_run`, `visits_pkey` | 9,011 | 46.8 ms |
| declarations | `run_declarations_run_id_vendor_purpose_key` | 1,170 | 2.8 ms |

About 70 ms of server time per site-quarter; the rest of (a) is the process (start, the
pool's connection over TCP, the migration check), decoding and the pack, and (a) varies more
on PostgreSQL than on SQLite from one process to the next. The targets are (a) and (d), as
in RESULTS-drift.md; (b), one process per site, is there to show what a process costs. The indexes are the SQLite ones (the PostgreSQL
migrations mirror them, 0005's `visit_inventory (visit_id)` included), and the queries are
the same text on both. The inventory (one row per host, cookie and loader of every visit)
is most of the rows on both back ends; fetching fewer rows (RESULTS-drift.md) would help both.

Reading the comparison: sqlx's PostgreSQL driver decodes rows on the async side as they
arrive on the socket, where its SQLite driver hands each row over from a worker thread
(RESULTS-drift.md), which is why the same queries can be as fast or faster against a server
on the same machine. Per-visit ingest is the other way round: each `record_judged_visit` is
one transaction of a dozen batched `INSERT`s sent over the socket and a durable commit
(fsync of the WAL) on the server, against SQLite's in-process writes and its own fsync.
PostgreSQL's database is larger than SQLite's file for the same rows: a row header of
about 24 bytes and alignment padding per row, and every integer in 8 bytes where SQLite's
records store small integers in one or two.
EOF
cat bench/RESULTS-pg.md
