#!/usr/bin/env bash
# Queue benchmark (issue 19): throughput of one vs two `consentry worker` processes on this
# machine, the same total --jobs, on a throwaway PostgreSQL server (bench/pg.sh). The
# workload is the agency fixture of bench/fleet.sh (20 client sites, seed 2026, three
# broken on purpose); by default its fleet file without `[crawl]` (`fleet-listed`: every
# site visits its listed pages; BENCH_QUEUE_FLEET=crawl keeps page discovery on). Each
# round times, each on a fresh database:
#  (a) `one-process`: the fleet in one process, `audit fleet.toml --jobs 2` (the reference);
#  (b) `1 worker x2`: `audit fleet.toml --queue --wait` and ONE `worker --jobs 2 --until-empty`;
#  (c) `2 workers x1`: the same enqueuer and TWO `worker --jobs 1 --until-empty`.
# The rounds alternate the order (a b c, then c b a, ...) so neither side always runs later
# on a machine whose load drifts. Wall time is the enqueuer's (enqueue to the fleet run
# finished and its summary written) or the one process's; the workers start as soon as the
# enqueuer has printed its fleet run. CPU-seconds: every process tree (bench/measure.py);
# peak RSS: each consentry process's own VmHWM.
#
# Every queued run's stored outcome is compared with (a)'s of the same round, per site:
# the run's status, its visits and its findings (scenario, code, fingerprint). A difference
# is reported in the results as a bug, with the sites that differ.
#
# Writes the section "## Throughput of one vs two workers" of bench/RESULTS-pg.md in place
# (the rest of the file, written by bench/pg-bench.sh, is kept), with `uptime` at start and
# end. Traffic stays on 127.0.0.1.
set -euo pipefail
BIN=$(realpath "${1:?usage: bench/queue.sh path/to/consentry}")
SITES=${BENCH_QUEUE_SITES:-20}
ROUNDS=${BENCH_QUEUE_ROUNDS:-2}
FLEET=${BENCH_QUEUE_FLEET:-listed}
case "$FLEET" in listed | crawl) ;; *) echo "BENCH_QUEUE_FLEET: listed or crawl" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/pg.sh
source bench/pg.sh
work=$(mktemp -d)
server=""
pids=()
uptime > "$work/uptime_start"
( while :; do cut -d' ' -f1 /proc/loadavg >> "$work/load.txt"; sleep 5; done ) & sampler=$!
cleanup() {
  local p
  # Each pid is a bench/measure.py: its consentry first, then itself.
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  # Each step may fail (a server that already exited): none may stop the rest (set -e).
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  kill "$sampler" 2>/dev/null || true
  pg_stop || true
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

"$BIN" demo-site --agency "$work/agency" --sites "$SITES" --port 0 --ready-file "$work/port" \
  2>"$work/server.log" & server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
export CONSENTRY_DEMO_PORT=$(cat "$work/port")
unset CONSENTRY_DB
ac=(--autoconsent "$root/fixtures/build/autoconsent")
fleet="$work/agency/fleet.toml"
if [ "$FLEET" = listed ]; then
  # As bench/fleet.sh: the [crawl] table dropped (up to the next blank line).
  awk 'BEGIN{skip=0} /^\[crawl\]/{skip=1} skip&&/^$/{skip=0; next} !skip' \
    "$work/agency/fleet.toml" > "$work/agency/fleet-listed.toml"
  grep -q '^\[crawl\]' "$work/agency/fleet-listed.toml" && { echo "could not drop [crawl]"; exit 1; }
  fleet="$work/agency/fleet-listed.toml"
fi

pg_start
"$PG_BIN/postgres" --version > "$work/pg_version"

# The stored outcome of a database, one line per site run and one per finding.
outcome() {
  pg_sql "$1" "SELECT r.site || ' run status=' || r.status || ' visits=' ||
                 (SELECT count(*) FROM visits v WHERE v.run_id = r.id) || ' complete=' ||
                 (SELECT count(*) FROM visits v WHERE v.run_id = r.id AND v.status = 'complete') ||
                 ' findings=' || (SELECT count(*) FROM findings f WHERE f.run_id = r.id)
               FROM runs r ORDER BY r.site"
  pg_sql "$1" "SELECT r.site || ' finding ' || coalesce(f.scenario, '-') || ' ' || f.code || ' ' ||
                 f.fingerprint
               FROM findings f JOIN runs r ON r.id = f.run_id
               ORDER BY r.site, coalesce(f.scenario, '-'), f.code, f.fingerprint"
}

# Counts of a database: page-states (as bench/fleet.sh: distinct (visit, page) of the
# observed visits), visits, site runs, complete runs, the fleet run's stored start/end.
counts() {
  pg_sql "$1" "SELECT
      (SELECT count(*) FROM (SELECT DISTINCT v.id, r.page FROM visits v
         JOIN requests r ON r.visit_id = v.id
         WHERE v.status = 'complete' AND r.page LIKE 'http%') s),
      (SELECT count(*) FROM visits), (SELECT count(*) FROM runs),
      (SELECT count(*) FROM runs WHERE status = 'complete'),
      (SELECT started_at || '|' || coalesce(finished_at, '') FROM fleet_runs ORDER BY id DESC LIMIT 1)"
}

# One configuration, one round: $1 = a | b | c, $2 = round.
run_config() {
  local cfg=$1 round=$2 db dir
  db=$(pg_createdb "queue_${cfg}_r${round}")
  dir="$work/$cfg-r$round"
  mkdir -p "$dir"
  export CONSENTRY_REPORTS_DIR="$dir/reports"
  if [ "$cfg" = a ]; then
    bench/measure.py "$dir/main.json" -- "$BIN" audit "$fleet" --jobs 2 --db "$db" \
      --format json --fail-on never --no-progress "${ac[@]}" > /dev/null
  else
    bench/measure.py "$dir/main.json" -- "$BIN" audit "$fleet" --queue --wait --db "$db" \
      --format json --fail-on never --no-progress "${ac[@]}" & local enq=$!
    pids=("$enq")
    # The workers start once the fleet is in the queue (--until-empty would stop at once
    # on an empty one).
    for _ in $(seq 600); do
      grep -q 'queued fleet run' "$dir/main.json.err" 2>/dev/null && break
      kill -0 "$enq" 2>/dev/null || break
      sleep 0.1
    done
    grep -q 'queued fleet run' "$dir/main.json.err" || { cat "$dir/main.json.err"; exit 1; }
    local n jobs w
    if [ "$cfg" = b ]; then n=1 jobs=2; else n=2 jobs=1; fi
    for w in $(seq "$n"); do
      bench/measure.py "$dir/worker$w.json" -- "$BIN" worker --db "$db" --jobs "$jobs" \
        --until-empty --name "bench-$w" "${ac[@]}" & pids+=("$!")
    done
    wait "$enq"
    # The workers stop by themselves once the queue is empty (--until-empty): a worker
    # still running 5 minutes after the fleet run finished is a bug, recorded and stopped.
    for w in "${pids[@]:1}"; do
      for _ in $(seq 3000); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$w" 2>/dev/null; then
        echo "worker (bench/measure.py pid $w) still running 300 s after the fleet run finished" \
          | tee -a "$dir/hung.txt" >&2
        pkill -TERM -P "$w" || true
      fi
      wait "$w"
    done
    pids=()
  fi
  unset CONSENTRY_REPORTS_DIR
  outcome "$db" > "$dir/outcome.txt"
  counts "$db" > "$dir/counts.txt"
  printf '%s\t%s\t%s\n' "$cfg" "$round" "$dir" >> "$work/runs.tsv"
  echo "round $round ($cfg) done: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["wall_s"]), "s")' "$dir/main.json")"
}

: > "$work/runs.tsv"
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="a b c"; else order="c b a"; fi
  for cfg in $order; do run_config "$cfg" "$round"; done
done
uptime > "$work/uptime_end"

case "$BIN" in */release/*) build=release ;; */debug/*) build=debug ;; *) build="unknown ($BIN)" ;; esac
python3 bench/queue_report.py "$work" "$SITES" "$FLEET" "$build" > "$work/section.md"
python3 - "$work/section.md" bench/RESULTS-pg.md <<'PY'
# Put the section in place of the file's "## Throughput of one vs two workers" (up to the
# next "## "), keeping the rest; appended when the file has no such section.
import sys
section, path = open(sys.argv[1]).read().rstrip("\n") + "\n", sys.argv[2]
try:
    lines = open(path).read().splitlines(keepends=True)
except FileNotFoundError:
    lines = []
title = "## Throughput of one vs two workers"
start = next((i for i, l in enumerate(lines) if l.startswith(title)), None)
if start is None:
    out = "".join(lines).rstrip("\n") + "\n\n" + section
else:
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    out = "".join(lines[:start]) + section + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
open(path, "w").write(out)
PY
echo "wrote the section \"Throughput of one vs two workers\" of bench/RESULTS-pg.md"
cat "$work/section.md"
