//! Unit tests of the policy loader.

use super::*;
use crate::policy::{ConsentMode, MapIssueCode, Party, Retention};
use std::path::PathBuf;

fn parse(src: &str) -> (Option<Policy>, Diagnostics) {
    parse_policy(Path::new("p.toml"), src)
}

/// `line:col message` of every diagnostic.
fn positions(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
        .collect()
}

#[test]
fn demo_policy_loads() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo-shop.policy.toml");
    let p = load_policy(&path).unwrap();
    assert_eq!(p.purposes.len(), 7);
    assert_eq!(p.vendors.len(), 9);
    assert_eq!(p.cookies.len(), 6);
    let security = p.purpose("security").unwrap();
    assert_eq!(security.basis, LegalBasis::LegitimateInterest);
    assert!(security.strictly_necessary);
    assert_eq!(p.purpose("advertising").unwrap().tcf_purpose, Some(4));
    let recaptcha = p.vendor("recaptcha").unwrap();
    assert_eq!(recaptcha.domains.len(), 1);
    assert_eq!(recaptcha.hosts[0].to_string(), "www.gstatic.com/recaptcha");
    assert_eq!(
        p.vendor_for_url(
            "www.gstatic.com",
            "/recaptcha/releases/demo/recaptcha__en.js"
        )
        .unwrap()
        .id,
        "recaptcha"
    );
    assert_eq!(
        p.vendor_for_host("www.gstatic.com").unwrap().id,
        "recaptcha"
    );
    assert_eq!(
        p.vendor("google-analytics").unwrap().consent_mode,
        Some(ConsentMode::Basic)
    );
    let stripe = p.vendor("stripe").unwrap();
    let url = |s: &str| url::Url::parse(s).unwrap();
    assert!(stripe.declared_on_page(&url("https://www.demo-shop.test/checkout")));
    assert!(!stripe.declared_on_page(&url("https://www.demo-shop.test/")));
    assert_eq!(p.retention_tolerance_secs, 86_400);
    assert!(p.map_issues.is_empty());
    assert_eq!(
        p.cookie_rule("sid").unwrap().max_retention,
        Retention::Session
    );
}

#[test]
fn defaults_and_warnings() {
    let (p, d) = parse(
        "[[purpose]]\nid = \"a\"\nbasis = \"consent\"\n\
         [[purpose]]\nid = \"unused\"\nbasis = \"contract\"\n\
         [[vendor]]\nid = \"v\"\npurposes = [\"a\"]\n",
    );
    let p = p.unwrap();
    assert_eq!(p.purposes[0].name, "a");
    assert!(!p.purposes[0].strictly_necessary);
    assert_eq!(p.vendors[0].name, "v");
    assert_eq!(
        positions(&d),
        [
            "5:6 purpose `unused` is not used by any vendor",
            "8:6 vendor `v` has no domains, no hosts and no cookies"
        ]
    );
    assert!(!d.has_errors());
}

#[test]
fn type_errors_do_not_hide_others() {
    let (p, d) = parse(
        "[[purpose]]\nid = 3\nbasis = \"consent\"\nstrictly_necessary = \"yes\"\ntcf_purpose = 12\n",
    );
    assert!(p.is_none());
    assert_eq!(
        positions(&d),
        [
            "2:6 `id` in [[purpose]] must be a string, found integer",
            "4:22 `strictly_necessary` in [[purpose]] must be a boolean, found string",
            "5:15 tcf_purpose 12 does not exist",
        ]
    );
}

#[test]
fn missing_keys_point_at_the_table() {
    let (_, d) = parse("[[cookie]]\nname = \"x\"\n");
    assert_eq!(
        positions(&d),
        [
            "1:1 missing required key `vendor` in [[cookie]]",
            "1:1 missing required key `max_retention` in [[cookie]]",
            "1:1 the policy declares no [[purpose]] and no [[vendor]]",
        ]
    );
    assert_eq!(
        d.0[0].hint.as_deref(),
        Some("add `vendor = \"google-analytics\"`")
    );
}

#[test]
fn duplicate_domains_across_vendors() {
    let (_, d) = parse(
        "[[purpose]]\nid = \"a\"\nbasis = \"consent\"\n\
         [[vendor]]\nid = \"v\"\ndomains = [\"x.com\"]\npurposes = [\"a\"]\n\
         [[vendor]]\nid = \"w\"\ndomains = [\"X.com\"]\npurposes = [\"a\"]\n",
    );
    assert_eq!(
        positions(&d),
        ["10:12 domain `x.com` is already claimed by vendor `v` (line 6)"]
    );
}

