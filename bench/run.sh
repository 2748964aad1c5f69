#!/usr/bin/env bash
# Benchmark: audits of the bundled demo site with a release build.
# Writes bench/RESULTS.md (the drift benchmark, bench/drift.sh, writes RESULTS-drift.md): per-scenario wall time by phase, scenarios per minute at
# --jobs 1, 2 and 4, and consentry's own peak RSS (VmHWM of its process only).
# Traffic stays on 127.0.0.1; every audit is bounded by the scenario file's timeouts.
set -euo pipefail
BIN=${1:?usage: bench/run.sh path/to/consentry}
ROUNDS=${BENCH_ROUNDS:-3}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$BIN" demo-site --port 0 --ready-file "$work/port" 2>"$work/server.log" & server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
export CONSENTRY_DEMO_PORT=$(cat "$work/port")

# The five scenarios that complete (legacy_banner fails on purpose and would measure a timeout).
scen=(--scenario no_action --scenario accept_all --scenario reject_all --scenario object_li --scenario accept_then_object)

: > "$work/runs.tsv"
for jobs in 1 2 4; do
  for round in $(seq "$ROUNDS"); do
    db="$work/j$jobs-r$round.db"
    start=$(date +%s.%N)
    "$BIN" audit scenarios/demo-shop.toml "${scen[@]}" --jobs "$jobs" --db "$db" \
      --format json --fail-on never --no-progress > "$work/out.json" 2>"$work/err.log" & pid=$!
    peak=0
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
      sleep 0.05
    done
    rc=0; wait "$pid" || rc=$?
    end=$(date +%s.%N)
    [ "$rc" = 0 ] || { echo "audit failed ($rc):"; cat "$work/err.log"; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\n' "$jobs" "$round" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b - a}')" "$peak" "$db" >> "$work/runs.tsv"
    echo "jobs=$jobs round=$round done"
  done
done

python3 - "$work/runs.tsv" "$BIN" > bench/RESULTS.md <<'PY'
import sqlite3, statistics, sys, subprocess, platform, datetime
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
binary = sys.argv[2]
phases = ["session_start_ms", "load_ms", "settle_ms", "capture_ms", "close_ms"]
per = {}
throughput = {}
peaks = {}
for jobs, rnd, wall, peak, db in rows:
    con = sqlite3.connect(db)
    visits = con.execute(f"SELECT scenario, {', '.join(phases)}, started_at, finished_at FROM visits").fetchall()
    for v in visits:
        if jobs == "1":
            per.setdefault(v[0], []).append(v[1:6])
    throughput.setdefault(int(jobs), []).append(len(visits) / float(wall) * 60)
    peaks.setdefault(int(jobs), []).append(int(peak) / 1024)
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
chromium = subprocess.run(["chromedriver", "--version"], capture_output=True, text=True).stdout.strip()
print("# Benchmark results\n")
print(f"Measured {datetime.date.today()} by `make bench` (`bench/run.sh`) on the bundled demo site, "
      f"release build, {cpu} cores, {platform.machine()}, {chromium}. "
      f"{len(rows) // 3} rounds per `--jobs` value, 5 scenarios per round (every built-in plus "
      "`accept_then_object`; `legacy_banner` fails on purpose and is left out). Numbers are medians "
      "unless said otherwise; one noisy shared machine, so read them as orders of magnitude.\n")
print("## Per-scenario wall time by phase (`--jobs 1`, ms, median over rounds)\n")
print("| scenario | session start | load + steps | settle | capture | close | total |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s, vals in per.items():
    med = [statistics.median(x[i] for x in vals) for i in range(5)]
    print(f"| {s} | " + " | ".join(f"{m:.0f}" for m in med) + f" | {sum(med):.0f} |")
print("\n*settle* is waiting for the network to be quiet for 700 ms (the demo's `settle_quiet`): "
      "after the first page, before each consent click, after the steps, after each further page "
      "and after leaving the page; it is most of the time by design.\n")
print("## Throughput and memory\n")
print("| --jobs | scenarios/min (median) | min | max | consentry peak RSS (MiB, max) |")
print("|---:|---:|---:|---:|---:|")
for j in sorted(throughput):
    t = throughput[j]
    print(f"| {j} | {statistics.median(t):.1f} | {min(t):.1f} | {max(t):.1f} | {max(peaks[j]):.1f} |")
print("\nPeak RSS is consentry's own process (VmHWM, sampled every 50 ms), not Chromium's. "
      "Wall time per round includes starting chromedriver and opening the database.")
print("\nThe drift pack over a synthetic year of history (no browser) is measured by `bench/drift.sh` "
      "(`make bench-drift`, also run by `make bench`) into its own file, "
      "[RESULTS-drift.md](RESULTS-drift.md), so neither script overwrites the other's results.")
print("\nWhat autoconsent adds per scenario (`[cmp] auto = true`, on the Klaro and cookieconsent "
      "fixtures) is measured by `bench/cmp.sh` (`make bench-cmp`, also run by `make bench`) "
      "into [RESULTS-cmp.md](RESULTS-cmp.md).")
PY
cat bench/RESULTS.md
