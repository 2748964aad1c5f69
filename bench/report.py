#!/usr/bin/env python3
"""bench/RESULTS.md from the measurements bench/run.sh left in WORK (stdout)."""
import collections
import datetime
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys

work, binary, rounds, peer_version = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
med = statistics.median

# The demo's vendor hosts (src/demo/mod.rs DEMO_HOSTS minus the shop's own hosts); the
# server also logs Chromium's background traffic (Google update checks), never counted.
VENDORS = {"www.googletagmanager.com", "www.google-analytics.com", "connect.facebook.net",
           "www.facebook.com", "static.hotjar.com", "sb.scorecardresearch.com",
           "static.chartbeat.com", "js.stripe.com", "www.recaptcha.net", "www.gstatic.com",
           "analytics.tiktok.com", "bat.bing.com"}
STATES = ["no_action", "accept_all", "reject_all"]
PHASES = ["session_start_ms", "load_ms", "steps_ms", "settle_ms", "capture_ms", "close_ms",
          "screenshot_ms"]


def ts(s):
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".")
        s = f"{head}.{frac[:6]}"
    return datetime.datetime.fromisoformat(s)


def host(url):
    return url.split("/")[2].split(":")[0].lower() if "://" in url else ""


def server_log(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        if r["host"] in VENDORS:
            out.append((ts(r["time"]), r["method"], f'{r["scheme"]}://{r["host"]}{r["path_and_query"]}'))
    return out


def matched(logged, seen):
    """How many of the logged (method, url) requests the seen multiset covers."""
    want = collections.Counter(logged)
    have = collections.Counter(seen)
    return sum(min(n, have[k]) for k, n in want.items())


# --- throughput -------------------------------------------------------------------------
per = collections.defaultdict(list)          # scenario -> [phase tuple]
ends = collections.Counter()
settles_n = 0
thr = collections.defaultdict(list)          # (mode, jobs) -> [scenarios/min]
cpu = collections.defaultdict(list)          # (mode, jobs) -> [cpu s / scenario]
rss = collections.defaultdict(list)
fresh_per = collections.defaultdict(list)
for line in open(os.path.join(work, "runs.tsv")):
    mode, jobs, rnd, db, m = line.rstrip("\n").split("\t", 4)
    m = json.loads(m)
    con = sqlite3.connect(db)
    visits = con.execute(f"SELECT scenario, {', '.join(PHASES)}, settles FROM visits").fetchall()
    n = len(visits)
    thr[(mode, int(jobs))].append(n / m["wall_s"] * 60)
    cpu[(mode, int(jobs))].append(m["cpu_s"] / n)
    rss[(mode, int(jobs))].append(m["peak_rss_mib"])
    if jobs == "1":
        for v in visits:
            (per if mode == "reuse" else fresh_per)[v[0]].append(v[1:8])
            if mode == "reuse":
                for s in json.loads(v[8]):
                    ends[s["ended"]] += 1
                    settles_n += 1

cores = os.cpu_count()
driver = subprocess.run(["chromedriver", "--version"], capture_output=True, text=True).stdout.strip()
print("# Benchmark results\n")
print(f"Measured {datetime.date.today()} by `make bench` (`bench/run.sh`) on the bundled demo site, "
      f"{'release' if '/release/' in binary else '**debug** (not release)'} build, {cores} cores, {platform.machine()}, {driver}. {rounds} rounds per "
      "configuration. Numbers are medians unless said otherwise.")
loads = [float(x) for x in open(os.path.join(work, "load.txt"))] if os.path.exists(os.path.join(work, "load.txt")) else []
if loads:
    busy = (" The load counts the bench's own processes too (consentry, chromedriver, every Chromium"
            " and its renderers; at `--jobs 4` four browsers on 2 cores), so it runs above the number"
            " of cores even on an otherwise idle machine; a median well above that means other work"
            " competed: read the numbers then as orders of magnitude and the ratios as indicative.") if med(loads) > 3 else ""
    print(f"Load average (1 min) while measuring, sampled every 5 s: median {med(loads):.1f}, "
          f"min {min(loads):.1f}, max {max(loads):.1f} ({cores} cores).{busy}")
print()
print("""Other benchmarks, each in its own file (written by its own script, so re-running one never wipes another):
[RESULTS-drift.md](RESULTS-drift.md) (the drift pack over a synthetic year, `make bench-drift`),
[RESULTS-pg.md](RESULTS-pg.md) (PostgreSQL against SQLite: ingest time per visit and the drift pack, `make bench-pg`; one vs two queue workers, `make bench-queue`),
[RESULTS-cmp.md](RESULTS-cmp.md) (what autoconsent adds per scenario, `make bench-cmp`),
[RESULTS-fleet.md](RESULTS-fleet.md) (fleet runs at `--jobs` 1/2/4, `make bench-fleet`).
""")

print("## Per-scenario wall time by phase (`--jobs 1`, ms, median over rounds)\n")
print("Five scenarios (every built-in that completes plus `accept_then_object`), two pages each "
      "(`/`, `/checkout`). *load* is navigations only (pages and leaving the page), *steps* the "
      "scenario's steps without the settles and loads inside them, *settle* every settle, "
      "*capture* consent-signal probes and the cookie jar, *screenshots* the banner before and "
      "after each consent action (docs/reports.md). Phases do not overlap.\n")
for title, table in (("Reused browser, fresh context per scenario (default)", per),
                     ("`--fresh-browser` (a new browser and profile per scenario)", fresh_per)):
    print(f"### {title}\n")
    print("| scenario | session start | load | steps | settle | capture | close | screenshots | total |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, vals in table.items():
        m = [med(x[i] for x in vals) for i in range(7)]
        print(f"| {s} | " + " | ".join(f"{v:.0f}" for v in m) + f" | {sum(m):.0f} |")
    print()
print(f"What ended the {settles_n} settles of the reused-browser `--jobs 1` runs: " +
      ", ".join(f"`{k}` {v}" for k, v in ends.most_common()) +
      " (`idle`: no request in flight and the page had no short timer, animation frame or "
      "load pending; `quiet_window`: the 700 ms upper bound; `timeout`).\n")

print("## Throughput, CPU and memory (five scenarios per audit)\n")
print("| browser | --jobs | scenarios/min (median) | min | max | CPU-s per scenario (median) | consentry peak RSS (MiB, max) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for mode in ("reuse", "fresh"):
    for j in (1, 2, 4):
        t = thr[(mode, j)]
        if not t:
            continue
        label = "reused context" if mode == "reuse" else "fresh browser"
        print(f"| {label} | {j} | {med(t):.1f} | {min(t):.1f} | {max(t):.1f} | "
              f"{med(cpu[(mode, j)]):.2f} | {max(rss[(mode, j)]):.1f} |")
print("\nWall time per audit includes starting chromedriver and the first browser and opening the "
      "database. CPU-seconds are the whole process tree (consentry, chromedriver, every Chromium "
      "process), sampled from /proc every 50 ms (a slight underestimate). Peak RSS is consentry's "
      "own process (VmHWM), not Chromium's.\n")

# --- side by side -----------------------------------------------------------------------
rows = [l.rstrip("\n").split("\t", 4) for l in open(os.path.join(work, "side.tsv"))]
truth = {s: [] for s in STATES}      # per state: server-logged third-party requests (consentry runs)
res = collections.defaultdict(lambda: collections.defaultdict(list))
walls = collections.defaultdict(list)
state_ms = collections.defaultdict(lambda: collections.defaultdict(list))
for tool, rnd, log, extra, m in rows:
    m = json.loads(m)
    walls[tool].append(m["wall_s"])
    logged = server_log(log)
    if tool.startswith("consentry"):
        con = sqlite3.connect(extra)
        for vid, scen, start, end in con.execute("SELECT id, scenario, started_at, finished_at FROM visits"):
            a, b = ts(start), ts(end)
            mine = [(meth, u) for t, meth, u in logged if a <= t <= b]
            seen = [(meth, u) for meth, u in con.execute(
                "SELECT method, url FROM requests WHERE visit_id = ?", (vid,)) if host(u) in VENDORS]
            res[tool][scen].append((len(mine), matched(mine, seen)))
            state_ms[tool][scen].append((b - a).total_seconds())
            if tool == "consentry-reuse":
                truth[scen].append(collections.Counter(mine))
    elif tool == "bare":
        pass
    else:
        rep = json.load(open(extra))
        keys = {"no_action": "networkBeforeInteraction", "accept_all": "networkAfterAccept",
                "reject_all": "networkAfterReject"}
        for scen, k in keys.items():
            seen = [(r.get("method", "GET"), r["url"]) for r in rep.get(k, []) if host(r["url"]) in VENDORS]
            res[tool][scen].append(seen)
        res[tool]["_server_total"].append(len(logged))
        res[tool]["_duration"].append(rep.get("duration", 0) / 1000)

bare_states = collections.defaultdict(list)
bare_start = []
for rnd in range(1, rounds + 1):
    p = os.path.join(work, f"bare-{rnd}.out")
    if os.path.exists(p):
        for l in open(p):
            d = json.loads(l)
            if "state" in d:
                bare_states[d["state"]].append(d["ms"] / 1000)
            elif "browser_start_ms" in d:
                bare_start.append(d["browser_start_ms"] / 1000)

print("## Side by side: the demo shop's home page, three states (`--jobs 1`)\n")
print(f"The same page (`https://www.demo-shop.test/`, one page), three states (no action, accept "
      f"all, reject all), each tool against its own fresh demo server whose log is the ground "
      f"truth. Wall time is the whole process (start to exit). consentry: `audit` of a one-page "
      f"copy of `scenarios/demo-shop.toml`. Bare Chromium: `bench/bare.mjs` (one Chromium, a "
      f"fresh context per state, load, click, leave, each to network idle = nothing in flight "
      f"for 500 ms; no capture). Peer: `@slashgear/gdpr-cookie-scanner` {peer_version} "
      f"(`gdpr-scan scan URL -f json`, npm, its Playwright on Debian's Chromium), which scans the "
      f"three states in one browser and context.\n")
print("| tool | wall time, 3 states (s, median) | min | max |")
print("|---|---:|---:|---:|")
names = {"consentry-reuse": "consentry (reused browser, default)",
         "consentry-fresh": "consentry `--fresh-browser`", "bare": "bare Chromium (no consentry)",
         "peer": f"gdpr-cookie-scanner {peer_version}"}
for tool in ("consentry-reuse", "consentry-fresh", "bare", "peer"):
    w = walls.get(tool)
    if w:
        print(f"| {names[tool]} | {med(w):.2f} | {min(w):.2f} | {max(w):.2f} |")
print()

print("### Third-party requests seen per state\n")
print("Server-logged = third-party requests the demo server received during that state of "
      "consentry's run (the site is deterministic: the same set every run). consentry's count "
      "is matched request by request (method and URL) against its own run's log; the peer's "
      "list is matched against the same state's log of consentry's run (its own run's log "
      "cannot be split by state; its total is given below).\n")
print("| state | server-logged | consentry saw | gdpr-cookie-scanner saw |")
print("|---|---:|---:|---:|")
for s in STATES:
    t = res["consentry-reuse"][s]
    logged_n = med(x[0] for x in t) if t else 0
    cons = med(x[1] for x in t) if t else 0
    peer_seen = []
    if truth[s]:
        want = truth[s][0]
        for seen in res["peer"].get(s, []):
            have = collections.Counter(seen)
            peer_seen.append(sum(min(n, have[k]) for k, n in want.items()))
    ps = f"{med(peer_seen):.0f}" if peer_seen else "n/a"
    print(f"| {s} | {logged_n:.0f} | {cons:.0f} | {ps} |")
if res["peer"].get("_server_total"):
    print(f"\nThe peer's own runs made the server log {med(res['peer']['_server_total']):.0f} "
          "third-party requests in total over its three states (median).")
print()

# --- ratios -----------------------------------------------------------------------------
cr = walls.get("consentry-reuse", [0])
per_state = [x for s in STATES for x in state_ms["consentry-reuse"][s]]
complete = all(x[0] == x[1] for s in STATES for x in res["consentry-reuse"][s])
print("## Against the goals of issue 9\n")
print("| goal | measured | |")
print("|---|---|---|")
five = [sum(x) / 1000 / 1 for v in per.values() for x in v]
ps_med = med(per_state) if per_state else float("nan")
print(f"| per page-state ≤ 1.5 s median at `--jobs 1`, 100% capture | {ps_med:.2f} s per state "
      f"(visit start to end, one-page three-state audit); capture "
      f"{'100%' if complete else 'NOT 100%'} in every state and round | "
      f"{'met' if ps_med <= 1.5 and complete else 'missed'} |")
if walls.get("peer"):
    r = med(cr) / med(walls["peer"])
    print(f"| three-state audit ≤ 0.6× the peer | {med(cr):.2f} s vs {med(walls['peer']):.2f} s = "
          f"**{r:.3f}×** | {'met' if r <= 0.6 else 'missed'} |")
if walls.get("bare"):
    r = med(cr) / med(walls["bare"])
    print(f"| overhead ≤ 1.15× bare Chromium | {med(cr):.2f} s vs {med(walls['bare']):.2f} s = "
          f"**{r:.3f}×** | {'met' if r <= 1.15 else 'missed'} |")
print()

# --- overlap A/B ------------------------------------------------------------------------
ov = os.path.join(work, "overlap.md")
if os.path.exists(ov):
    print("## Overlap: preparing the next browser context while a scenario runs (A/B)\n")
    print("The side-by-side audit (one page, three states, `--jobs 1`, reused browser) run by "
          "`bench/overlap.sh` with `CONSENTRY_PREPARE_NEXT=off` (each scenario creates its context "
          "when it starts) and `settle` (the default: while a scenario runs, from its first settle "
          "on, its browser prepares the next scenario's context and instrumented tab), the two "
          "modes interleaved round by round; same build. *start/visit*: session start and visit "
          "time (start to end) per scenario, ms.\n")
    print(open(ov).read().strip() + "\n")

# Static reading notes (dated numbers in them are from the runs named; re-check them).
print("""## Reading these numbers

- **Load**: read the load average above first; it counts the bench's own browsers. On this
  2-core machine the same audit varied 1.5-2x between runs of 2026-12-01, so only large
  differences mean anything. Per page-state (goals: 1.5 s, 0.6x the peer, 1.15x bare
  Chromium), runs of 2026-12-01: before the settle and click work below 1.91 s, 0.51x, 1.14x
  (other builds competing, load median 26), 1.42 s, 0.58x, 0.76x (load median 9.8), 1.80 s,
  0.60x, 0.84x (nothing but the bench running); with continued settles and pointer clicks
  1.44 s, 0.482x, 0.736x (nothing else running, load median 11.8); adding the 50 ms grace
  with the hook's scripts-due count 1.71 s, 0.594x, 0.780x (nothing else running, load
  median 12.2; settles 30-45% shorter than the run before, load and steps longer). Six
  ad-hoc runs of the side-by-side audit of that code, three through `bench/measure.py` and
  three without, interleaved: 4.9-5.7 s per audit, per-state medians 1.16-1.67 s (the
  sampler makes no visible difference). The per-state goal sits inside this machine's noise:
  met in some runs, missed in others. The run above, on the final code (the observer
  added, nothing else changed), is the fastest of the day for every tool (the peer 8.3 s
  against 10.0-11.4 s in the earlier runs, bare Chromium 6.0 s against 7.2-7.8 s, the whole
  bench 12 min against 20): part of its margin is the machine (two idle Chromium browsers
  left over from a click experiment ran during the two runs before it, killed before it;
  whether they cost anything was not measured). The ratios compare tools
  within one run and were met in all three runs with the settle and click work.
- **Overlap (lever 3 of issue 9)**: while a scenario runs, its pooled browser prepares the
  next scenario's browser context and instrumented tab (from the running scenario's first
  settle on; its request interception starts only when the next scenario takes it, so it
  never sees or delays the running scenario's requests). The next scenario's session start
  then is only turning interception on and switching WebDriver to the tab: 0.01-0.1 s instead
  of 0.2-0.55 s, in every run at any load. The work is moved, not removed, and it runs in the
  same browser process as the scenario: the load and settle phases grew by about what session
  start saved in most A/Bs, so the net effect on wall time is within noise on this machine.
  A/B runs of 2026-12-01 (same build, modes interleaved, `bench/overlap.sh`, off -> settle):
  five-scenario two-page audit 10.59 s -> 10.40 s (3 rounds, load 2-4.5, the quietest),
  15.7 -> 14.9 (4 rounds, load 6-12), 14.8 -> 15.0 (3 rounds, load ~10), 12.2 -> 14.5
  (3 rounds, load 10-12); one-page three-state audit 5.08 -> 5.15 (the table above, load ~6),
  13.9 -> 8.3 (6 rounds, load 11-17), 15.1 -> 10.3 (2 rounds, load ~25). It stays the default
  (neutral when the machine is quiet, ahead in both heavily loaded three-state A/Bs);
  `CONSENTRY_PREPARE_NEXT=off` turns it off. Re-measure on an idle machine with more cores.
- **chromedriver once per audit**: `Engine::start` spawns one chromedriver for the whole
  audit, `Engine::shutdown` stops it; `strace -f -e trace=execve` of a five-scenario
  `--jobs 2` audit shows one chromedriver and two browsers (2026-12-01).
- **Settle**: every settle ends on the page's own signals (`idle`), not on the 700 ms quiet
  window (bench of 2026-11-22, quiet windows only: settle 2.9-5.0 s per scenario). Three
  changes of 2026-12-01 took the demo shop's settles from ~130-180 ms each to ~65 ms, and the
  settle before a consent action to ~2 ms (one-page audit, release build, quiet machine):
  - a settle with nothing done to the page since the last one (the settle before a consent
    action right after the load's, the one after the steps of a step-less scenario)
    continues it instead of serving the grace again (`Capture::settle_continued`);
  - the page hook reports scripts whose file arrived but that have not run yet (executable
    `<script src>` with a resource-timing entry and no `load`/`error` event), which the
    120 ms grace used to cover; the grace is now 50 ms (for workers' events, which are not
    asked). One-page three-state audit, 3 runs each: 5.1-5.2 s before, 4.1-4.3 s after.
- **Clicks**: a click step is a WebDriver pointer action (move, press, release: trusted
  events) after one in-page check of the target (rendered, in view, not covered), instead
  of WebDriver's element click, whose own checks cost 50-100 ms more per click (element click
  72-137 ms, actions 24-43 ms on the demo banner, chromedriver 156); a hidden or covered
  target still goes through element click, so its error is unchanged.
- **Reused browser vs `--fresh-browser`**: a fresh browser costs ~0.6-0.85 s to start and
  ~0.19 s to close (quiet machine, bench of 2026-12-01 before the overlap); a prepared context
  0.01-0.1 s. The first scenario of a reused browser pays the browser start (`no_action`).
  At `--jobs 4` on 2 cores both modes are CPU-bound and throughput falls below `--jobs 2`.
- **Bare Chromium** waits Chromium's own `networkIdle` (nothing in flight for 500 ms) after
  the load, the click and leaving the page; consentry's settle ends as soon as the page says
  nothing short is pending, so the "overhead" ratio can be under 1. A bare run with
  consentry's settle rule would be the stricter baseline.
- **The peer** sees fewer third-party requests than the server logged in every state, most of
  all after reject (it lists what happens after its click, missing what the page sends before
  and around it, worker pings and the leave beacon); consentry saw all of them in every state
  and round.
- **Per page-state**: the one-page, three-state audit's visits, start to end: session start
  (~1 s or more for the first, which starts the browser; a prepared context for the others),
  load, the click and three to four settles. The first visit pays the browser start, so the
  median is the accept or reject visit. The overlap A/B table above gives each mode's
  visits of the same run.
- **HSTS isolation** is now tested (`tests/browser_capture.rs`,
  `hsts_does_not_leak_between_scenarios`): with the demo certificate accepted by its public
  key (`--ignore-certificate-errors-spki-list`), Chromium stores HSTS; the writer's own
  http:// load is upgraded, the next scenario's is not (reused and fresh browser).
""")