const BASE: &str = "[[purpose]]\nid = \"a\"\nbasis = \"consent\"\n";

#[test]
fn li_for_forbidden_tcf_purposes_is_a_map_issue() {
    let (p, d) = parse(
        "[[purpose]]\nid = \"ads\"\nbasis = \"legitimate_interest\"\ntcf_purpose = 4\n\
         [[purpose]]\nid = \"store\"\nbasis = \"legitimate_interest\"\ntcf_purpose = 1\n\
         [[purpose]]\nid = \"measure\"\nbasis = \"legitimate_interest\"\ntcf_purpose = 9\n\
         [[vendor]]\nid = \"v\"\ndomains = [\"v.com\"]\npurposes = [\"ads\", \"store\", \"measure\"]\n\
         tcf_vendor_id = 755\ntcf_li_purposes = [2, 3, 7]\ntcf_consent_purposes = [1, 4]\n",
    );
    assert!(!d.has_errors(), "{d}");
    assert_eq!(d.warnings(), 3);
    let p = p.unwrap();
    let issues: Vec<(&str, &str, &str)> = p
        .map_issues
        .iter()
        .map(|i| (i.code.as_str(), i.subject.as_str(), i.location.as_str()))
        .collect();
    assert_eq!(
        issues,
        [
            ("li-basis-forbidden-tcf-purpose", "ads", "p.toml:3:9"),
            ("li-basis-forbidden-tcf-purpose", "store", "p.toml:7:9"),
            ("vendor-tcf-li-forbidden", "v", "p.toml:18:23"),
        ]
    );
    assert_eq!(
        p.map_issues[0].rule,
        "TCF 2.2: legitimate interest is not permitted for purposes 3-6"
    );
    assert!(p.map_issues[1].rule.contains("purpose 1"));
    assert!(p.map_issues[0].message.contains("TCF purpose 4 (line 4)"));
    assert_eq!(p.map_issues[2].code, MapIssueCode::VendorTcfLiForbidden);
    let tcf = p.vendors[0].tcf.as_ref().unwrap();
    assert_eq!(tcf.vendor_id, Some(755));
    assert_eq!(tcf.li_purposes, [2, 3, 7]);
    assert_eq!(tcf.consent_purposes, [1, 4]);
}

#[test]
fn new_vendor_keys() {
    let (p, d) = parse(&format!(
        "{BASE}[[vendor]]\nid = \"g\"\nhosts = [\"www.google.com/recaptcha\", \"maps.googleapis.com\"]\n\
         pages = [\"/checkout\", \"/product/*\"]\nconsent_mode = \"advanced\"\npurposes = [\"a\"]\n\
         [[vendor]]\nid = \"h\"\ndomains = [\"google.com\"]\npurposes = [\"a\"]\n\
         [[vendor]]\nid = \"apex\"\nhosts = [\"google.com\"]\npurposes = [\"a\"]\n"
    ));
    assert!(d.0.is_empty(), "{d}");
    let p = p.unwrap();
    let g = p.vendor("g").unwrap();
    assert_eq!(g.hosts.len(), 2);
    assert_eq!(g.pages, ["/checkout", "/product/*"]);
    assert_eq!(g.consent_mode, Some(ConsentMode::Advanced));
    assert_eq!(p.vendor("h").unwrap().pages, ["*"]);
    assert_eq!(
        p.vendor_for_url("www.google.com", "/recaptcha/api.js")
            .unwrap()
            .id,
        "g"
    );
    assert_eq!(
        p.vendor_for_url("www.google.com", "/search").unwrap().id,
        "h"
    );
    // A domain and the exact host of the same name may belong to different vendors.
    assert_eq!(p.vendor_for_url("google.com", "/").unwrap().id, "apex");
    assert_eq!(p.vendor_for_host("mail.google.com").unwrap().id, "h");
    assert_eq!(p.retention_tolerance_secs, 86_400);
    assert_eq!(p.digest.len(), 16);
}

