//! `consentry validate`: every file kind the program reads (fleet files, scenario files,
//! declared maps, acknowledgements files, CMP profiles), told apart by their top-level keys and each
//! checked by its own loader, with all diagnostics of all files at once. It sits above the
//! loaders it calls (scenario, policy, ack), so none of them needs to know the others.

use crate::diag::{Diagnostic, Diagnostics};
use crate::policy::load::parse_policy;
use crate::scenario::load::profile;
use crate::scenario::load::{check_source, merge_policy_diagnostics, TOP_KEYS};
use crate::toml_check::{read_source, Checker};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// `consentry validate FILE...`: each file is a scenario file (has a `[site]` table) or
/// a declared map (has `[[purpose]]`/`[[vendor]]`/`[[cookie]]`); a scenario file also
/// validates the declared map it references (each declared map is checked once).
/// Returns all diagnostics from all files.
pub fn validate_files(paths: &[PathBuf]) -> Diagnostics {
    validate_files_with_acks(paths, None)
}

/// [`validate_files`], with acknowledgements: a file with `[[ack]]` entries is an
/// acknowledgements file; each scenario file's `acks.toml` beside it is checked when it
/// exists, or `acks` (which must exist) instead. Each file is checked once.
pub fn validate_files_with_acks(paths: &[PathBuf], acks: Option<&Path>) -> Diagnostics {
    let env = |name: &str| std::env::var(name).ok();
    let mut out = Vec::new();
    let mut policies_done = HashSet::new();
    let mut first_time = |p: &Path| {
        policies_done.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
    };
    if let Some(acks) = acks {
        if first_time(acks) {
            out.extend(load_acks_diagnostics(acks, true));
        }
    }
    for path in paths {
        let src = match read_source(path) {
            Ok(src) => src,
            Err(d) => {
                out.push(d);
                continue;
            }
        };
        match classify(&src) {
            Kind::Fleet => {
                // Every site of the fleet, its files and the fleet's defaults grafted in.
                match crate::fleet::load::load_fleet(path, &env) {
                    Ok((_, diags)) | Err(diags) => out.extend(diags.0),
                }
            }
            Kind::Scenario => {
                let (file, policy_ref, mut diags) = check_source(path, &src, &env);
                if let Some(r) = &policy_ref {
                    // Its own diagnostics once; the map itself, to check the grants.
                    let (policy, d) = r.load();
                    if first_time(&r.path) {
                        merge_policy_diagnostics(&mut diags, path, d);
                    }
                    if let (Some(mut file), Some(policy)) = (file, policy) {
                        diags.0.extend(file.resolve_grants(&policy));
                    }
                }
                out.extend(diags.0);
                let beside = crate::ack::load::default_path(path);
                if acks.is_none() && first_time(&beside) {
                    out.extend(load_acks_diagnostics(&beside, false));
                }
            }
            Kind::Acks => {
                if first_time(path) {
                    out.extend(crate::ack::load::parse_acks(path, &src).1 .0);
                }
            }
            Kind::Policy => {
                if first_time(path) {
                    out.extend(parse_policy(path, &src).1 .0);
                }
            }
            Kind::Profile => {
                if first_time(path) {
                    out.extend(profile::parse_profile(path, &src, false).1);
                }
            }
            Kind::Unknown => {
                let mut ck = Checker::new(path, &src, None);
                if ck.parse().is_some() {
                    ck.error(
                        &(0..0),
                        format!("{} is neither a scenario file nor a declared map", path.display()),
                        "a fleet file has a [fleet] table; a scenario file has a [site] table; a declared map has [[purpose]], [[vendor]] and [[cookie]] entries; an acknowledgements file has [[ack]] entries; a CMP profile has [profile]",
                    );
                }
                out.extend(ck.into_diagnostics().0);
            }
        }
    }
    Diagnostics(out)
}

/// The diagnostics of an acknowledgements file; a missing one is an error only when
/// `required`.
fn load_acks_diagnostics(path: &Path, required: bool) -> Vec<Diagnostic> {
    if !required && std::fs::symlink_metadata(path).is_err() {
        return Vec::new();
    }
    match crate::ack::load::load_acks(path) {
        Ok(_) => Vec::new(),
        Err(d) => d.0,
    }
}

enum Kind {
    /// A fleet file (`[fleet]`, docs/fleet.md).
    Fleet,
    Scenario,
    Policy,
    Acks,
    /// A CMP profile (`[profile]`, docs/scenarios.md#cmp-profiles).
    Profile,
    Unknown,
}

/// Tell a scenario file from a policy by its top-level keys. A file with no keys
/// at all is taken as an empty policy, so it gets the same error as an empty policy
/// referenced by a scenario file.
fn classify(src: &str) -> Kind {
    let (doc, _) = DeTable::parse_recoverable(src);
    let has = |keys: &[&str]| keys.iter().any(|k| doc.get_ref().contains_key(*k));
    if has(&["fleet"]) {
        Kind::Fleet
    } else if has(TOP_KEYS) {
        Kind::Scenario
    } else if has(&["ack"]) {
        Kind::Acks
    } else if has(&["profile"]) {
        Kind::Profile
    } else if has(crate::policy::load::TOP_KEYS) || doc.get_ref().is_empty() {
        Kind::Policy
    } else {
        Kind::Unknown
    }
}
