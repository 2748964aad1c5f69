#!/usr/bin/env python3
"""The section "## Throughput of one vs two workers" of bench/RESULTS-pg.md, from the
work directory of bench/queue.sh.

usage: bench/queue_report.py WORK SITES FLEET BUILD
"""
import datetime
import difflib
import json
import os
import platform
import statistics
import subprocess
import sys

work, sites, fleet, build = sys.argv[1:]
read = lambda p: open(p).read().strip()
run = lambda *a: subprocess.run(a, capture_output=True, text=True).stdout.strip()
NAMES = {"a": "(a) one process, `audit --jobs 2`",
         "b": "(b) queue, 1 worker `--jobs 2`",
         "c": "(c) queue, 2 workers `--jobs 1`"}


def stamp(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


runs = []
for line in open(f"{work}/runs.tsv").read().splitlines():
    cfg, rnd, d = line.split("\t")
    main = json.load(open(f"{d}/main.json"))
    workers = [json.load(open(f"{d}/{f}")) for f in sorted(os.listdir(d))
               if f.startswith("worker") and f.endswith(".json")]
    states, visits, nruns, complete, fleet_run = read(f"{d}/counts.txt").split("|", 4)
    started, _, finished = fleet_run.partition("|")
    stored = (stamp(finished) - stamp(started)).total_seconds() if finished else None
    procs = [main] + workers
    runs.append({
        "cfg": cfg, "round": int(rnd), "dir": d, "wall": main["wall_s"], "stored": stored,
        "states": int(states), "visits": int(visits), "runs": int(nruns), "complete": int(complete),
        "cpu": sum(p["cpu_s"] for p in procs), "rcs": [p["rc"] for p in procs],
        "rss_main": main["peak_rss_mib"], "rss_workers": [w["peak_rss_mib"] for w in workers],
        "outcome": open(f"{d}/outcome.txt").read().splitlines(),
        "hung": read(f"{d}/hung.txt") if os.path.exists(f"{d}/hung.txt") else "",
    })
for r in runs:
    r["per_min"] = r["states"] / r["wall"] * 60
rounds = max(r["round"] for r in runs)
load = [float(x) for x in open(f"{work}/load.txt").read().split()] or [0.0]

print("## Throughput of one vs two workers\n")
print(f"Measured {datetime.date.today()} by `make bench-queue` (`bench/queue.sh`; `make bench` runs it "
      f"too), {build} build of {run('git', 'rev-parse', '--short', 'HEAD')} ({run('rustc', '--version')}), "
      f"{run('nproc')} cores, {platform.machine()}; {read(f'{work}/pg_version')}, a throwaway server on "
      "127.0.0.1 (`bench/pg.sh`: durable defaults), every consentry process and Chromium on the same "
      "machine. The workload is the agency fixture of bench/fleet.sh "
      f"({sites} client sites, seed 2026, three broken on purpose: one hangs, one answers 500, one loops), "
      + ("its fleet file without `[crawl]` (*fleet-listed*: each site visits its listed pages)"
         if fleet == "listed" else "its fleet file as generated (page discovery on)")
      + f". {rounds} round{'s' if rounds != 1 else ''}, each configuration on a fresh database; the "
      "rounds alternate the order (a b c, then c b a).\n")
print("- (a) the fleet in one process: `consentry audit fleet.toml --jobs 2 --db URL` (the reference);")
print("- (b) `consentry audit fleet.toml --queue --wait --db URL` and one `consentry worker --jobs 2 "
      "--until-empty`;")
print("- (c) the same enqueuer and two `consentry worker --jobs 1 --until-empty` (the same total jobs).\n")
print("*Wall* is the one process's, or the enqueuer's: from its start (enqueue) to its exit "
      "after the fleet run finished and its summary was written (the enqueuer asks every second; "
      "the workers start as soon as it has printed the fleet run). *Stored* is the fleet run's "
      "`finished_at - started_at` in the database. A *page-state* is a page loaded in one consent "
      "state (distinct (visit, page) of the observed visits, as bench/fleet.sh counts them). "
      "CPU-seconds are every process tree (consentry, chromedriver, Chromium; bench/measure.py, "
      "sampled every 50 ms); peak RSS is each consentry process's own (VmHWM), not Chromium's. "
      "*Exit codes*: the one process's or the enqueuer's, then each worker's (3 `incomplete` is "
      "expected: the broken sites' runs do not complete; docs/exit-codes.md).\n")
print("**The machine is shared and was loaded**: other sessions' builds and tests ran on its 2 "
      "cores at the same time. `uptime` at the start and at the end:\n")
print(f"    start: {read(f'{work}/uptime_start')}\n    end:   {read(f'{work}/uptime_end')}\n")
print(f"Load average (1 min) sampled every 5 s while measuring: median {statistics.median(load):.1f}, "
      f"min {min(load):.1f}, max {max(load):.1f} (2 cores; it counts the benchmark's own browsers too). "
      "Read the figures as orders of magnitude and the ratios as indicative.\n")

print("| configuration | round | wall (s) | stored (s) | site runs (complete) | visits | page-states "
      "| page-states/min | CPU-s | CPU-s per page-state | peak RSS, MiB (enqueuer or process; workers) "
      "| exit codes |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|")
for r in sorted(runs, key=lambda r: (r["cfg"], r["round"])):
    rss = f"{r['rss_main']:.1f}"
    if r["rss_workers"]:
        rss += "; " + ", ".join(f"{x:.1f}" for x in r["rss_workers"])
    stored = f"{r['stored']:.0f}" if r["stored"] is not None else "—"
    print(f"| {NAMES[r['cfg']]} | {r['round']} | {r['wall']:.0f} | {stored} | {r['runs']} "
          f"({r['complete']}) | {r['visits']} | {r['states']} | {r['per_min']:.1f} | {r['cpu']:.0f} | "
          f"{r['cpu'] / max(r['states'], 1):.2f} | {rss} | {' '.join(map(str, r['rcs']))} |")
print()

med = {}
for cfg in "abc":
    rs = [r for r in runs if r["cfg"] == cfg]
    med[cfg] = {k: statistics.median(r[k] for r in rs) for k in ("wall", "per_min", "cpu")}
print("Medians over the rounds, and against (a):\n")
print("| configuration | wall (s) | page-states/min | CPU-s | throughput vs (a) |")
print("|---|---:|---:|---:|---:|")
for cfg in "abc":
    m = med[cfg]
    print(f"| {NAMES[cfg]} | {m['wall']:.0f} | {m['per_min']:.1f} | {m['cpu']:.0f} | "
          f"{m['per_min'] / med['a']['per_min']:.2f} |")
print()
print(f"- two workers `--jobs 1` / one worker `--jobs 2`, page-states per minute: "
      f"**{med['c']['per_min'] / med['b']['per_min']:.2f}x**")
print(f"- one worker `--jobs 2` / one process `--jobs 2`: **{med['b']['per_min'] / med['a']['per_min']:.2f}x**\n")

# The stored outcomes, per site, against (a) of the same round; and (a) against itself.
print("### Stored outcomes against the one process\n")
print("Per site, from the database: the run's status, its visits (and how many complete), and its "
      "findings (scenario, code, fingerprint), compared line by line with (a) of the same round.\n")
differences = []


def compare(label, ref, got):
    if ref["outcome"] == got["outcome"]:
        print(f"- {label}: **equal** ({got['runs']} sites, "
              f"{sum(1 for l in got['outcome'] if ' finding ' in l)} findings)")
        return
    diff = [l for l in difflib.unified_diff(ref["outcome"], got["outcome"], lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    sites_differ = sorted({l[1:].split(" ", 1)[0] for l in diff})
    differences.append(label)
    print(f"- {label}: **DIFFERENT** in {len(sites_differ)} site(s): {', '.join(sites_differ)}")
    print("\n  ```diff")
    for l in diff[:40]:
        print("  " + l)
    if len(diff) > 40:
        print(f"  … {len(diff) - 40} more lines")
    print("  ```\n")


for rnd in range(1, rounds + 1):
    ref = next(r for r in runs if r["cfg"] == "a" and r["round"] == rnd)
    for cfg in "bc":
        got = next(r for r in runs if r["cfg"] == cfg and r["round"] == rnd)
        compare(f"round {rnd}, {NAMES[cfg]} against (a)", ref, got)
refs = [r for r in runs if r["cfg"] == "a"]
for other in refs[1:]:
    compare(f"(a) round {other['round']} against (a) round 1 (is the reference itself repeatable?)",
            refs[0], other)
hung = [r for r in runs if r["hung"]]
for r in hung:
    print(f"- **BUG**: {NAMES[r['cfg']]}, round {r['round']}: {r['hung']}")
print()
if differences:
    print("**A difference above is a bug to look into** (the fixture is deterministic: the same "
          "sites and pages give the same findings in one process).\n")
