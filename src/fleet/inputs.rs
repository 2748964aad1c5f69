//! What `consentry audit` was given, as one [`FleetSpec`]: a scenario file, several, a
//! folder of them, or one fleet file (docs/fleet.md).

use super::{load::is_fleet_source, load::load_fleet, FleetSite, FleetSpec, SiteLimits};
use crate::ack::Acks;
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::toml_check::Env;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Read and validate everything `paths` name, every problem at once. `Ok` with the
/// warnings only when there is no error. `acks`: an acknowledgements file for every
/// site (`--acks`); without it each site reads `acks.toml` beside its scenario file
/// (beside the fleet file for a site written inline).
pub fn load_inputs(
    paths: &[PathBuf],
    acks: Option<&Path>,
    env: Env<'_>,
) -> Result<(FleetSpec, Diagnostics), Diagnostics> {
    let files = expand(paths)?;
    let fleets: Vec<&PathBuf> = files.iter().filter(|f| is_fleet(f)).collect();
    let (mut fleet, mut diags, mut failed) = match (fleets.as_slice(), files.len()) {
        ([fleet], 1) => match load_fleet(fleet, env) {
            Ok((spec, warnings)) => (spec, warnings, Diagnostics::default()),
            Err(diags) => (empty_fleet(), Diagnostics::default(), diags),
        },
        ([], _) => scenario_files(&files, env),
        (_, _) => {
            let d = file_error(
                fleets[0],
                "a fleet file must be the only input: it lists its sites itself",
                "add the other sites to the fleet file's [[site]] list, or audit them separately",
            );
            return Err(Diagnostics(vec![d]));
        }
    };
    let mut cache: HashMap<PathBuf, Result<Acks, Diagnostics>> = HashMap::new();
    for site in &mut fleet.sites {
        let beside = if site.scenario_file.contains('#') {
            fleet.path.clone().unwrap_or_else(|| site.spec.path.clone())
        } else {
            site.spec.path.clone()
        };
        let key = acks
            .map(Path::to_path_buf)
            .unwrap_or_else(|| beside.clone());
        let loaded = cache
            .entry(key)
            .or_insert_with(|| crate::ack::load::load_for(&beside, acks));
        match loaded {
            Ok(a) => site.acks = a.clone(),
            Err(d) => {
                if !failed.0.iter().any(|x| d.0.contains(x)) {
                    failed.0.extend(d.0.iter().cloned());
                }
            }
        }
    }
    if failed.has_errors() {
        failed
            .0
            .extend(diags.0.into_iter().filter(|d| d.level == Level::Warning));
        return Err(failed);
    }
    diags.0.extend(failed.0);
    Ok((fleet, diags))
}

fn empty_fleet() -> FleetSpec {
    FleetSpec {
        path: None,
        name: String::new(),
        database: None,
        reports: None,
        limits: SiteLimits::default(),
        sites: Vec::new(),
    }
}

fn is_fleet(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|src| is_fleet_source(&src))
}

/// Several scenario files: each read on its own, the fleet named `fleet`.
fn scenario_files(files: &[PathBuf], env: Env<'_>) -> (FleetSpec, Diagnostics, Diagnostics) {
    let mut fleet = empty_fleet();
    fleet.name = "fleet".into();
    let (mut warnings, mut errors) = (Diagnostics::default(), Diagnostics::default());
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        match crate::scenario::load::load_audit_file_with_warnings(file, env) {
            Ok((spec, w)) => {
                warnings.0.extend(w.0);
                if let Some(first) = names.insert(spec.site.name.clone(), file.clone()) {
                    errors.0.push(file_error(
                        file,
                        &format!(
                            "site name `{}` is also the name of {}",
                            spec.site.name,
                            first.display()
                        ),
                        "each site needs its own name, or its runs would share one history",
                    ));
                }
                fleet.sites.push(FleetSite {
                    scenario_file: file.display().to_string(),
                    spec,
                    acks: Acks::default(),
                });
            }
            Err(d) => errors.0.extend(d.0),
        }
    }
    (fleet, warnings, errors)
}

/// The files `paths` name: a folder stands for the scenario files directly inside it
/// (every `*.toml` with a `[site]` table, by name; policy and acknowledgement files are
/// skipped, and a file that does not parse is kept, so its errors show).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let listed = std::fs::read_dir(path).map(|entries| {
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .filter(|p| is_scenario_file(p))
                .collect();
            files.sort();
            files
        });
        match listed {
            Ok(files) if files.is_empty() => errors.push(file_error(
                path,
                "no scenario files in this folder",
                "a scenario file is a *.toml with a [site] table (docs/scenarios.md)",
            )),
            Ok(files) => out.extend(files),
            Err(e) => errors.push(file_error(path, &format!("cannot read folder: {e}"), "")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errors))
    }
}

fn is_scenario_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".policy.toml") || name == "acks.toml" {
        return false;
    }
    match std::fs::read_to_string(path) {
        Ok(src) => match toml::de::DeTable::parse(&src) {
            Ok(doc) => doc.get_ref().contains_key("site") && !doc.get_ref().contains_key("fleet"),
            Err(_) => true,
        },
        Err(_) => true,
    }
}

fn file_error(path: &Path, message: &str, hint: &str) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: path.to_path_buf(),
        line: 1,
        col: 1,
        message: message.to_string(),
        hint: (!hint.is_empty()).then(|| hint.to_string()),
    }
}
