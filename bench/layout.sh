#!/usr/bin/env bash
# Benchmark: the history layout of schema 16 (issue 26) against the one before, on the
# same synthetic year (no browser):
#   1. the consentry of OLD_REV (default 5609efc, schema 15) generates the year with its own
#      examples/synth_history and writes the drift packs (`drift --all` over the last 90
#      days, and site-07's whole year, JSON and Markdown);
#   2. this consentry migrates a copy of that database (`consentry migrate`, timed) and
#      writes the same packs, which must be byte for byte the same;
#   3. bytes per table before and after (SQLite's dbstat, pages in use; then the file after
#      VACUUM), per site-night.
# Results in bench/RESULTS-layout.md (LAYOUT_RESULTS moves them).
#
#   bench/layout.sh path/to/new/consentry [OLD_REV]
#
# LAYOUT_OLD_BIN=DIR takes the old `consentry` and `synth_history` from DIR instead of
# building OLD_REV (in a temporary git worktree, target dir target/layout-old).
# LAYOUT_SITES (default 50), LAYOUT_DAYS (365), LAYOUT_SEED (1).
set -euo pipefail
NEW=${1:?usage: bench/layout.sh path/to/new/consentry [OLD_REV]}
OLD_REV=${2:-5609efc}
SITES=${LAYOUT_SITES:-50}
DAYS=${LAYOUT_DAYS:-365}
SEED=${LAYOUT_SEED:-1}
END=2026-12-01
SINCE=2026-09-02
FIRST=$(date -u -d "$END - $DAYS days" +%F)
cd "$(dirname "$0")/.."
NEW=$(realpath "$NEW")
work=$(mktemp -d)
worktree=
cleanup() {
  if [ -n "$worktree" ]; then git worktree remove --force "$worktree" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b - a}'; }

if [ -n "${LAYOUT_OLD_BIN:-}" ]; then
  old_bin=$LAYOUT_OLD_BIN
else
  worktree="$work/old-src"
  git worktree add --detach "$worktree" "$OLD_REV" > /dev/null
  echo "building consentry $OLD_REV (schema before 16)"
  (cd "$worktree" && cargo build --locked --release --bin consentry --example synth_history \
    --target-dir "$PWD/target/layout-old" > /dev/null)
  old_bin="$PWD/target/layout-old/release"
  old_bin=$(realpath "$old_bin")
  [ -x "$old_bin/examples/synth_history" ] && cp "$old_bin/examples/synth_history" "$old_bin/synth_history"
fi

old_db="$work/old.db"
echo "old consentry: generating $SITES sites x $DAYS nights"
t=$(now)
"$old_bin/synth_history" --db "$old_db" --sites "$SITES" --days "$DAYS" --seed "$SEED" --end "$END" > /dev/null
gen_secs=$(elapsed "$t" "$(now)")
python3 bench/db_bytes.py "$old_db" > "$work/before"
stat -c %s "$old_db" > "$work/before_size"

packs() { # BIN DB PREFIX
  "$1" drift --db "$2" --all --since "$SINCE" --until "$END" --format json --output - > "$work/$3-all.json"
  "$1" drift --db "$2" --site site-07 --since "$FIRST" --until "$END" --format json --output - > "$work/$3-year.json"
  "$1" drift --db "$2" --site site-07 --since "$FIRST" --until "$END" --format markdown --output "$work/$3-year.md" > /dev/null
}
echo "old consentry: packs"
packs "$old_bin/consentry" "$old_db" old

new_db="$work/new.db"
cp "$old_db" "$new_db"
echo "new consentry: migrate"
t=$(now)
"$NEW" migrate --db "$new_db" > /dev/null
mig_secs=$(elapsed "$t" "$(now)")
python3 bench/db_bytes.py "$new_db" > "$work/after"
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("VACUUM")' "$new_db"
stat -c %s "$new_db" > "$work/after_size"
echo "new consentry: packs"
packs "$NEW" "$new_db" new
: > "$work/same"
for f in all.json year.json year.md; do
  if cmp -s "$work/old-$f" "$work/new-$f"; then r=identical; else r=DIFFERENT; fi
  echo "$f $r $(stat -c %s "$work/old-$f")" >> "$work/same"
done

python3 - "$work" "$SITES" "$DAYS" "$SEED" "$OLD_REV" "$gen_secs" "$mig_secs" "$SINCE" "$END" \
  > "${LAYOUT_RESULTS:-bench/RESULTS-layout.md}" <<'PY'
import datetime, sys, subprocess, platform
work, sites, days, seed, rev, gen, mig, since, end = sys.argv[1:]
nights = int(sites) * int(days)
def load(name):
    out = {}
    for line in open(f"{work}/{name}"):
        t, rows, b = line.strip().split("|")
        out[t] = (int(rows), int(b))
    return out
before, after = load("before"), load("after")
size = lambda n: int(open(f"{work}/{n}").read())
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print("# History layout: schema 16 against schema 15, on the same year\n")
print(f"Measured {datetime.date.today()} by `bench/layout.sh` (release builds, {cpu} cores, {platform.machine()}, "
      "one shared, noisy machine; no browser). The consentry of "
      f"`{rev}` (schema 15) generated a synthetic year with its own `synth_history --sites {sites} --days {days} "
      f"--seed {seed}` ({float(gen):.0f} s) and wrote its drift packs; this consentry migrated a copy "
      f"(`consentry migrate`: **{float(mig):.0f} s**) and wrote the same packs from it.\n")
print("## The packs\n")
print("| pack | bytes | schema 15 (old consentry) against schema 16 after migration (this consentry) |\n|---|---:|---|")
names = {"all.json": f"`drift --all`, {since} to {end}, JSON", "year.json": "site-07's whole year, JSON",
         "year.md": "site-07's whole year, Markdown"}
for line in open(f"{work}/same"):
    f, r, n = line.split()
    print(f"| {names[f]} | {int(n):,} | {r} |")
print("\n## Bytes per site-night, by table\n")
print(f"A table's bytes include its indexes (pages in use, SQLite's `dbstat`); per site-night: divided by "
      f"{nights:,} ({sites} sites x {days} nights, four visits each). The history is as after a purge of "
      "raw records older than 14 days (synth_history's default): requests and steps of the other nights are "
      "absent before, and stay absent after.\n")
print("| table | rows before | bytes before | rows after | bytes after |\n|---|---:|---:|---:|---:|")
for t in sorted(set(before) | set(after)):
    rb, bb = before.get(t, (0, 0))
    ra, ba = after.get(t, (0, 0))
    if rb == 0 and ra == 0:
        continue
    cell = lambda rows, b, present: (f"{rows:,}", f"{b / nights:,.0f}") if present else ("—", "—")
    r1, b1 = cell(rb, bb, t in before)
    r2, b2 = cell(ra, ba, t in after)
    print(f"| `{t}` | {r1} | {b1} | {r2} | {b2} |")
tb = sum(b for _, b in before.values())
ta = sum(b for _, b in after.values())
print(f"| **all** | | **{tb / nights:,.0f}** | | **{ta / nights:,.0f}** |")
print(f"\nThe file: {size('before_size') / 2**20:.0f} MiB before; after the migration and `VACUUM` "
      f"{size('after_size') / 2**20:.0f} MiB ({size('after_size') / nights / 1024:.1f} KB per site-night; "
      "a migration frees pages for reuse, `VACUUM` returns them to the file system).")
PY
cat "${LAYOUT_RESULTS:-bench/RESULTS-layout.md}"
