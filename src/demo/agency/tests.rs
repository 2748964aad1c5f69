//! The plan's promises, checked on the files written.

use super::plan::{self, PageKind, Plant};
use super::*;

fn gen(seed: u64, sites: usize) -> (tempfile::TempDir, AgencyManifest) {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(seed, sites, &dir.path().join("agency")).unwrap();
    (dir, m)
}

#[test]
fn every_cmp_plant_and_breakage_appears_in_twenty_sites() {
    for seed in [1, 2026, 77] {
        let plans = plan::plan(seed, 20);
        let names: std::collections::BTreeSet<&str> =
            plans.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 20, "names are distinct");
        for cmp in ["klaro", "cookieconsent", "tcf", "banner"] {
            assert!(
                plans
                    .iter()
                    .any(|p| p.broken.is_none() && p.cmp.name() == cmp),
                "seed {seed}: no working {cmp} site"
            );
        }
        assert_eq!(plans.iter().filter(|p| p.broken.is_some()).count(), 3);
        let kinds: std::collections::BTreeSet<&str> = plans
            .iter()
            .flat_map(|p| p.plants.iter())
            .map(|p| match p {
                Plant::UngatedConsentVendor(_) => "ungated",
                Plant::ConsentVendorOnPage(..) => "on-page",
                Plant::UndeclaredThirdParty(..) => "undeclared-tp",
                Plant::UndeclaredCookie(..) => "undeclared-cookie",
                Plant::RetentionExceeded(..) => "retention",
                Plant::OutsideDeclaredPages(_) => "outside",
                Plant::LiCookie | Plant::UngatedLiVendor => "li",
                Plant::UnobservedVendor(_) => "unobserved",
            })
            .collect();
        assert_eq!(kinds.len(), 8, "seed {seed}: {kinds:?}");
        assert_eq!(
            plans.iter().filter(|p| p.link_only_plant.is_some()).count(),
            1
        );
        for p in plans.iter().filter(|p| p.broken.is_none()) {
            assert!(p.plants.len() >= 2, "{}: {:?}", p.name, p.plants);
            let products = p
                .pages
                .iter()
                .filter(|x| matches!(x.kind, PageKind::Product { .. }))
                .count();
            assert!((12..=30).contains(&products));
        }
    }
}

#[test]
fn the_link_only_plant_is_linked_from_home_and_in_no_sitemap() {
    let (dir, m) = gen(2026, 20);
    let root = dir.path().join("agency");
    let site = m
        .sites
        .iter()
        .find(|s| s.findings.iter().any(|f| f.needs_crawl))
        .expect("a link-only plant");
    let f = site.findings.iter().find(|f| f.needs_crawl).unwrap();
    let page = f.page.as_deref().unwrap();
    assert!(!site.pages.iter().any(|p| p == page), "not listed");
    let host = root.join("sites").join(&site.host);
    let home = std::fs::read_to_string(host.join("index.html")).unwrap();
    assert!(home.contains(&format!("href=\"{page}\"")));
    let planted = std::fs::read_to_string(host.join(&page[1..]).join("index.html")).unwrap();
    assert!(planted.contains("link.partnerhub.test"));
    for entry in std::fs::read_dir(&host).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("sitemap") {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(page), "{name} lists {page}");
        }
    }
}

#[test]
fn broken_sites_have_their_host_sidecar_and_expect_nothing_observed() {
    let (dir, m) = gen(5, 20);
    let root = dir.path().join("agency/sites");
    assert_eq!(m.not_observed.len(), 3);
    for site in m.sites.iter().filter(|s| !s.observed) {
        let sidecar = std::fs::read_to_string(root.join(format!("{}.headers", site.host))).unwrap();
        let want = match site.broken.as_deref() {
            Some("hang") => "Status: hang",
            Some("error-500") => "Status: 500",
            Some("redirect-loop") => "Status: 302",
            other => panic!("{other:?}"),
        };
        assert!(sidecar.contains(want), "{sidecar}");
        assert_eq!(site.keys(true).len(), 3, "scenario-not-observed x3");
    }
}

#[test]
fn out_must_be_empty_and_sizes_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), "").unwrap();
    assert!(generate(1, 20, dir.path()).is_err());
    let empty = tempfile::tempdir().unwrap();
    assert!(generate(1, 3, empty.path()).is_err());
    assert!(generate(1, MAX_SITES + 1, empty.path()).is_err());
}
