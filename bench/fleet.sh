#!/usr/bin/env bash
# Fleet benchmark (issue 18): the agency fixture (docs/fixtures.md, "agency": 20 client
# sites, seed 2026, three of them broken on purpose) at --jobs 1, 2 and 4. Per --jobs:
#  - `fleet`: the fleet file as generated, page discovery on ([crawl]);
#  - `fleet-listed`: the same fleet without its [crawl]: every site visits its listed
#    pages, exactly what each client file gives an audit alone;
#  - `alone`: each client file audited by its own process, one after another, with the
#    fleet's scenarios.
# `fleet-listed` against `alone` is the like-for-like comparison (same sites, scenarios and
# pages; target: throughput within 10%). Then page discovery over a 500-URL sitemap
# (bench/crawl500.py; target: under 2 s per site), sitemaps only and at the default link
# depth. Writes bench/RESULTS-fleet.md: sites per hour, page-states per minute (a page
# loaded in one consent state), CPU-seconds per page-state, consentry's own peak RSS,
# discovery time per site from the stored plans.
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
trap '{ [ -z "$server" ] || kill "$server"; kill "$sampler"; } 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

# The fixture server runs from the checkout (it serves fixtures/build as /_fixtures/).
"$BIN" demo-site --agency "$work/agency" --sites "$SITES" --port 0 --ready-file "$work/port" \
  2>"$work/server.log" & server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
export CONSENTRY_DEMO_PORT=$(cat "$work/port")
unset CONSENTRY_REPORTS_DIR CONSENTRY_DB
ac=(--autoconsent "$root/fixtures/build/autoconsent")
# The fleet without page discovery: its [crawl] table dropped (up to the next blank line).
awk 'BEGIN{skip=0} /^\[crawl\]/{skip=1} skip&&/^$/{skip=0; next} !skip' \
  "$work/agency/fleet.toml" > "$work/agency/fleet-listed.toml"
grep -q '^\[crawl\]' "$work/agency/fleet-listed.toml" && { echo "could not drop [crawl]"; exit 1; }
python3 bench/crawl500.py "$work/agency" "$work/crawl500"

: > "$work/runs.tsv"
for jobs in $JOBS; do
  # The fleet: one process, every site; with page discovery, then without.
  for kind in fleet fleet-listed; do
    db="$work/$kind-j$jobs.db"
    bench/measure.py "$work/m.json" -- "$BIN" audit "$work/agency/$kind.toml" --jobs "$jobs" \
      --db "$db" --format json --fail-on never --no-progress "${ac[@]}" > /dev/null
    printf '%s\t%s\t%s\t%s\n' "$kind" "$jobs" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
    echo "$kind jobs=$jobs done"
  done
  # The same sites, one process each (their client files: what an audit alone sees).
  for client in "$work"/agency/clients/*.toml; do
    case "$client" in *.policy.toml) continue ;; esac
    name=$(basename "$client" .toml)
    db="$work/alone-j$jobs-$name.db"
    bench/measure.py "$work/m.json" -- "$BIN" audit "$client" --jobs "$jobs" --db "$db" \
      --format json --fail-on never --no-progress "${ac[@]}" \
      --scenario no_action --scenario accept_all --scenario reject_all > /dev/null
    printf 'alone\t%s\t%s\t%s\n' "$jobs" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
  done
  echo "alone jobs=$jobs done"
done

# Discovery over a 500-URL sitemap: one no-action visit each (the plan's elapsed_ms is
# discovery alone).
for depth in 0 2; do
  db="$work/crawl500-depth$depth.db"
  bench/measure.py "$work/m.json" -- "$BIN" audit "$work/crawl500/crawl500-depth$depth.toml" \
    --jobs 2 --db "$db" --format json --fail-on never --no-progress --scenario no_action > /dev/null
  printf 'crawl500-depth%s\t2\t%s\t%s\n' "$depth" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
done

case "$BIN" in */release/*) build=release ;; */debug/*) build=debug ;; *) build="unknown ($BIN)" ;; esac
python3 bench/fleet_report.py "$work/runs.tsv" "$work/load.txt" "$SITES" "$build" > bench/RESULTS-fleet.md
echo "wrote bench/RESULTS-fleet.md"
