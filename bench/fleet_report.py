#!/usr/bin/env python3
"""bench/RESULTS-fleet.md from bench/fleet.sh's measurements.

usage: bench/fleet_report.py RUNS.tsv LOAD.txt SITES BUILD

BUILD names the binary's build (`release` from `make bench`, `debug` when run by hand on
a debug binary): it is printed, never assumed.

A page-state is one page loaded in one consent state: a (visit, page) pair of a visit that
was observed, counted from the database (distinct http(s) pages its requests were made on).
"""
import datetime
import json
import sqlite3
import statistics
import subprocess
import sys

runs_tsv, load_txt, sites, build = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


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
print(f"Measured {datetime.date.today()} by `bench/fleet.sh` (`make bench` or `make bench-fleet`) "
      f"on the agency fixture ({sites} client sites, seed 2026, three broken on purpose: one "
      f"hangs, one answers 500, one loops), **{build} build**, {chromedriver}. One round per "
      f"configuration.")
print(f"Load average (1 min) while measuring, sampled every 5 s: median "
      f"{statistics.median(loads):.1f}, min {min(loads):.1f}, max {max(loads):.1f} (2 cores).\n")
print("A *page-state* is one page loaded in one consent state (a scenario's visit of one "
      "page), counted from the database for the visits that were observed. *fleet*: one "
      "`consentry audit fleet.toml` over every site, page discovery on (the fleet's "
      "`[crawl]`). *fleet-listed*: the same fleet file without its `[crawl]`, so each site "
      "visits its listed pages. *alone*: each site's client file audited by its own process, "
      "one after another, with the fleet's three scenarios, summed: the same sites, scenarios "
      "and pages as *fleet-listed*. CPU-seconds are the whole process tree (consentry, "
      "chromedriver, Chromium); peak RSS is consentry's own process (the largest of the "
      "processes for *alone*).\n")
print("| run | --jobs | processes | sites | complete | wall (s) | sites/hour | page-states "
      "| page-states/min | CPU-s per page-state | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
order = {"fleet": 0, "fleet-listed": 1, "alone": 2}
main = {k: r for k, r in rows.items() if k[0] in order}
for (kind, jobs), r in sorted(main.items(), key=lambda kv: (kv[0][1], order[kv[0][0]])):
    per_min = r["states"] / r["wall"] * 60 if r["wall"] else 0
    per_hour = r["runs"] / r["wall"] * 3600 if r["wall"] else 0
    cpu = r["cpu"] / r["states"] if r["states"] else 0
    print(f"| {kind} | {jobs} | {r['processes']} | {r['runs']} | {r['complete']} | "
          f"{r['wall']:.0f} | {per_hour:.0f} | {r['states']} | {per_min:.1f} | {cpu:.2f} | "
          f"{r['rss']:.1f} |")
print()
print("Like for like: the fleet without discovery against the same sites audited alone, at "
      "the same `--jobs` (target: fleet throughput within 10%, a ratio of at least 0.90):\n")
print("| --jobs | fleet-listed page-states/min | alone page-states/min | ratio | met |")
print("|---:|---:|---:|---:|---|")
for jobs in sorted({j for (_, j) in main}):
    f, a = rows.get(("fleet-listed", jobs)), rows.get(("alone", jobs))
    if not f or not a or not a["wall"] or not f["wall"] or not a["states"]:
        continue
    fm, am = f["states"] / f["wall"] * 60, a["states"] / a["wall"] * 60
    print(f"| {jobs} | {fm:.1f} | {am:.1f} | {fm / am:.2f} | {'yes' if fm / am >= 0.9 else 'no'} |")
print()
print("Peak RSS of the 20-site fleet (target: under 64 MiB): " + ", ".join(
    f"--jobs {j}: {r['rss']:.1f} MiB" for (k, j), r in sorted(main.items()) if k == "fleet") + ".")
disc = [d for (k, _), r in main.items() if k == "fleet" for d in r["discovery"]]
print()
if disc:
    ms = [d[0] for d in disc]
    print(f"Page discovery in the agency fleet (stored plans of {len(disc)} site runs over every "
          f"--jobs; the fixture's sites have small sitemaps and discovery renders pages for their "
          f"links, up to max_depth 2): median {statistics.median(ms):.0f} ms per site, max "
          f"{max(ms)} ms; pages planned per site: median "
          f"{statistics.median([d[1] for d in disc]):.0f}.")
else:
    print("Page discovery: no stored plan in the fleet runs.")
big = sorted((k, r) for k, r in rows.items() if k[0].startswith("crawl500"))
if big:
    print()
    print("Discovery over a 500-URL gzipped sitemap (bench/crawl500.py: 500 pages of five "
          "templates; the plan's `elapsed_ms`, browser start excluded; target: under 2 s per "
          "site):\n")
    print("| setting | discovery (ms) | pages planned | met |")
    print("|---|---:|---:|---|")
    for (kind, _), r in big:
        for ms, pages in r["discovery"]:
            label = "sitemaps only (max_depth 0)" if kind.endswith("0") else "default link depth (max_depth 2)"
            print(f"| {label} | {ms} | {pages} | {'yes' if ms < 2000 else 'no'} |")