#[test]
fn new_vendor_keys_errors() {
    let (p, d) = parse(&format!(
        "{BASE}[[vendor]]\nid = \"g\"\n\
         domains = [\"co.uk\", \"-x.com\", \"*.github.io\"]\n\
         hosts = [\"https://a.com/x\", \"a.com/x\", \"A.com/x/\"]\n\
         pages = [\"checkout\"]\nconsent_mode = \"basik\"\npurposes = [\"a\"]\n\
         tcf_vendor_id = 0\ntcf_consent_purposes = [12]\ntcf_li_purposes = [2]\ntcf_special_purposes = [4]\n\
         tcf_features = [3, 4]\ntcf_special_features = [3, \"x\"]\n"
    ));
    assert!(p.is_none());
    assert_eq!(
        positions(&d),
        [
            "6:12 `co.uk` is a public suffix, not a vendor's domain",
            "6:21 invalid domain pattern `-x.com`: the label `-x` must not start or end with `-`",
            "6:31 `github.io` is a public suffix, not a vendor's domain",
            "7:10 invalid host pattern `https://a.com/x`: write the host without a scheme",
            "7:40 host `a.com/x` is already claimed by vendor `g` (line 7)",
            "8:10 invalid page pattern \"checkout\"",
            "9:16 unknown consent_mode `basik`",
            "11:17 tcf_vendor_id 0 is out of range",
            "12:25 12 is out of range in `tcf_consent_purposes` in [[vendor]] (1 to 11)",
            "14:25 4 is out of range in `tcf_special_purposes` in [[vendor]] (1 to 3)",
            "15:20 4 is out of range in `tcf_features` in [[vendor]] (1 to 3)",
            "16:25 3 is out of range in `tcf_special_features` in [[vendor]] (1 to 2)",
            "16:28 each element of `tcf_special_features` in [[vendor]] must be an integer, found string",
        ]
    );
    assert_eq!(d.0[6].hint.as_deref(), Some("did you mean `basic`?"));
}

#[test]
fn new_cookie_keys() {
    let (p, d) = parse(&format!(
        "{BASE}[[vendor]]\nid = \"v\"\ndomains = [\"v.com\"]\npurposes = [\"a\"]\n\
         [[cookie]]\nname = \"_ga\"\nvendor = \"v\"\nmax_retention = \"13months\"\n\
         [[cookie]]\nname = \"_ga\"\nvendor = \"v\"\nmax_retention = \"1 year 1 month\"\ndomain = \"shop.example\"\n\
         party = \"first\"\nbasis = \"legitimate_interest\"\nstrictly_necessary = true\n\
         [settings]\nretention_tolerance = \"12h\"\n"
    ));
    assert!(d.0.is_empty(), "{d}");
    let p = p.unwrap();
    assert_eq!(
        p.cookies[0].max_retention,
        Retention::MaxSeconds(13 * 2_630_016)
    );
    let c = p.cookie_rule_for("_ga", ".www.shop.example").unwrap();
    assert_eq!(
        c.max_retention,
        Retention::MaxSeconds(31_557_600 + 2_630_016)
    );
    assert_eq!(c.party, Some(Party::First));
    assert_eq!(c.basis, Some(LegalBasis::LegitimateInterest));
    assert_eq!(c.strictly_necessary, Some(true));
    assert_eq!(p.retention_tolerance_secs, 12 * 3600);
}

#[test]
fn new_cookie_keys_errors() {
    let (_, d) = parse(&format!(
        "{BASE}[[vendor]]\nid = \"v\"\ndomains = [\"v.com\"]\npurposes = [\"a\"]\n\
         [[cookie]]\nname = \"_ga\"\nvendor = \"v\"\nmax_retention = \"1 fortnight\"\ndomain = \"com\"\n\
         party = \"3rd\"\nbasis = \"concent\"\nstrictly_necessary = \"no\"\n\
         [[cookie]]\nname = \"x\"\nvendor = \"v\"\nmax_retention = \"1d\"\n\
         [[cookie]]\nname = \"x\"\nvendor = \"v\"\nmax_retention = \"1d\"\n\
         [settings]\nretention_tolerance = \"soon\"\n"
    ));
    assert_eq!(
        positions(&d),
        [
            "11:17 invalid retention \"1 fortnight\"",
            "12:10 `com` is a public suffix, not a vendor's domain",
            "13:9 unknown party `3rd`",
            "14:9 unknown legal basis `concent`",
            "15:22 `strictly_necessary` in [[cookie]] must be a boolean, found string",
            "21:8 duplicate cookie rule `x` (first defined at line 17)",
            "25:23 invalid duration \"soon\" for `retention_tolerance`",
        ]
    );
}

#[test]
fn empty_policy_is_an_error() {
    for src in [
        "",
        "# nothing\n",
        "[settings]\nretention_tolerance = \"1d\"\n",
    ] {
        let (p, d) = parse(src);
        assert!(p.is_none());
        assert_eq!(positions(&d), [format!("1:1 {EMPTY_POLICY}")], "{src:?}");
    }
}

