#!/usr/bin/env python3
"""bench/RESULTS-fleet.md from bench/fleet.sh's measurements.

usage: bench/fleet_report.py RUNS.tsv LOAD.txt SITES

A page-state is one page loaded in one consent state: a (visit, page) pair of a visit that
was observed, counted from the database (distinct http(s) pages its requests were made on).
"""
import datetime
import json
import sqlite3
import statistics
import subprocess
import sys

runs_tsv, load_txt, sites = sys.argv[1], sys.argv[2], int(sys.argv[3])


def db_counts(db):
    import os
    if not os.path.exists(db):
        sys.exit(f"{db}: no database: the audit failed before recording anything (see its stderr)")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    states = c.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT v.id, r.page FROM visits v "
        "JOIN requests r ON r.visit_id = v.id "
        "WHERE v.status = 'complete' AND r.page LIKE 'http%')"
    ).fetchone()[0]
    runs = c.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    complete = c.execute("SELECT COUNT(*) FROM runs WHERE status = 'complete'").fetchone()[0]
    visits = c.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
    discovery = []
    cols = [r[1] for r in c.execute("PRAGMA table_info(runs)")]
    if "crawl" in cols:
        for (plan,) in c.execute("SELECT crawl FROM runs WHERE crawl IS NOT NULL"):
            try:
                p = json.loads(plan)
                discovery.append((p.get("elapsed_ms", 0), len(p.get("pages", []))))
            except ValueError:
                pass
    return states, runs, complete, visits, discovery


rows = {}
for line in open(runs_tsv):
    kind, jobs, db, m = line.rstrip("\n").split("\t", 3)
    m = json.loads(m)
    states, runs, complete, visits, discovery = db_counts(db)
    r = rows.setdefault((kind, int(jobs)), {"wall": 0.0, "cpu": 0.0, "rss": 0.0, "states": 0,
                                            "runs": 0, "complete": 0, "visits": 0,
                                            "processes": 0, "discovery": []})
    r["wall"] += m["wall_s"]
    r["cpu"] += m["cpu_s"]
    r["rss"] = max(r["rss"], m["peak_rss_mib"])
    r["states"] += states
    r["runs"] += runs
    r["complete"] += complete
    r["visits"] += visits
    r["processes"] += 1
    r["discovery"] += discovery

loads = [float(x) for x in open(load_txt).read().split()] or [0.0]
try:
    chromedriver = subprocess.run(["chromedriver", "--version"], capture_output=True,
                                  text=True).stdout.strip()
except OSError:
    chromedriver = "chromedriver not found"

print("# Fleet benchmark results\n")
print(f"Measured {datetime.date.today()} by `make bench` (`bench/fleet.sh`) on the agency "
      f"fixture ({sites} client sites, seed 2026, three broken on purpose: one hangs, one "
      f"answers 500, one loops), release build, {chromedriver}. One round per configuration.")
print(f"Load average (1 min) while measuring, sampled every 5 s: median "
      f"{statistics.median(loads):.1f}, min {min(loads):.1f}, max {max(loads):.1f} (2 cores).\n")
print("A *page-state* is one page loaded in one consent state (a scenario's visit of one "
      "page), counted from the database for the visits that were observed. *Fleet*: one "
      "`consentry audit fleet.toml` over every site. *Alone*: each site with a client file "
      "audited by its own process, one after another (the three inline sites have none), "
      "summed. CPU-seconds are the whole process tree (consentry, chromedriver, Chromium); "
      "peak RSS is consentry's own process (the largest of the processes for *alone*).\n")
print("| run | --jobs | processes | sites | complete | wall (s) | sites/hour | page-states "
      "| page-states/min | CPU-s per page-state | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (kind, jobs), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    per_min = r["states"] / r["wall"] * 60 if r["wall"] else 0
    per_hour = r["runs"] / r["wall"] * 3600 if r["wall"] else 0
    cpu = r["cpu"] / r["states"] if r["states"] else 0
    print(f"| {kind} | {jobs} | {r['processes']} | {r['runs']} | {r['complete']} | "
          f"{r['wall']:.0f} | {per_hour:.0f} | {r['states']} | {per_min:.1f} | {cpu:.2f} | "
          f"{r['rss']:.1f} |")
print()
print("Fleet throughput against the sites audited alone, at the same `--jobs` "
      "(target: within 10%, i.e. a ratio of at least 0.90):\n")
print("| --jobs | fleet page-states/min | alone page-states/min | ratio |")
print("|---:|---:|---:|---:|")
for jobs in sorted({j for (_, j) in rows}):
    f, a = rows.get(("fleet", jobs)), rows.get(("alone", jobs))
    if not f or not a or not a["wall"] or not f["wall"]:
        continue
    fm, am = f["states"] / f["wall"] * 60, a["states"] / a["wall"] * 60
    print(f"| {jobs} | {fm:.1f} | {am:.1f} | {fm / am:.2f} |")
disc = [d for r in rows.values() for d in r["discovery"]]
print()
if disc:
    ms = [d[0] for d in disc]
    print(f"Page discovery (stored plans of {len(disc)} site runs): median {statistics.median(ms):.0f} ms "
          f"per site, max {max(ms)} ms; pages planned per site: median "
          f"{statistics.median([d[1] for d in disc]):.0f}.")
else:
    print("Page discovery: no stored plan (this build does not discover pages, or the "
          "fleet's [crawl] is off).")
