#!/usr/bin/env bash
# Benchmark: the drift pack over a synthetic year of nightly runs (no browser needed).
# Generates the history once into a temp dir with examples/synth_history.rs (through the
# store API, real schema), then times, with the release binary:
#   (a) `consentry drift --site site-07` over the last 90 days, JSON (median of 5),
#   (b) the same window for every site (one `consentry drift` per site, summed),
#   (c) one site over the whole year (how the pack scales with the window),
#   (d) every site in one process, `consentry drift --all` (median of 3).
# DRIFT_DB=PATH (with DRIFT_GEN_SECS=N) re-times an existing history instead of generating one.
# Writes bench/RESULTS-drift.md (bench/RESULTS.md, written by bench/run.sh, links to it;
# each script owns its own file, so re-running either never wipes the other).
set -euo pipefail
BIN=${1:?usage: bench/drift.sh path/to/consentry path/to/synth_history}
GEN=${2:?usage: bench/drift.sh path/to/consentry path/to/synth_history}
SITES=${DRIFT_SITES:-50}
DAYS=${DRIFT_DAYS:-365}
SEED=${DRIFT_SEED:-1}
END=2026-12-01            # synth_history's default --end: the last night is 2026-11-30
SINCE=2026-09-02          # 90 days before END
FIRST=$(date -u -d "$END - $DAYS days" +%F)
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/year.db"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b - a}'; }

if [ -n "${DRIFT_DB:-}" ]; then
  # Re-time an already generated history (same --sites/--days/--seed), skipping generation.
  db=$DRIFT_DB
  gen_secs=${DRIFT_GEN_SECS:-0}
  echo "reusing $db"
else
  echo "generating $SITES sites x $DAYS nights into $db"
  t=$(now)
  "$GEN" --db "$db" --sites "$SITES" --days "$DAYS" --seed "$SEED" --end "$END" > "$work/gen.out"
  gen_secs=$(elapsed "$t" "$(now)")
  cat "$work/gen.out"
fi

site=site-07
: > "$work/one.txt"
for i in 1 2 3 4 5; do
  t=$(now)
  "$BIN" drift --db "$db" --site "$site" --since "$SINCE" --until "$END" --format json --output - > "$work/one.json"
  elapsed "$t" "$(now)" >> "$work/one.txt"; echo >> "$work/one.txt"
done

: > "$work/all.txt"
t_all=$(now)
for n in $(seq -f '%02g' 1 "$SITES"); do
  t=$(now)
  "$BIN" drift --db "$db" --site "site-$n" --since "$SINCE" --until "$END" --format json --output - > "$work/all.json"
  elapsed "$t" "$(now)" >> "$work/all.txt"; echo >> "$work/all.txt"
done
all_secs=$(elapsed "$t_all" "$(now)")

# (d) every site in one process: `drift --all` (sites read concurrently).
: > "$work/allone.txt"
for i in 1 2 3; do
  t=$(now)
  "$BIN" drift --db "$db" --all --since "$SINCE" --until "$END" --format json --output - > "$work/allone.json"
  elapsed "$t" "$(now)" >> "$work/allone.txt"; echo >> "$work/allone.txt"
done

t=$(now)
"$BIN" drift --db "$db" --site "$site" --since "$FIRST" --until "$END" --format json --output - > "$work/year.json"
year_secs=$(elapsed "$t" "$(now)")

python3 - "$db" "$work" "$gen_secs" "$all_secs" "$year_secs" "$SITES" "$DAYS" "$SEED" "$SINCE" "$END" > bench/RESULTS-drift.md <<'PY'
import sqlite3, statistics, sys, os, json, datetime, subprocess, platform
db, work, gen, all_secs, year_secs, sites, days, seed, since, end = sys.argv[1:]
one = [float(x) for x in open(f"{work}/one.txt").read().split()]
per_site = [float(x) for x in open(f"{work}/all.txt").read().split()]
allone = [float(x) for x in open(f"{work}/allone.txt").read().split()]
con = sqlite3.connect(db)
tables = [r[0] for r in con.execute(
    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
    "AND name NOT LIKE '_sqlx%' ORDER BY name")]
rows = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
version = con.execute("SELECT MAX(version) FROM _sqlx_migrations").fetchone()[0]
size = os.path.getsize(db) / 2**20
rep = json.load(open(f"{work}/one.json"))
year = json.load(open(f"{work}/year.json"))
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
med = statistics.median(one)
ok = lambda v, lim: "met" if v < lim else "**missed**"
print("# Drift pack over a year of history\n")
print(f"Measured {datetime.date.today()} by `make bench-drift` (`bench/drift.sh`; `make bench` runs it after "
      f"the audit benchmark of [RESULTS.md](RESULTS.md)), release build, {cpu} cores, {platform.machine()}, "
      "one shared, noisy machine. No browser: the history is synthetic.\n")
print("## The history\n")
print(f"`examples/synth_history.rs --sites {sites} --days {days} --seed {seed}`: one run per site and night "
      f"for {days} nights up to {end} (exclusive), four scenarios per run (`no_action`, `accept_all`, "
      "`reject_all`, `object_li` ending with the objection recorded), ten declared vendors per site (consent, "
      "legitimate interest, contract), a declaration change mid-year on some sites, per visit the inventory "
      "(vendors' activity, third-party hosts, cookies, loaded-by) and its findings, from episodes that appear, "
      "persist, resolve and regress; ~2% of visits not observed. Written through the store API "
      "(`store.admin().import_runs`, one transaction per night: the same rows as the audit's per-visit path).\n")
