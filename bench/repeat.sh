#!/usr/bin/env bash
# Benchmark: what `audit --repeat 3` costs against one repetition (issue 22, item 4), on the
# demo site (scenarios/demo-shop.toml, its six scenarios; `consentry demo-site`).
# Runs the two audits in turn, A B A B ..., ROUNDS times each (default 3), each into a
# fresh database, at the default --jobs, and times each as a whole process
# (/usr/bin/time: wall, user + system CPU, peak memory). Medians, ranges and the ratio of
# each pair; writes bench/RESULTS-repeat.md with the machine's load.
set -euo pipefail
BIN=${1:?usage: bench/repeat.sh path/to/consentry}
ROUNDS=${REPEAT_ROUNDS:-3}
N=${REPEAT_N:-3}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" demo-site --port 0 --ready-file "$work/port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "the demo site did not start"; cat "$work/server.log"; exit 1; }
port=$(cat "$work/port")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

one() { # repeat round
  local rep=$1 r=$2 rc=0
  CONSENTRY_DEMO_PORT=$port /usr/bin/time -f "%e %U %S %M" -o "$work/time-$rep-$r" \
    "$BIN" audit scenarios/demo-shop.toml --repeat "$rep" --no-progress --format json \
    --fail-on never --db "$work/bench-$rep-$r.db" >"$work/out-$rep-$r.json" 2>"$work/err-$rep-$r" || rc=$?
  # 3: the demo's legacy_banner scenario is not observed on purpose (docs/demo.md).
  case $rc in 0|1|3) ;; *) echo "audit --repeat $rep failed ($rc)"; cat "$work/err-$rep-$r"; exit 1;; esac
}
# One warm-up of each (page cache, browser binary), not counted.
one 1 0; one "$N" 0
for r in $(seq "$ROUNDS"); do
  one 1 "$r"; one "$N" "$r"
  echo "round $r done"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work" "$ROUNDS" "$N" "$load_before" "$load_after" "$BIN" <<'PY' > bench/RESULTS-repeat.md
import json, os, statistics, sys, datetime
work, rounds, n, before, after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
build = "release" if "/release/" in sys.argv[6] else "debug (or other)"
def read(rep, r):
    wall, user, sys_, rss = open(os.path.join(work, f"time-{rep}-{r}")).read().split()[-4:]
    doc = json.load(open(os.path.join(work, f"out-{rep}-{r}.json")))
    inter = sum(1 for f in doc["findings"] if (f.get("repeat") or {}).get("intermittent"))
    return {"wall": float(wall), "cpu": float(user) + float(sys_), "rss": int(rss) / 1024,
            "visits": len(doc["visits"]), "findings": len(doc["findings"]), "intermittent": inter}
a = [read(1, r) for r in range(1, rounds + 1)]
b = [read(n, r) for r in range(1, rounds + 1)]
def med(xs, k, fmt="{:.1f}"):
    v = [x[k] for x in xs]
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
def ratio(k):
    v = [y[k] / x[k] for x, y in zip(a, b) if x[k]]
    return f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})"
print(f"# The cost of `audit --repeat {n}` against one repetition\n")
print(f"Written by `bench/repeat.sh` (`make bench-repeat`) on {datetime.date.today()}: "
      f"`consentry audit scenarios/demo-shop.toml` on the demo site, `--repeat 1` and "
      f"`--repeat {n}` in turn, {rounds} counted round(s) each after one warm-up, each into a "
      f"fresh database, default `--jobs` ({os.cpu_count()} cores), {build} build. Whole-process figures "
      f"(`/usr/bin/time`): median (min–max); the ratio is taken pair by pair. "
      f"Load average (1, 5, 15 min) before: {before}; after: {after}.\n")
print(f"| figure | --repeat 1 | --repeat {n} | ratio {n}/1 |")
print("|---|---|---|---|")
print(f"| wall seconds | {med(a,'wall')} | {med(b,'wall')} | {ratio('wall')} |")
print(f"| CPU seconds (user + system) | {med(a,'cpu')} | {med(b,'cpu')} | {ratio('cpu')} |")
print(f"| peak memory of the audit process (MiB) | {med(a,'rss')} | {med(b,'rss')} | {ratio('rss')} |")
print(f"| visits | {a[0]['visits']} | {b[0]['visits']} | |")
print(f"| findings (one per fingerprint) | {a[0]['findings']} | {b[0]['findings']} | |")
print(f"| of them intermittent | {a[0]['intermittent']} | {b[0]['intermittent']} | |")
print(f"\nEach repetition is a full visit in a fresh browser context, so the visits' time "
      f"grows about {n}-fold; what does not repeat (starting the browsers, loading the "
      "knowledge bases, judging the run, writing the report) keeps the ratio below "
      f"{n}. Browser and chromedriver processes are children of the audit and are counted "
      "in its CPU time, not in its peak memory.")
PY
cat bench/RESULTS-repeat.md
