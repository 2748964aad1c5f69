//! What `consentry audit` was given, as one [`FleetSpec`]: a scenario file, several, a
//! folder of them, or one fleet file (docs/fleet.md).

use super::{
    load::is_fleet_source, load::load_fleet, FleetSite, FleetSpec, InvalidSite, SiteLimits,
};
use crate::ack::Acks;
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::toml_check::Env;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Read and validate everything `paths` name, every problem at once. `Err` when nothing
/// can be audited (a fleet file that is itself wrong, no valid site, a folder with no
/// scenario file); otherwise the valid sites, those whose files are invalid in
/// [`FleetSpec::invalid`] (never holding the others up), and every diagnostic. `acks`: an
/// acknowledgements file for every site (`--acks`); without it each site reads
/// `acks.toml` beside its scenario file (beside the fleet file for a site written
/// inline).
pub fn load_inputs(
    paths: &[PathBuf],
    acks: Option<&Path>,
    env: Env<'_>,
) -> Result<(FleetSpec, Diagnostics), Diagnostics> {
    let files = expand(paths)?;
    let fleets: Vec<&PathBuf> = files.iter().filter(|f| is_fleet(f)).collect();
    let (mut fleet, mut diags) = match (fleets.as_slice(), files.len()) {
        ([fleet], 1) => load_fleet(fleet, env)?,
        ([], _) => scenario_files(&files, env)?,
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
    let mut kept = Vec::with_capacity(fleet.sites.len());
    for mut site in std::mem::take(&mut fleet.sites) {
        let beside = if site.scenario_file.contains('#') {
            fleet.path.clone().unwrap_or_else(|| site.spec.path.clone())
        } else {
            site.spec.path.clone()
        };
        let key = acks
            .map(Path::to_path_buf)
            .unwrap_or_else(|| beside.clone());
        let first = !cache.contains_key(&key);
        let loaded = cache
            .entry(key)
            .or_insert_with(|| crate::ack::load::load_for(&beside, acks));
        match loaded {
            Ok(a) => {
                site.acks = a.clone();
                kept.push(site);
            }
            Err(d) => {
                if first {
                    diags.0.extend(d.0.iter().cloned());
                }
                fleet.invalid.push(InvalidSite {
                    label: site.spec.site.name.clone(),
                    scenario_file: site.scenario_file.clone(),
                    errors: d.errors().max(1),
                });
            }
        }
    }
    fleet.sites = kept;
    if fleet.sites.is_empty() {
        return Err(diags);
    }
    Ok((fleet, diags))
}

fn empty_fleet() -> FleetSpec {
    FleetSpec {
        path: None,
        name: String::new(),
        database: None,
        reports: None,
        limits: SiteLimits::default(),
        notify: Vec::new(),
        sites: Vec::new(),
        invalid: Vec::new(),
    }
}

fn is_fleet(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|src| is_fleet_source(&src))
}

/// Several scenario files: each read on its own, the fleet named `fleet`. Two files of
/// one site name would share a history: that stops the run.
fn scenario_files(
    files: &[PathBuf],
    env: Env<'_>,
) -> Result<(FleetSpec, Diagnostics), Diagnostics> {
    let mut fleet = empty_fleet();
    fleet.name = "fleet".into();
    let mut diags = Diagnostics::default();
    let mut clash = Vec::new();
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        match crate::scenario::load::load_audit_file_with_warnings(file, env) {
            Ok((spec, w)) => {
                diags.0.extend(w.0);
                if let Some(first) = names.insert(spec.site.name.clone(), file.clone()) {
                    clash.push(file_error(
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
            Err(d) => {
                fleet.invalid.push(InvalidSite {
                    label: file.display().to_string(),
                    scenario_file: file.display().to_string(),
                    errors: d.errors().max(1),
                });
                diags.0.extend(d.0);
            }
        }
    }
    if !clash.is_empty() || fleet.sites.is_empty() {
        diags.0.extend(clash);
        return Err(diags);
    }
    Ok((fleet, diags))
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