print("Raw observations are **not** kept, as after `consentry purge` of raw data older than 14 days: "
      "only the last 14 nights carry their visits' raw requests (one per third-party host); cookie writes, "
      "the jar, storage writes and page errors are empty. Visits, steps, findings (with evidence), inventory "
      "and declarations are all there.\n")
print(f"- generation: **{float(gen):.0f} s** (`admin().import_runs`); database: **{size:.0f} MiB**, schema version {version}")
print(f"- rows per table:\n")
print("| table | rows |\n|---|---:|")
for t in tables:
    print(f"| `{t}` | {rows[t]:,} |")
print("\n## Timings\n")
print("Wall time of the whole `consentry drift ... --format json` process (open and migrate check, "
      "`context_start`, `site_history`, `pack::build`, JSON rendering), output to a file.\n")
print("| what | time | target | |")
print("|---|---:|---:|---|")
print(f"| (a) one site-quarter: `drift --site site-07 --since {since} --until {end}` (median of 5; "
      f"min {min(one):.2f}, max {max(one):.2f}) | {med:.2f} s | < 1 s | {ok(med, 1)} |")
print(f"| (b) all {sites} sites, same window (one process per site, wall time of the loop; "
      f"per site median {statistics.median(per_site):.2f}, max {max(per_site):.2f}) | {float(all_secs):.2f} s | < 5 s | {ok(float(all_secs), 5)} |")
print(f"| (d) all {sites} sites in one process: `drift --all`, same window (median of 3; min {min(allone):.2f}, "
      f"max {max(allone):.2f}) | {statistics.median(allone):.2f} s | < 5 s | {ok(statistics.median(allone), 5)} |")
print(f"| (c) one site, the whole year (`--since` {days} nights back) | {float(year_secs):.2f} s | — | |")
s = rep["summary"]
print(f"\nThe site-07 quarter: {s['runs']} runs ({s['complete_runs']} complete), {len(rep['lifecycles'])} "
      f"finding lifecycles, {len(rep['inventory'])} inventory changes, {s['declaration_changes']} declaration "
      f"changes, {len(rep['vendors'])} vendor sections. Its year: {year['summary']['runs']} runs, "
      f"{len(year['lifecycles'])} lifecycles, {len(year['inventory'])} inventory changes, "
      f"{year['summary']['declaration_changes']} declaration changes.")
PY
cat >> bench/RESULTS-drift.md <<'EOF'

## What was fixed to get here (2026-12-01)

Before migration 0005, the visits query of `Store::site_history` computed `has_inventory` with
`EXISTS (SELECT 1 FROM visit_inventory WHERE visit_id = v.id)`, and `visit_inventory` had no index on
`visit_id` (only `run_id`): `EXPLAIN QUERY PLAN` shows `SCAN y`, a full scan of the table (2.0 million
rows here) for every visit without vendor activity, i.e. every visit not observed. Measured on the same
generated database with the binary before 0005: one site-quarter **2.29 s** (median of 5, 2.04-2.86),
all 50 sites **66.5 s**; both targets missed. `src/store/sqlite/migrations/0005_drift_indexes.sql` adds
`visit_inventory (visit_id)` (also what `ON DELETE CASCADE` from `visits` needs); the plan becomes
`SEARCH y USING COVERING INDEX visit_inventory_visit (visit_id=?)`. The other five history queries
already searched by index (`runs (site, started_at)`, then `run_id` in each table).

After 0005, (a) is met with a wide margin; all sites as **50 processes** (b) stay over 5 s
(8.1-8.7 s), and all sites in **one process**, `consentry drift --all` (d), meet it (4.4-5.3 s over
three bench runs: close to the line on this shared 2-core machine). `--all` reads four sites at a
time, each in its own task on its own pooled connection, so the per-row hand-off of the sqlx worker
threads (below) and the decoding overlap across both cores; it renders and writes the packs in the
order asked for. (One first `--all` right after generating the database took 504 s once; it did
not happen again, in the bench runs or on a second freshly generated database, and is not
explained.) Where the time goes, measured on the same database:

- the process floor is small: the same 50-process loop over an empty window takes 0.48 s (~10 ms per
  process: start, open, migration check, close);
- a site-quarter fetches ~14,000 rows (9,100 inventory items, 2,200 vendor activities, 1,200
  declarations, 830 findings, 364 visits); `perf` shows the time in thread hand-offs (kernel task
  switches, `flume` channel receives, `sqlx_sqlite::row`) rather than in SQLite or the pack: sqlx's
  SQLite driver passes each row from its worker thread to the async side, ~10 us a row here. The
  same queries in the `sqlite3` shell take a few ms. `TOKIO_WORKER_THREADS=1` changes nothing.
- the pack builder is not visible in the profile, and a whole year for one site (4x the runs and
  rows) takes 0.64 s, i.e. linear: no O(n^2) over runs x lifecycles worth fixing at this size
  (`pack::build` does look up each run in every lifecycle's timeline, O(runs^2 x lifecycles), but
  that is ~40,000 steps a quarter). `src/drift/pack.rs` is unchanged.

So the remaining cost is rows fetched, not a missing index. To gain margin (not done): fetch fewer
rows (the declared map only for runs whose policy digest changed, since it is identical between;
the inventory as one row per visit).

The generated history is a little thinner than the issue's sketch: 2.6 findings per visit (asked:
~3-8), 12.6 third-party hosts and 14.7 cookies per observed visit (asked: ~15 and ~20), 0.2 loaded-by
items; 20 of the 50 sites change a declaration mid-year. More rows would cost time in proportion.
EOF
cat bench/RESULTS-drift.md
