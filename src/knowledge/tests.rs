use super::*;

fn entity(name: &str, company: Option<&str>, category: &str, domains: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        company: company.map(Into::into),
        category: Some(category.into()),
        domains: domains.iter().map(|d| (*d).to_string()).collect(),
    }
}

fn cookie(name: &str, platform: &str, category: &str, wildcard: bool) -> CookieEntry {
    CookieEntry {
        name: name.into(),
        platform: platform.into(),
        category: Some(category.into()),
        retention: Some("2 years".into()),
        controller: Some("Google".into()),
        wildcard,
    }
}

/// A small set shaped like third-party-web's entries.
pub(crate) fn sample_vendors() -> VendorSet {
    VendorSet::new(
        "third-party-web 0.30.0".into(),
        vec![
            entity(
                "Google/Doubleclick Ads",
                Some("Google"),
                "ad",
                &["adservice.google.com", "*.doubleclick.net"],
            ),
            entity("Bing Ads", None, "ad", &["*.bing.com"]),
            entity("TikTok", Some("ByteDance Ltd"), "social", &["*.tiktok.com"]),
            entity("Stripe", None, "utility", &["js.stripe.com"]),
        ],
    )
}

pub(crate) fn sample_cookies() -> CookieSet {
    CookieSet::new(
        "open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
        vec![
            cookie("_ga", "Google Analytics", "Analytics", false),
            cookie("_ga_", "Google Analytics", "Analytics", true),
            cookie("_g", "Short prefix", "Marketing", true),
            cookie("_ga", "Duplicate", "Marketing", false),
        ],
    )
}

#[test]
fn hosts_match_exactly_by_subdomain_and_by_pattern() {
    let v = sample_vendors();
    let k = v.lookup("adservice.google.com").unwrap();
    assert_eq!(
        (k.kind, k.pattern.as_str()),
        (MatchKind::Host, "adservice.google.com")
    );
    assert_eq!(
        (k.name.as_str(), k.company.as_str(), k.category.as_str()),
        ("Google/Doubleclick Ads", "Google", "ad")
    );

    let k = v.lookup("eu.adservice.google.com").unwrap();
    assert_eq!(k.kind, MatchKind::Subdomain);
    assert_eq!(k.rule(), "subdomain of adservice.google.com");

    let k = v.lookup("bat.bing.com").unwrap();
    assert_eq!(
        (k.kind, k.rule().as_str()),
        (MatchKind::Pattern, "pattern *.bing.com")
    );
    assert_eq!(
        k.company, "Bing Ads",
        "company defaults to the entity's name"
    );
    // `*.domain` covers the domain itself.
    assert_eq!(v.lookup("bing.com").unwrap().kind, MatchKind::Pattern);
    let k = v.lookup("analytics.tiktok.com").unwrap();
    assert_eq!(
        k.describe(),
        "known: TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in third-party-web 0.30.0"
    );

    // An exact entry covers its subdomains, never its siblings or parents.
    assert!(v.lookup("m.stripe.com").is_none());
    assert!(v.lookup("stripe.com").is_none());
    assert_eq!(
        v.lookup("x.js.stripe.com").unwrap().kind,
        MatchKind::Subdomain
    );
    assert!(v.lookup("google.com").is_none());
    assert!(v.lookup("example.org").is_none());
    assert!(v.lookup("127.0.0.1").is_none());
}

#[test]
fn the_most_specific_entry_wins() {
    let v = VendorSet::new(
        "t 1".into(),
        vec![
            entity("Root", None, "cdn", &["*.example.com"]),
            entity("Deep", None, "ad", &["*.ads.example.com"]),
            entity("Exact", None, "analytics", &["px.ads.example.com"]),
        ],
    );
    assert_eq!(v.lookup("px.ads.example.com").unwrap().name, "Exact");
    assert_eq!(v.lookup("a.px.ads.example.com").unwrap().name, "Exact");
    assert_eq!(v.lookup("b.ads.example.com").unwrap().name, "Deep");
    assert_eq!(v.lookup("www.example.com").unwrap().name, "Root");
    // A pattern on a public suffix names nobody below it.
    let v = VendorSet::new("t 1".into(), vec![entity("Bad", None, "ad", &["*.co.uk"])]);
    assert!(v.lookup("shop.example.co.uk").is_none());
}

#[test]
fn cookies_match_by_exact_name_then_longest_prefix() {
    let c = sample_cookies();
    let k = c.lookup("_ga").unwrap();
    assert_eq!(
        (k.kind, k.name.as_str()),
        (MatchKind::CookieName, "Google Analytics")
    );
    assert_eq!(k.retention.as_deref(), Some("2 years"));
    assert_eq!(k.company, "Google");
    let k = c.lookup("_ga_ABC123").unwrap();
    assert_eq!(
        (k.kind, k.rule().as_str()),
        (MatchKind::CookiePrefix, "cookie prefix _ga_*")
    );
    assert_eq!(c.lookup("_gid").unwrap().name, "Short prefix");
    assert!(c.lookup("ab_test_variant").is_none());
    assert!(c.lookup("_GA").is_none(), "cookie names are case-sensitive");
    assert!(
        k.describe().contains("typical retention 2 years"),
        "{}",
        k.describe()
    );
}

