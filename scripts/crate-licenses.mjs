#!/usr/bin/env node
// The licence texts of every Rust crate compiled into the consentry binary
// (docs/packaging.md, "Licences"), for scripts/install.sh: no extra tool, only cargo's own
// `cargo tree` and `cargo metadata` (run with $CARGO, else `cargo`; Node.js is there for
// `make fixtures` already).
//
//   node scripts/crate-licenses.mjs DEST
//
// The crates are those of the resolved dependency graph of a default build
// (`cargo build --release --bin consentry`: default features, this host's platform),
// followed along normal dependencies only: dev-dependencies (tests) and build-only
// dependencies (build scripts) are not in the binary. Procedural macros are kept, with
// their own dependencies: the code they generate is compiled into the binary.
//
// For each crate, its LICENSE*, LICENCE*, COPYING*, COPYRIGHT*, NOTICE* and UNLICENSE
// files (and the `license-file` its manifest names) are copied from its source directory
// (the cargo registry's) into DEST/<name>-<version>/, and DEST/INDEX lists each crate:
// name, version, SPDX licence expression, the files copied (or "no licence file in the
// package"), tab-separated. Exit 1 when cargo fails or a file cannot be copied.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [dest] = process.argv.slice(2);
if (!dest || process.argv.length !== 3) {
  console.error('usage: crate-licenses.mjs DEST');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cargo = process.env.CARGO || 'cargo';
const rustc = process.env.RUSTC || 'rustc';

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    console.error(`crate-licenses: \`${cmd} ${args.join(' ')}\` failed: ${e.message}`);
    process.exit(1);
  }
}

const host = /^host: (.+)$/m.exec(run(rustc, ['-vV']))?.[1];
if (!host) {
  console.error(`crate-licenses: \`${rustc} -vV\` names no host`);
  process.exit(1);
}
const meta = JSON.parse(run(cargo, [
  'metadata', '--format-version', '1', '--locked',
  '--filter-platform', host,
  '--manifest-path', path.join(root, 'Cargo.toml'),
]));

// The graph: `cargo tree` resolves features as a build does (resolver 2: a dependency's
// features for build scripts and proc macros kept apart), which `cargo metadata`'s resolve
// does not, so the crates are named by `cargo tree` and found in `cargo metadata`.
const tree = run(cargo, [
  'tree', '--locked', '--edges', 'normal', '--target', host, '--prefix', 'none', '--format', '{p}',
  '--package', 'consentry', '--manifest-path', path.join(root, 'Cargo.toml'),
]);
const byKey = new Map(meta.packages.map((p) => [`${p.name} ${p.version}`, p]));
const seen = new Map();
for (const line of tree.split('\n')) {
  const [name, v] = line.trim().split(' ');
  if (!name || !v?.startsWith('v') || name === 'consentry') continue;
  const key = `${name} ${v.slice(1)}`;
  const p = byKey.get(key);
  if (!p) {
    console.error(`crate-licenses: \`cargo tree\` names ${key}, which \`cargo metadata\` does not list`);
    process.exit(1);
  }
  seen.set(key, p);
}

const LICENCE_FILE = /^(licen[cs]e|copying|copyright|notice|unlicense)([-._].*)?$/i;
const crates = [...seen.values()]
  .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }));

fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
const lines = [
  '# The Rust crates compiled into bin/consentry (normal dependencies of a default build),',
  '# one per line, tab-separated: name, version, SPDX licence expression, the licence files',
  '# of its package copied into <name>-<version>/ (or "no licence file in the package").',
];
for (const p of crates) {
  const dir = path.dirname(p.manifest_path);
  const files = new Set(
    fs.readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && LICENCE_FILE.test(e.name))
      .map((e) => e.name),
  );
  if (p.license_file) files.add(p.license_file);
  const copied = [];
  for (const f of [...files].sort()) {
    const from = path.join(dir, f);
    if (!fs.existsSync(from)) continue;
    const to = path.join(dest, `${p.name}-${p.version}`, path.basename(f));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    copied.push(`${p.name}-${p.version}/${path.basename(f)}`);
  }
  const expr = p.license ?? (p.license_file ? 'see its licence file' : 'none declared');
  lines.push([p.name, p.version, expr, copied.length ? copied.join(' ') : 'no licence file in the package'].join('\t'));
}
fs.writeFileSync(path.join(dest, 'INDEX'), `${lines.join('\n')}\n`);
console.log(`crate-licenses: ${crates.length} crates in ${dest}`);
