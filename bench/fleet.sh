#!/usr/bin/env bash
# Fleet benchmark (issue 18): the agency fixture (docs/fixtures.md, "agency": 20 client
# sites, seed 2026, three of them broken on purpose) audited as one fleet run at --jobs 1,
# 2 and 4, against single-site audits of the same sites at the same --jobs. Writes
# bench/RESULTS-fleet.md:
#  - sites per hour, page-states per minute (a page loaded in one consent state: a
#    scenario's visit of one page), CPU-seconds per page-state, consentry's own peak RSS;
#  - the same for the sites audited one by one (one process each) at the same --jobs: a
#    fleet should cost nothing per site beyond its pages (target: throughput within 10%);
#  - page discovery per site when the fleet's [crawl] is on (from the stored plans), when
#    the build has it.
# Traffic stays on 127.0.0.1; every visit is bounded by the client files' timeouts.
set -euo pipefail
BIN=$(realpath "${1:?usage: bench/fleet.sh path/to/consentry}")
SITES=${BENCH_FLEET_SITES:-20}
JOBS=${BENCH_FLEET_JOBS:-1 2 4}
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server=""
( while :; do cut -d' ' -f1 /proc/loadavg >> "$work/load.txt"; sleep 5; done ) & sampler=$!
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; kill "$sampler" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

# The fixture server runs from the checkout (it serves fixtures/build as /_fixtures/).
"$BIN" demo-site --agency "$work/agency" --sites "$SITES" --port 0 --ready-file "$work/port" \
  2>"$work/server.log" & server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
export CONSENTRY_DEMO_PORT=$(cat "$work/port")
unset CONSENTRY_REPORTS_DIR CONSENTRY_DB
ac=(--autoconsent "$root/fixtures/build/autoconsent")

: > "$work/runs.tsv"
for jobs in $JOBS; do
  # The fleet: one process, every site.
  db="$work/fleet-j$jobs.db"
  bench/measure.py "$work/m.json" -- "$BIN" audit "$work/agency/fleet.toml" --jobs "$jobs" \
    --db "$db" --format json --fail-on never --no-progress "${ac[@]}"
  printf 'fleet\t%s\t%s\t%s\n' "$jobs" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
  echo "fleet jobs=$jobs done"
  # The same sites, one process each (their client files: what an audit alone sees).
  for client in "$work"/agency/clients/*.toml; do
    case "$client" in *.policy.toml) continue ;; esac
    name=$(basename "$client" .toml)
    db="$work/alone-j$jobs-$name.db"
    bench/measure.py "$work/m.json" -- "$BIN" audit "$client" --jobs "$jobs" --db "$db" \
      --format json --fail-on never --no-progress "${ac[@]}" \
      --scenario no_action --scenario accept_all --scenario reject_all
    printf 'alone\t%s\t%s\t%s\n' "$jobs" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
  done
  echo "alone jobs=$jobs done"
done

python3 bench/fleet_report.py "$work/runs.tsv" "$work/load.txt" "$SITES" > bench/RESULTS-fleet.md
echo "wrote bench/RESULTS-fleet.md"
