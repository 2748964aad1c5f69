//! The agency fixture (docs/fixtures.md, "agency"): a seeded generator of an agency's
//! client sites, served by the file server like every fixture site.
//!
//! `generate(seed, sites, out)` writes, from the seed alone (the same seed gives the same
//! bytes):
//! - `out/sites/<host>/...`: each client's pages (home, categories, products, a journal,
//!   about, contact, checkout, link-only promotions, a robots-disallowed page), its CMP
//!   (Klaro, vanilla-cookieconsent, consentry's TCF CMP, or a hand-written banner),
//!   robots.txt and sitemaps (plain, an index, a gzipped child); the vendor hosts every
//!   client shares; three broken clients (one hangs, one answers 500, one loops);
//! - `out/clients/<name>.toml` and `.policy.toml`: a scenario file and a policy per client;
//! - `out/fleet.toml`: the fleet file listing every client (a few inline);
//! - `out/expected.json`: the [`AgencyManifest`], the findings planted per client.
//!
//! The plan (`plan.rs`, over the vendor catalogue of `vendors.rs`) is drawn first; the page (`pages.rs`), client (`clients.rs`) and
//! expectation (`expect.rs`) writers only read it.

mod clients;
mod expect;
mod gzip;
mod pages;
mod plan;
mod rng;
mod vendors;

pub use expect::{AgencyManifest, ExpectedFinding, ExpectedSite};

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The manifest's file name in a generation.
pub const MANIFEST: &str = "expected.json";
/// The seed `consentry demo-site --agency` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2026;
/// The number of clients it generates unless told otherwise.
pub const DEFAULT_SITES: usize = 24;
/// Fewest clients: the three broken ones and one that works.
pub const MIN_SITES: usize = 4;
/// Most clients (the distinct names the generator can draw).
pub const MAX_SITES: usize = 192;

/// Writes a generation of `sites` clients drawn from `seed` into `out`, which must be
/// empty or absent, and returns its manifest (also written to `out/expected.json`).
pub fn generate(seed: u64, sites: usize, out: &Path) -> anyhow::Result<AgencyManifest> {
    anyhow::ensure!(
        (MIN_SITES..=MAX_SITES).contains(&sites),
        "an agency fixture has {MIN_SITES} to {MAX_SITES} sites, not {sites}"
    );
    if out.exists() {
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
        anyhow::ensure!(
            entries.next().is_none(),
            "{} is not empty: the agency fixture is generated into an empty directory",
            out.display()
        );
    }
    let plans = plan::plan(seed, sites);
    let site_dir = out.join("sites");
    pages::write_vendors(&site_dir)?;
    for site in &plans {
        pages::write_site(&site_dir, site)?;
        write(
            &out.join("clients").join(format!("{}.toml", site.name)),
            clients::scenario(site, seed).as_bytes(),
        )?;
        write(
            &out.join("clients")
                .join(format!("{}.policy.toml", site.name)),
            clients::policy(site, seed).as_bytes(),
        )?;
    }
    write(
        &out.join("fleet.toml"),
        clients::fleet(&plans, seed).as_bytes(),
    )?;
    let sites: Vec<ExpectedSite> = plans.iter().map(expect::expected_site).collect();
    let manifest = AgencyManifest {
        seed,
        fleet: "fleet.toml".into(),
        scenarios: plan::SCENARIOS.iter().map(|s| s.to_string()).collect(),
        not_observed: sites
            .iter()
            .filter(|s| !s.observed)
            .map(|s| s.name.clone())
            .collect(),
        sites,
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    write(&out.join(MANIFEST), json.as_bytes())?;
    Ok(manifest)
}

/// The manifest of an existing generation (`dir/expected.json`).
pub fn load(dir: &Path) -> anyhow::Result<AgencyManifest> {
    let path = dir.join(MANIFEST);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not an agency manifest", path.display()))
}

/// The directory of sites in a generation (what the file server serves).
pub fn sites_dir(dir: &Path) -> PathBuf {
    dir.join("sites")
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests;