/// 40,000 vendors: validation and lookups stay linear / indexed.
#[test]
fn forty_thousand_vendors() {
    const N: usize = 40_000;
    let mut src = String::from(BASE);
    for i in 0..N {
        src.push_str(&format!(
            "[[vendor]]\nid = \"v{i}\"\ndomains = [\"v{i}.example\"]\nhosts = [\"cdn.shared.example/v{i}\"]\npurposes = [\"a\", \"b\"]\n"
        ));
    }
    let start = std::time::Instant::now();
    let (_, d) = parse(&src);
    println!("40,000 vendors validated in {:?}", start.elapsed());
    assert_eq!(d.errors(), N, "one unknown purpose `b` per vendor");
    let src = src.replace(", \"b\"", "");
    let (p, d) = parse(&src);
    assert!(!d.has_errors());
    let p = p.unwrap();
    let start = std::time::Instant::now();
    for i in (0..N).step_by(7) {
        let host = format!("www.v{i}.example");
        assert_eq!(p.vendor_for_host(&host).unwrap().id, format!("v{i}"));
        let path = format!("/v{i}/lib.js");
        assert_eq!(
            p.vendor_for_url("cdn.shared.example", &path).unwrap().id,
            format!("v{i}")
        );
    }
    println!("lookups in {:?}", start.elapsed());
}

#[test]
fn gpc_opt_out_default_and_errors() {
    let src = "[[purpose]]\nid = \"ads\"\nbasis = \"consent\"\ntcf_purpose = 4\n\
               [[purpose]]\nid = \"stats\"\nbasis = \"consent\"\ntcf_purpose = 8\n\
               [[purpose]]\nid = \"sale\"\nbasis = \"consent\"\ngpc_opt_out = true\n\
               [[purpose]]\nid = \"basic_ads\"\nbasis = \"consent\"\ntcf_purpose = 2\ngpc_opt_out = false\n\
               [[vendor]]\nid = \"v\"\ndomains = [\"v.test\"]\npurposes = [\"ads\", \"stats\", \"sale\", \"basic_ads\"]\n";
    let (p, d) = parse(src);
    assert!(!d.has_errors(), "{d}");
    let p = p.unwrap();
    let out = |id: &str| p.purpose(id).unwrap().gpc_opt_out;
    assert!(out("ads") && !out("stats") && out("sale") && !out("basic_ads"));

    let src = "[[purpose]]\nid = \"sec\"\nbasis = \"legitimate_interest\"\nstrictly_necessary = true\ngpc_opt_out = true\n\
               [[purpose]]\nid = \"x\"\nbasis = \"consent\"\ngpc_opt_out = 1\n\
               [[vendor]]\nid = \"v\"\ndomains = [\"v.test\"]\npurposes = [\"sec\", \"x\"]\n";
    let (p, d) = parse(src);
    assert!(p.is_none());
    assert_eq!(
        positions(&d),
        [
            "5:15 a strictly necessary purpose cannot be opted out of with Global Privacy Control",
            "9:15 `gpc_opt_out` in [[purpose]] must be a boolean, found integer",
        ]
    );
}

#[test]
fn cmp_services_are_read_and_checked() {
    let src = r#"
[[purpose]]
id = "analytics"
name = "Analytics"
basis = "consent"

[[vendor]]
id = "ga"
domains = ["google-analytics.com"]
purposes = ["analytics"]
cmp_services = ["analytics", " google-analytics "]

[[vendor]]
id = "hj"
domains = ["hotjar.com"]
purposes = ["analytics"]
cmp_services = ["analytics", "", "analytics"]

[[vendor]]
id = "mx"
domains = ["mx.test"]
purposes = ["analytics"]
cmp_services = "analytics"
"#;
    let (policy, d) = parse(src);
    assert!(policy.is_none(), "errors make no policy");
    let got = positions(&d);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].starts_with("17:30 an empty name in `cmp_services`"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("17:34 `analytics` is listed twice in `cmp_services`"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("23:16 `cmp_services` in [[vendor]] must be an array of strings"),
        "{got:#?}"
    );
    let (policy, d) = parse(&src[..src.find("[[vendor]]\nid = \"hj\"").unwrap()]);
    assert!(d.0.is_empty(), "{:#?}", positions(&d));
    let ga = policy.unwrap();
    assert_eq!(
        ga.vendor("ga").unwrap().cmp_services,
        ["analytics", "google-analytics"]
    );
}
