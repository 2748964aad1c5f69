#!/bin/sh
# Lay out an installed consentry under PREFIX (docs/packaging.md): the binary, its data
# (autoconsent's bundle, rules, package.json and licence, as published on npm at the
# version fixtures/package-lock.json pins) and the licence texts: consentry's (LICENSE),
# autoconsent's, and those of every Rust crate compiled into the binary
# (scripts/crate-licenses.mjs). Used by `make install` (PREFIX = $(DESTDIR)$(PREFIX)),
# scripts/dist.sh (`make dist`: PREFIX = the tarball's staging directory) and, through
# dist.sh, tests/packaging.rs, so the three are one layout.
#
#   scripts/install.sh BINARY PREFIX
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BINARY PREFIX" >&2; exit 2; }
bin=$1
prefix=$2
root=$(cd "$(dirname "$0")/.." && pwd)
ac=$root/fixtures/node_modules/@duckduckgo/autoconsent
command -v node >/dev/null || { echo "install: node is required to collect the crates' licences (run \`make fixtures\`)" >&2; exit 1; }
for f in "$bin" "$root/LICENSE" "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$ac/LICENSE"; do
  [ -f "$f" ] || { echo "install: $f is missing (run \`make fixtures\` and build consentry first)" >&2; exit 1; }
done
data=$prefix/share/consentry
mkdir -p "$prefix/bin" "$data/autoconsent"
install -m 0755 "$bin" "$prefix/bin/consentry"
install -m 0644 "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$data/autoconsent/"
install -m 0644 "$ac/LICENSE" "$data/autoconsent/LICENSE"
# The licences of everything installed, in one place.
mkdir -p "$data/licenses"
install -m 0644 "$root/LICENSE" "$data/licenses/consentry.LICENSE"
install -m 0644 "$ac/LICENSE" "$data/licenses/autoconsent.LICENSE"
node "$root/scripts/crate-licenses.mjs" "$data/licenses/crates" >/dev/null
crates=$(grep -vc '^#' "$data/licenses/crates/INDEX")
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$ac/package.json" | head -n 1)
cat > "$data/licenses/README" <<TXT
consentry is licensed under the Apache License 2.0: consentry.LICENSE.

bin/consentry is compiled from consentry and $crates Rust crates, listed in crates/INDEX
(name, version, SPDX licence expression, licence files), each crate's licence files as
published in its package in crates/<name>-<version>/.

Data sets, shipped unmodified:
  autoconsent/  @duckduckgo/autoconsent $version (npm), MPL-2.0: autoconsent.LICENSE
TXT
echo "install: $prefix/bin/consentry, $data (autoconsent $version, licences of $crates crates)"
