#!/bin/sh
# Lay out an installed consentry under PREFIX (docs/packaging.md): the binary, its data
# (autoconsent's bundle, rules, package.json and licence, as published on npm at the
# version fixtures/package-lock.json pins) and the licence texts. Used by `make install`
# (PREFIX = $(DESTDIR)$(PREFIX)), `make dist` (PREFIX = the tarball's staging directory)
# and tests/packaging.rs (a temporary PREFIX), so the three are one layout.
#
#   scripts/install.sh BINARY PREFIX
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BINARY PREFIX" >&2; exit 2; }
bin=$1
prefix=$2
root=$(cd "$(dirname "$0")/.." && pwd)
ac=$root/fixtures/node_modules/@duckduckgo/autoconsent
for f in "$bin" "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$ac/LICENSE"; do
  [ -f "$f" ] || { echo "install: $f is missing (run \`make fixtures\` and build consentry first)" >&2; exit 1; }
done
data=$prefix/share/consentry
mkdir -p "$prefix/bin" "$data/autoconsent"
install -m 0755 "$bin" "$prefix/bin/consentry"
install -m 0644 "$ac/dist/autoconsent.playwright.js" "$ac/rules/rules.json" "$ac/package.json" "$data/autoconsent/"
install -m 0644 "$ac/LICENSE" "$data/autoconsent/LICENSE"
# The licences of what the data directory holds, in one place.
mkdir -p "$data/licenses"
install -m 0644 "$ac/LICENSE" "$data/licenses/autoconsent.LICENSE"
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$ac/package.json" | head -n 1)
cat > "$data/licenses/README" <<TXT
consentry (Apache-2.0, see Cargo.toml) uses these data sets, shipped unmodified:
  autoconsent/  @duckduckgo/autoconsent $version (npm), MPL-2.0: autoconsent.LICENSE
TXT
echo "install: $prefix/bin/consentry, $data (autoconsent $version)"
