#!/usr/bin/env python3
"""Run a command and measure it: wall time, CPU-seconds of the whole process tree
(the command, chromedriver, every Chromium process), and the command's own peak RSS.

usage: bench/measure.py OUT.json -- COMMAND...

CPU is sampled from /proc every 50 ms for the command and every descendant (own utime +
stime, the last value seen per process): a process living less than one sample, and the
last <50 ms of each process, are missed (an underestimate, a few %).
"""
import json
import os
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
tick = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        ppid = int(rest[1])
        cpu = (int(rest[11]) + int(rest[12])) / tick
        kids.setdefault(ppid, []).append((int(d), cpu))
    return kids


start = time.monotonic()
p = subprocess.Popen(cmd, stdout=open(out + ".out", "w"), stderr=open(out + ".err", "w"))
cpu_seen = {}
peak_kib = 0
while True:
    kids = children_map()
    for pp, lst in kids.items():
        for pid, cpu in lst:
            if pid == p.pid:
                cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), cpu)
    stack = [p.pid]
    while stack:
        pid = stack.pop()
        for child, cpu in kids.get(pid, []):
            cpu_seen[child] = max(cpu_seen.get(child, 0.0), cpu)
            stack.append(child)
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
    except OSError:
        pass
    if p.poll() is not None:
        break
    time.sleep(0.05)
wall = time.monotonic() - start
json.dump({"cmd": cmd, "rc": p.returncode, "wall_s": wall, "cpu_s": sum(cpu_seen.values()),
           "processes": len(cpu_seen), "peak_rss_mib": peak_kib / 1024}, open(out, "w"))
