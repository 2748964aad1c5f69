#!/bin/sh
# The release tarball (docs/packaging.md): BINARY laid out by scripts/install.sh in a
# staging folder consentry-<version>-<target>/ under OUTDIR, packed as
# OUTDIR/consentry-<version>-<target>.tar.gz (that one folder at its top; unpacked
# anywhere, bin/consentry finds its data in ../share/consentry). Prints the tarball's path.
# Used by `make dist` (the release binary, OUTDIR = dist) and tests/packaging.rs (the
# test's own binary), so the tarball tested is the one shipped.
#
#   scripts/dist.sh BINARY OUTDIR
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BINARY OUTDIR" >&2; exit 2; }
bin=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
target=$(${RUSTC:-rustc} -vV | sed -n 's/^host: //p')
[ -n "$version" ] && [ -n "$target" ] || { echo "dist: no version in Cargo.toml or no host from rustc -vV" >&2; exit 1; }
name=consentry-$version-$target
mkdir -p "$out"
rm -rf "${out:?}/$name" "$out/$name.tar.gz"
"$root/scripts/install.sh" "$bin" "$out/$name" >&2
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
rm -rf "${out:?}/$name"
echo "$out/$name.tar.gz"
