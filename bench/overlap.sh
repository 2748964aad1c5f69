#!/usr/bin/env bash
# A/B of lever 3 of issue 9 (overlap: a pooled browser prepares the next scenario's
# browser context while the current one runs), one build: the same audits with
# CONSENTRY_PREPARE_NEXT=off|start|settle, interleaved round by round so a change in the
# machine's load hits every mode alike. Prints, per mode, the medians of the audit's wall
# time, CPU-seconds and each scenario's session start and visit time, and the load average.
#   usage: bench/overlap.sh path/to/consentry [ROUNDS]   (BENCH_PAGES=one: only "/")
set -euo pipefail
BIN=$(realpath "${1:?usage: bench/overlap.sh path/to/consentry [ROUNDS]}")
ROUNDS=${2:-4}
MODES=${BENCH_MODES:-off settle start}
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$BIN" demo-site --port 0 --ready-file "$work/port" 2>"$work/server.log" & server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
export CONSENTRY_DEMO_PORT=$(cat "$work/port")
file=scenarios/demo-shop.toml
scen=(--scenario no_action --scenario accept_all --scenario reject_all --scenario object_li --scenario accept_then_object)
if [ "${BENCH_PAGES:-}" = one ]; then
  sed -e 's|^pages = .*|pages = ["/"]|' -e "s|^policy = .*|policy = \"$root/scenarios/demo-shop.policy.toml\"|" \
    "$file" > "$work/onepage.toml"
  file="$work/onepage.toml"
  scen=(--scenario no_action --scenario accept_all --scenario reject_all)
fi
: > "$work/runs.tsv"
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    db="$work/$mode-$round.db"
    CONSENTRY_PREPARE_NEXT=$mode bench/measure.py "$work/m.json" -- "$BIN" audit "$file" "${scen[@]}" \
      --jobs 1 --db "$db" --format json --fail-on never --no-progress
    printf '%s\t%s\t%s\t%s\n' "$mode" "$db" "$(cut -d' ' -f1 /proc/loadavg)" "$(cat "$work/m.json")" >> "$work/runs.tsv"
  done
  echo "round $round done (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
python3 - "$work/runs.tsv" <<'PY'
import collections, datetime, json, sqlite3, statistics, sys
med = statistics.median
rows = collections.defaultdict(lambda: collections.defaultdict(list))
def ts(s):
    s = s.rstrip("Z")
    if "." in s:
        h, f = s.split("."); s = f"{h}.{f[:6]}"
    return datetime.datetime.fromisoformat(s)
order = []
for line in open(sys.argv[1]):
    mode, db, load, m = line.rstrip("\n").split("\t", 3)
    m = json.loads(m)
    if mode not in order: order.append(mode)
    r = rows[mode]
    r["wall"].append(m["wall_s"]); r["cpu"].append(m["cpu_s"]); r["load"].append(float(load))
    con = sqlite3.connect(db)
    sums = collections.Counter()
    for ph in con.execute("SELECT load_ms, steps_ms, settle_ms, capture_ms, close_ms FROM visits"):
        for k, v in zip(("load", "steps", "settle", "capture", "close"), ph):
            sums[k] += v
    for k, v in sums.items():
        r[("phase", k)].append(v)
    for scen, start, a, b in con.execute("SELECT scenario, session_start_ms, started_at, finished_at FROM visits"):
        r[("start", scen)].append(start)
        r[("visit", scen)].append((ts(b) - ts(a)).total_seconds() * 1000)
        r["visit"].append((ts(b) - ts(a)).total_seconds() * 1000)
scens = sorted({k[1] for r in rows.values() for k in r if isinstance(k, tuple) and k[0] != "phase"})
print("| mode | audit wall s | CPU s | visit ms (all) | " + " | ".join(f"{s} start/visit ms" for s in scens) + " | load (1 min) |")
print("|---|---:|---:|---:|" + "---:|" * len(scens) + "---:|")
for mode in order:
    r = rows[mode]
    cells = [f"{med(r[('start', s)]):.0f} / {med(r[('visit', s)]):.0f}" for s in scens]
    print(f"| {mode} | {med(r['wall']):.2f} | {med(r['cpu']):.2f} | {med(r['visit']):.0f} | " + " | ".join(cells)
          + f" | {min(r['load']):.1f}-{max(r['load']):.1f} |")
print("\n| mode | " + " | ".join(f"{k} ms (all scenarios)" for k in ("load", "steps", "settle", "capture", "close")) + " |")
print("|---|" + "---:|" * 5)
for mode in order:
    r = rows[mode]
    print(f"| {mode} | " + " | ".join(f"{med(r[('phase', k)]):.0f}" for k in ("load", "steps", "settle", "capture", "close")) + " |")
print(f"\n{len(r['wall'])} rounds per mode, medians.")
PY
