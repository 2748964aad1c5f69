#!/usr/bin/env python3
"""Rows and bytes per table of a SQLite database, a table's indexes included (pages in
use, from SQLite's `dbstat`): `table|rows|bytes` lines, by table name. Used by
bench/drift.sh and bench/layout.sh."""
import sqlite3
import sys

con = sqlite3.connect(sys.argv[1])
owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
kinds = dict(con.execute("SELECT name, type FROM sqlite_master"))
total = {}
for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
    t = owner.get(name, name)
    total[t] = total.get(t, 0) + size
for t in sorted(total):
    if kinds.get(t) != "table" or t.startswith("sqlite_"):
        continue
    rows = con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
    print(f"{t}|{rows}|{total[t]}")
