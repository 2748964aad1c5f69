//! Where installed data is looked for (docs/packaging.md), in order: `subdir` of the data
//! directory (`make install` and the release tarball put it there), then, for a
//! development checkout, `checkout_dir` (what `make fixtures` builds) in the scenario
//! file's directory and each of its parents, then in the current directory. autoconsent's
//! bundle and the vendor knowledge bases are found this way.

use std::path::{Path, PathBuf};

/// The directories to try, in order, without duplicates of the current directory's.
pub fn data_candidates(
    data_dir: Option<&Path>,
    subdir: &str,
    checkout_dir: &str,
    scenario_file: &Path,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = data_dir {
        out.push(d.join(subdir));
    }
    let abs = std::path::absolute(scenario_file).unwrap_or_else(|_| scenario_file.to_path_buf());
    for dir in abs.ancestors().skip(1) {
        out.push(dir.join(checkout_dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        let d = cwd.join(checkout_dir);
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}
