#!/usr/bin/env bash
# Benchmark: what autoconsent adds per scenario (`[cmp] auto = true`), on the real-CMP
# fixture sites (fixtures/sites/klaro, fixtures/sites/cookieconsent; `make fixtures`), and
# what the heuristic adds on the hand-written banner of fixtures/sites/heuristic.
# Runs accept_all, reject_all and accept_then_withdraw ROUNDS times per site (default 3) and reports, from the
# stored consent actions (visits[].consent_actions): navigation start -> popupFound
# (detect_ms, in the background while the page loads), optIn/optOut sent ->
# autoconsentDone (done_ms), and the autoconsent step's whole time (added_ms: what the
# scenario spends in autoconsent). Medians and ranges; writes bench/RESULTS-cmp.md.
# accept_then_withdraw also runs, its withdrawal through the CMP profile: its steps time
# is reported in a second table.
set -euo pipefail
BIN=${1:?usage: bench/cmp.sh path/to/consentry}
ROUNDS=${CMP_ROUNDS:-3}
cd "$(dirname "$0")/.."
[ -f fixtures/build/autoconsent/autoconsent.playwright.js ] || { echo "run make fixtures first"; exit 1; }
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# site:scenario file (under tests/fixtures/):scenarios. The heuristic fixture's banner
# no autoconsent rule knows: its accept and reject go through the heuristic
# (docs/heuristic.md), whose own time is done_ms.
for entry in klaro:klaro/klaro.toml:accept_all,reject_all,accept_then_withdraw \
             cookieconsent:cookieconsent/cookieconsent.toml:accept_all,reject_all,accept_then_withdraw \
             heuristic:heuristic/hausgemacht.toml:accept_all,reject_all; do
  IFS=: read -r site file scenarios <<<"$entry"
  args=()
  for s in ${scenarios//,/ }; do args+=(--scenario "$s"); done
  "$BIN" demo-site --fixture "$site" --port 0 --ready-file "$work/port" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { echo "fixture $site did not start"; cat "$work/server.log"; exit 1; }
  for r in $(seq "$ROUNDS"); do
    rc=0
    CONSENTRY_DEMO_PORT=$(cat "$work/port") "$BIN" audit "tests/fixtures/$file" \
      "${args[@]}" --jobs 1 --no-progress --format json \
      --db "$work/bench.db" >"$work/$site-$r.json" 2>"$work/$site-$r.err" || rc=$?
    case $rc in 0|1) ;; *) echo "audit of $site failed ($rc)"; cat "$work/$site-$r.err"; exit 1;; esac
    echo "$site round $r done"
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=; rm -f "$work/port"
done

python3 - "$work" "$ROUNDS" <<'PY' > bench/RESULTS-cmp.md
import json, statistics, sys, glob, os, datetime
work, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for f in sorted(glob.glob(os.path.join(work, "*.json"))):
    site = os.path.basename(f).rsplit("-", 1)[0]
    for v in json.load(open(f))["visits"]:
        for a in v.get("consent_actions", []):
            if a["method"]["kind"] == "profile":
                continue  # no autoconsent in it: the table below
            key = (site, v["scenario"], a.get("detected") or "-", a["method"]["kind"])
            rows.setdefault(key, []).append(a)
def col(xs, k):
    vals = [x[k] for x in xs if x.get(k) is not None]
    if not vals:
        return "-"
    return f"{statistics.median(vals):.0f} ({min(vals)}–{max(vals)})"
print("# What autoconsent adds per scenario\n")
print(f"Written by `bench/cmp.sh` ({datetime.date.today()}), {rounds} round(s) per site, "
      "one scenario at a time (`--jobs 1`), debug or release build as given. Milliseconds, median (min–max). "
      f"Load average when the report was written: {open('/proc/loadavg').read().split()[0]} "
      f"on {os.cpu_count()} cores (other builds running make every number larger).\n")
print("| site | scenario | CMP detected | method | navigation → popupFound | action → autoconsentDone | autoconsent step (added) |")
print("|---|---|---|---|---|---|---|")
for (site, sc, cmp, m), xs in sorted(rows.items()):
    print(f"| {site} | {sc} | {cmp} | {m} | {col(xs,'detect_ms')} | {col(xs,'done_ms')} | {col(xs,'added_ms')} |")
print("\nDetection runs in the page while it loads and settles, so it costs the scenario "
      "nothing unless the popup appears after the settle; the last column is what the "
      "scenario spends waiting for autoconsent.")
print("\nRows with method `heuristic` (the hand-written banner of fixtures/sites/heuristic, "
      "no autoconsent rule): the action column is the heuristic's own time (collect the "
      "page's facts, decide, click, see the dialog go; for reject_all the second layer's "
      "settings, toggle and save clicks), what the heuristic adds per scenario; the step "
      "column adds autoconsent's wait before it gave up (up to the step timeout).")
# CMP profile flows (the withdrawal of accept_then_withdraw): the scenario's steps time
# (steps only: the settles and loads inside them are counted apart), per scenario.
prof = {}
for f in sorted(glob.glob(os.path.join(work, "*.json"))):
    site = os.path.basename(f).rsplit("-", 1)[0]
    for v in json.load(open(f))["visits"]:
        acts = v.get("consent_actions", [])
        names = sorted({a["method"].get("after") for a in acts if a["method"]["kind"] == "profile"})
        if names:
            prof.setdefault((site, v["scenario"], ", ".join(names)), []).append(v["timings"]["steps_ms"])
if prof:
    print("\n## CMP profile flows\n")
    print("The withdrawal of `accept_then_withdraw` runs through the detected CMP's profile "
          "(`scenarios/cmp/<name>.toml`) after autoconsent's optIn. Steps time of the whole "
          "scenario (the optIn step included; settles and page loads not), ms, median (min–max).\n")
    print("| site | scenario | profile | steps |")
    print("|---|---|---|---|")
    for (site, sc, names), xs in sorted(prof.items()):
        print(f"| {site} | {sc} | {names} | {statistics.median(xs):.0f} ({min(xs)}–{max(xs)}) |")
PY
cat bench/RESULTS-cmp.md
