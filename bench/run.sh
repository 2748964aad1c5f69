#!/usr/bin/env bash
# Benchmark: audits of the bundled demo site with a release build (issue 9). Writes
# bench/RESULTS.md (bench/drift.sh writes RESULTS-drift.md, bench/pg-bench.sh RESULTS-pg.md):
#  - per-scenario wall time by phase (session start / load / steps / settle / capture /
#    close) and what ended each settle;
#  - scenarios per minute and CPU-seconds per scenario at --jobs 1, 2, 4, reused browser
#    contexts (the default) vs --fresh-browser; consentry's own peak RSS;
#  - side by side on the same one-page, three-state audit: consentry, the bare-Chromium
#    baseline (bench/bare.mjs: load to network idle, no consentry) and
#    @slashgear/gdpr-cookie-scanner (pinned, installed here from npm), with how many of the
#    third-party requests the demo server logged each one saw per state;
#  - the A/B of preparing the next browser context while a scenario runs (bench/overlap.sh).
# Traffic stays on 127.0.0.1; every audit is bounded by the scenario file's timeouts.
set -euo pipefail
BIN=$(realpath "${1:?usage: bench/run.sh path/to/consentry}")
ROUNDS=${BENCH_ROUNDS:-3}
PEER_VERSION=3.8.2
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server=""
stop_server() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; server=""; }
# The machine's load average (1 min) every 5 s while measuring, reported in RESULTS.md.
( while :; do cut -d' ' -f1 /proc/loadavg >> "$work/load.txt"; sleep 5; done ) & sampler=$!
trap 'stop_server || true; kill "$sampler" 2>/dev/null; rm -rf "$work"' EXIT

# start_server LOGFILE: a demo site on a free port (its request log written on exit).
start_server() {
  rm -f "$work/port"
  "$BIN" demo-site --port 0 --ready-file "$work/port" --log "$1" 2>"$work/server.log" & server=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
  export CONSENTRY_DEMO_PORT=$(cat "$work/port")
}

# --- 1. throughput and phases: the five scenarios that complete ------------------------
scen=(--scenario no_action --scenario accept_all --scenario reject_all --scenario object_li --scenario accept_then_object)
: > "$work/runs.tsv"
start_server "$work/server-throughput.jsonl"
for mode in reuse fresh; do
  flag=(); [ "$mode" = fresh ] && flag=(--fresh-browser)
  for jobs in 1 2 4; do
    for round in $(seq "$ROUNDS"); do
      db="$work/$mode-j$jobs-r$round.db"
      bench/measure.py "$work/m.json" -- "$BIN" audit scenarios/demo-shop.toml "${scen[@]}" "${flag[@]}" \
        --jobs "$jobs" --db "$db" --format json --fail-on never --no-progress
      rc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' "$work/m.json")
      [ "$rc" = 0 ] || { echo "audit failed ($rc):"; cat "$work/m.json.err"; exit 1; }
      printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$jobs" "$round" "$db" "$(cat "$work/m.json")" >> "$work/runs.tsv"
      echo "mode=$mode jobs=$jobs round=$round done"
    done
  done
done
stop_server

# --- 2. side by side: one page, three states -----------------------------------------
# Without screenshots (--no-screenshots), so the per-state numbers stay comparable with
# earlier results and with bare Chromium, which takes none; part 1 keeps them, in their own
# phase column (docs/reports.md, "What it costs").
sed -e 's|^pages = .*|pages = ["/"]|' -e "s|^policy = .*|policy = \"$root/scenarios/demo-shop.policy.toml\"|" \
  scenarios/demo-shop.toml > "$work/onepage.toml"
three=(--scenario no_action --scenario accept_all --scenario reject_all)
: > "$work/side.tsv"
for round in $(seq "$ROUNDS"); do
  for mode in reuse fresh; do
    flag=(); [ "$mode" = fresh ] && flag=(--fresh-browser)
    log="$work/server-consentry-$mode-$round.jsonl"
    start_server "$log"
    db="$work/three-$mode-$round.db"
    bench/measure.py "$work/m.json" -- "$BIN" audit "$work/onepage.toml" "${three[@]}" "${flag[@]}" \
      --jobs 1 --db "$db" --format json --fail-on never --no-progress --no-screenshots
    stop_server
    printf 'consentry-%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$log" "$db" "$(cat "$work/m.json")" >> "$work/side.tsv"
  done
  log="$work/server-bare-$round.jsonl"
  start_server "$log"
  bench/measure.py "$work/m.json" -- node --experimental-websocket bench/bare.mjs "$CONSENTRY_DEMO_PORT" \
    https://www.demo-shop.test/ 1
  cp "$work/m.json.out" "$work/bare-$round.out"
  stop_server
  printf 'bare\t%s\t%s\t-\t%s\n' "$round" "$log" "$(cat "$work/m.json")" >> "$work/side.tsv"
  echo "side-by-side round=$round: consentry and bare done"
done

# The peer, pinned, from npm; its Playwright pointed at Debian's Chromium (../shared/CAPTURE.md).
peer=bench/.peer
if [ ! -x "$peer/node_modules/.bin/gdpr-scan" ]; then
  mkdir -p "$peer"; [ -f "$peer/package.json" ] || echo '{"private":true}' > "$peer/package.json"
  (cd "$peer" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error \
    "@slashgear/gdpr-cookie-scanner@$PEER_VERSION")
fi
shell="$work/browsers/chromium_headless_shell-1255"
mkdir -p "$shell/chrome-headless-shell-linux64"; touch "$shell/INSTALLATION_COMPLETE"
for round in $(seq "$ROUNDS"); do
  log="$work/server-peer-$round.jsonl"
  start_server "$log"
  printf '#!/bin/sh\nexec /usr/lib/chromium/chromium --host-resolver-rules="MAP * 127.0.0.1:%s, EXCLUDE localhost" --ignore-certificate-errors --disable-quic "$@"\n' \
    "$CONSENTRY_DEMO_PORT" > "$shell/chrome-headless-shell-linux64/chrome-headless-shell"
  chmod +x "$shell/chrome-headless-shell-linux64/chrome-headless-shell"
  out="$work/peer-$round"
  PLAYWRIGHT_BROWSERS_PATH="$work/browsers" bench/measure.py "$work/m.json" -- \
    "$peer/node_modules/.bin/gdpr-scan" scan https://www.demo-shop.test/ -o "$out" -f json --locale en-US
  stop_server
  report=$(find "$out" -name '*.json' | head -1)
  printf 'peer\t%s\t%s\t%s\t%s\n' "$round" "$log" "$report" "$(cat "$work/m.json")" >> "$work/side.tsv"
  echo "side-by-side round=$round: peer done"
done

# --- 3. overlap A/B (lever 3): the side-by-side audit without and with a prepared next context
BENCH_PAGES=one BENCH_MODES="off settle" bench/overlap.sh "$BIN" "$ROUNDS" > "$work/overlap.md"

python3 bench/report.py "$work" "$BIN" "$ROUNDS" "$PEER_VERSION" > bench/RESULTS.md
cat bench/RESULTS.md
