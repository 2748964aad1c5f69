#!/bin/sh
# Lay out an installed consentry under PREFIX (docs/packaging.md): the binary, its data
# (the input files' JSON Schemas, schemas/; autoconsent's bundle, rules, package.json and licence, as published on npm at the
# version fixtures/package-lock.json pins; the vendor and cookie knowledge bases, made by
# `make fixtures` from their pinned npm packages, docs/knowledge.md) and the licence
# texts: consentry's (LICENSE), autoconsent's, the knowledge bases', and those of every Rust crate compiled into the binary
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
kb=$root/fixtures/build/knowledge
command -v node >/dev/null || { echo "install: node is required to collect the crates' licences (run \`make fixtures\`)" >&2; exit 1; }
for f in "$bin" "$root/LICENSE" "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$ac/LICENSE" \
  "$kb/third-party-web.json" "$kb/third-party-web.LICENSE" "$kb/open-cookie-database.json" "$kb/open-cookie-database.LICENSE"; do
  [ -f "$f" ] || { echo "install: $f is missing (run \`make fixtures\` and build consentry first)" >&2; exit 1; }
done
data=$prefix/share/consentry
mkdir -p "$prefix/bin" "$data/autoconsent"
install -m 0755 "$bin" "$prefix/bin/consentry"
install -m 0644 "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$data/autoconsent/"
install -m 0644 "$ac/LICENSE" "$data/autoconsent/LICENSE"
mkdir -p "$data/knowledge"
install -m 0644 "$kb/third-party-web.json" "$kb/third-party-web.LICENSE" \
  "$kb/open-cookie-database.json" "$kb/open-cookie-database.LICENSE" "$data/knowledge/"
# The JSON Schemas of the input files, for editors (docs/editors.md).
mkdir -p "$data/schemas"
install -m 0644 "$root"/schemas/*.schema.json "$data/schemas/"
# The licences of everything installed, in one place.
mkdir -p "$data/licenses"
install -m 0644 "$root/LICENSE" "$data/licenses/consentry.LICENSE"
install -m 0644 "$ac/LICENSE" "$data/licenses/autoconsent.LICENSE"
install -m 0644 "$kb/third-party-web.LICENSE" "$data/licenses/third-party-web.LICENSE"
install -m 0644 "$kb/open-cookie-database.LICENSE" "$data/licenses/open-cookie-database.LICENSE"
node "$root/scripts/crate-licenses.mjs" "$data/licenses/crates" >/dev/null
crates=$(grep -vc '^#' "$data/licenses/crates/INDEX")
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$ac/package.json" | head -n 1)
tpw=$(sed -n 's/.*"source":"third-party-web","version":"\([^"]*\)".*/\1/p' "$kb/third-party-web.json" | head -n 1)
ocd=$(sed -n 's/.*"source":"open-cookie-database","version":"\([^"]*\)".*/\1/p' "$kb/open-cookie-database.json" | head -n 1)
cat > "$data/licenses/README" <<TXT
consentry is licensed under the Apache License 2.0: consentry.LICENSE.

bin/consentry is compiled from consentry and $crates Rust crates, listed in crates/INDEX
(name, version, SPDX licence expression, licence files), each crate's licence files as
published in its package in crates/<name>-<version>/.

Data sets, shipped unmodified:
  autoconsent/  @duckduckgo/autoconsent $version (npm), MPL-2.0: autoconsent.LICENSE

Data sets, shipped in a compact form (the same entries, fewer fields; docs/knowledge.md):
  knowledge/third-party-web.json       third-party-web $tpw (npm), MIT: third-party-web.LICENSE
  knowledge/open-cookie-database.json  the Open Cookie Database, Apache-2.0, from the copy in
                                       @slashgear/gdpr-cookie-scanner $ocd (npm, MIT):
                                       open-cookie-database.LICENSE
TXT
echo "install: $prefix/bin/consentry, $data (autoconsent $version, licences of $crates crates)"