#[test]
fn the_users_set_comes_first_and_versions_name_every_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracker;db.json");
    std::fs::write(
        &path,
        r#"[{"name":"Internal Pixel","company":"Acme","category":"ad","domains":["*.bing.com"]}]"#,
    )
    .unwrap();
    let base = KnowledgeBase {
        user_vendors: Some(load::load_user_vendors(&path).unwrap()),
        vendors: Some(sample_vendors()),
        cookies: Some(sample_cookies()),
        dir: None,
    };
    assert_eq!(base.host("bat.bing.com").unwrap().company, "Acme");
    assert_eq!(base.host("analytics.tiktok.com").unwrap().name, "TikTok");
    let v = base.versions().unwrap();
    assert!(
        v.starts_with("third-party-web 0.30.0 + open-cookie-database (gdpr-cookie-scanner 3.8.2) + vendor-db tracker_db.json sha256:"),
        "{v}"
    );
    assert!(!v.contains(';') && !v.contains('='), "{v}");
    // The wrapped form (the bundled file's) reads too.
    std::fs::write(&path, r#"{"entities":[{"name":"X","domains":["x.test"]}]}"#).unwrap();
    let set = load::load_user_vendors(&path).unwrap();
    assert_eq!(set.lookup("x.test").unwrap().category, "unknown");
}

#[test]
fn a_bad_vendor_db_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vendors.json");
    std::fs::write(&path, "{\n  \"name\": 3\n}").unwrap();
    let e = load::load_user_vendors(&path).unwrap_err();
    assert!(
        e.starts_with(&format!("--vendor-db {}:", path.display())),
        "{e}"
    );
    let e = load::load_user_vendors(&dir.path().join("absent.json")).unwrap_err();
    assert!(
        e.contains("absent.json") && e.contains("cannot be read"),
        "{e}"
    );
}

#[test]
fn a_missing_knowledge_base_is_one_notice_and_no_knowledge() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("share");
    let scenario = dir.path().join("site.toml");
    let cwd_has_fixtures = std::env::current_dir()
        .map(|d| super::is_knowledge_dir(&d.join(DEFAULT_DIR)))
        .unwrap_or(false);
    if !cwd_has_fixtures {
        let loaded = locate(Some(&data), &scenario, None).unwrap();
        assert_eq!(loaded.notices.len(), 1, "{:?}", loaded.notices);
        assert!(
            loaded.notices[0].contains("were not found"),
            "{:?}",
            loaded.notices
        );
        assert!(loaded.base.host("bat.bing.com").is_none());
        assert_eq!(loaded.base.versions(), None);
    }
    // A knowledge directory with one set missing and one broken: a notice each, no crash.
    let kdir = data.join(DATA_SUBDIR);
    std::fs::create_dir_all(&kdir).unwrap();
    std::fs::write(kdir.join(COOKIES_FILE), "{not json").unwrap();
    let loaded = locate(Some(&data), &scenario, None).unwrap();
    assert_eq!(loaded.base.dir.as_deref(), Some(kdir.as_path()));
    assert_eq!(loaded.notices.len(), 2, "{:?}", loaded.notices);
    assert!(
        loaded.notices[0].contains(VENDORS_FILE),
        "{:?}",
        loaded.notices
    );
    assert!(
        loaded.notices[1].contains(COOKIES_FILE) && loaded.notices[1].contains("line 1"),
        "{:?}",
        loaded.notices
    );
    assert!(loaded.base.cookie("_ga").is_none());
    assert_eq!(loaded.base.versions(), None);
    // The bundled files' shape.
    std::fs::write(
        kdir.join(VENDORS_FILE),
        r#"{"source":"third-party-web","version":"0.30.0","license":"MIT","entities":[{"name":"Bing Ads","company":"Bing Ads","category":"ad","domains":["*.bing.com"]}]}"#,
    )
    .unwrap();
    std::fs::write(
        kdir.join(COOKIES_FILE),
        r#"{"source":"open-cookie-database","version":"3.8.2","via":"@slashgear/gdpr-cookie-scanner","license":"Apache-2.0","cookies":[{"name":"_uetsid","platform":"Microsoft Advertising","category":"Marketing","retention":"1 day","controller":"Microsoft","wildcard":false}]}"#,
    )
    .unwrap();
    let loaded = locate(Some(&data), &scenario, None).unwrap();
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    assert_eq!(
        loaded.base.versions().as_deref(),
        Some("third-party-web 0.30.0 + open-cookie-database (gdpr-cookie-scanner 3.8.2)")
    );
    assert_eq!(loaded.base.cookie("_uetsid").unwrap().company, "Microsoft");
}

/// The installed sets (`make fixtures`), when this checkout has them: they load, and
/// name the vendors of the demo shop.
#[test]
fn the_bundled_sets_load_and_know_the_demo_vendors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DIR);
    if !super::is_knowledge_dir(&dir) {
        return; // `make test` runs `make fixtures` first; a bare `cargo test` may not
    }
    let loaded = load::load_dir(&dir);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    let base = loaded.base;
    assert!(base.vendors.as_ref().unwrap().entities() > 2000);
    assert!(base.cookies.as_ref().unwrap().rows() > 2000);
    let bing = base.host("bat.bing.com").unwrap();
    assert_eq!(
        (bing.category.as_str(), bing.kind),
        ("ad", MatchKind::Pattern)
    );
    assert_eq!(
        base.host("analytics.tiktok.com").unwrap().company,
        "ByteDance Ltd"
    );
    assert_eq!(
        base.cookie("_ga_XYZ").unwrap().kind,
        MatchKind::CookiePrefix
    );
}
