//! The commented starter files `consentry init URL` writes: a scenario file and its policy,
//! valid as written (a test loads both and checks them against their schemas), each key
//! explained where it stands, the rest of the format a comment away.

use crate::toml_check::toml_string;
use std::fmt::Write as _;

/// What the starter files are made of.
pub struct Starter<'a> {
    /// The site's name, also the files' stem (`shop-example`).
    pub name: &'a str,
    /// The site's base URL, as given.
    pub base_url: &'a str,
    /// Its registrable domain (`shop.example`): the first-party vendor's domain.
    pub domain: &'a str,
    /// The policy's file name, relative to the scenario file.
    pub policy_file: &'a str,
    /// Where the installed schemas are, for a `#:schema` line (docs/editors.md).
    pub schema_dir: Option<&'a std::path::Path>,
    /// The date written in the header (`2026-12-07`).
    pub date: &'a str,
}

fn directive(s: &mut String, st: &Starter<'_>, kind: &str) {
    match st.schema_dir {
        Some(dir) => {
            let _ = writeln!(
                s,
                "#:schema {}",
                dir.join(format!("{kind}.schema.json")).display()
            );
        }
        None => {
            let _ = writeln!(
                s,
                "# Editors: `consentry schema {kind} > {kind}.schema.json`, then `#:schema ./{kind}.schema.json` as line 1 (docs/editors.md)."
            );
        }
    }
}

/// The starter scenario file.
pub fn scenario(st: &Starter<'_>) -> String {
    let mut s = String::new();
    directive(&mut s, st, "scenario");
    let _ = write!(
        s,
        r##"# consentry scenario file for {domain}, written by `consentry init` on {date}.
# What to audit and how to drive its consent banner. The format: docs/scenarios.md.
# Check it with `consentry validate {name}.toml`; run it with `consentry audit {name}.toml`.
# Strings may use ${{VAR}} or ${{VAR:-default}} from the environment.

[site]
name = {name_q}
base_url = {base_q}
# Visited in order; the consent steps run on the first. Add a product page, the checkout,
# one page of each template your tag manager treats differently.
pages = ["/"]
# Registrable domains that also count as first party (base_url's always does): a CDN of
# your own, a second shop domain.
first_party_domains = []
# The declared map (purposes, legal bases, vendors, cookies, retention), owned by the
# privacy team; relative to this file.
policy = {policy_q}
# Environment variables whose values must never be written anywhere (a login's password):
# secrets = ["SHOP_PASSWORD"]
# Page discovery beyond `pages`, bounded (docs/crawl.md):
# crawl = {{ max_pages = 20 }}

# The consent banner. `auto = true` drives the CMPs autoconsent has a rule for and, for a
# banner no rule knows, finds the dialog and its buttons by their words
# (docs/heuristic.md); a scenario it cannot drive is reported not observed, never clean.
# Selectors, when you know them, are used instead:
#   banner = "#consent-banner"
#   accept_all = ["#accept"]
#   reject_all = ["#reject"]
#   object_li = ["#settings", "#object-all", "#save"]
[cmp]
auto = true

[browser]
page_load_timeout = "30s"
step_timeout = "10s"

# The built-in scenarios run by default: no_action, accept_all, reject_all, object_li,
# reject_then_reload, accept_then_withdraw (docs/scenarios.md#built-in-scenarios); gpc and
# accept_some when asked for. To choose:
# [run]
# scenarios = ["no_action", "accept_all", "reject_all"]
"##,
        domain = st.domain,
        date = st.date,
        name = st.name,
        name_q = toml_string(st.name),
        base_q = toml_string(st.base_url),
        policy_q = toml_string(st.policy_file),
    );
    s
}

/// The starter policy: common purposes, the first party as a vendor, and one commented
/// vendor and cookie to copy.
pub fn policy(st: &Starter<'_>) -> String {
    let mut s = String::new();
    directive(&mut s, st, "policy");
    let _ = write!(
        s,
        r##"# The declared map of {domain}, written by `consentry init` on {date}: a start for the
# privacy team to complete. The format: docs/scenarios.md#the-policy.
# Every third party the site contacts that is not a [[vendor]] here is a finding
# (undeclared-third-party), named from the vendor knowledge where it is known: the first
# audit lists what to declare.

[settings]
# A stored cookie may outlive its max_retention by this much (clock rounding).
retention_tolerance = "1d"

# Purposes and their legal basis: consent, legitimate_interest, contract or
# legal_obligation. Strictly necessary processing may run in every scenario.
[[purpose]]
id = "necessary"
name = "Strictly necessary (session, security, the consent record)"
basis = "legitimate_interest"
strictly_necessary = true

[[purpose]]
id = "analytics"
name = "Audience analytics"
basis = "consent"

[[purpose]]
id = "advertising"
name = "Personalised advertising"
basis = "consent"
# IAB TCF purpose 4; Global Privacy Control opts the visitor out of it.
tcf_purpose = 4

# The site itself.
[[vendor]]
id = {name_q}
name = {name_q}
domains = [{domain_q}]
purposes = ["necessary"]

# A vendor: its domains (a registrable domain covers its subdomains) and the purposes
# it serves; `pages` when it is embedded on some pages only.
# [[vendor]]
# id = "google-analytics"
# name = "Google Analytics"
# domains = ["google-analytics.com", "googletagmanager.com"]
# purposes = ["analytics"]
# consent_mode = "advanced"

# A cookie, its owner and how long it may live ("session" or a duration).
# [[cookie]]
# name = "_ga*"
# vendor = "google-analytics"
# max_retention = "13months"
"##,
        domain = st.domain,
        date = st.date,
        name_q = toml_string(st.name),
        domain_q = toml_string(st.domain),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_starter_files_load_without_a_problem_and_match_their_schemas() {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = Starter {
            name: "shop-example",
            base_url: "https://www.shop.example/",
            domain: "shop.example",
            policy_file: "shop-example.policy.toml",
            schema_dir: Some(Path::new("/usr/share/consentry/schemas")),
            date: "2026-12-07",
        };
        let scenario_path = dir.path().join("shop-example.toml");
        std::fs::write(&scenario_path, scenario(&st)).expect("write");
        std::fs::write(dir.path().join(st.policy_file), policy(&st)).expect("write");
        // Valid; the only warnings are the two example purposes no vendor uses yet.
        let diags = crate::validate::validate_files(&[scenario_path]);
        let said: Vec<&str> = diags.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            said,
            [
                "purpose `analytics` is not used by any vendor",
                "purpose `advertising` is not used by any vendor"
            ],
            "{:?}",
            diags.0
        );
        for (kind, text) in [("scenario", scenario(&st)), ("policy", policy(&st))] {
            assert!(text.starts_with(&format!(
                "#:schema /usr/share/consentry/schemas/{kind}.schema.json\n"
            )));
            let doc: serde_json::Value =
                serde_json::to_value(toml::from_str::<toml::Value>(&text).expect("TOML"))
                    .expect("JSON");
            let v = jsonschema::draft7::new(&super::super::schema(
                super::super::kind(kind).expect("kind"),
            ))
            .expect("schema");
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind}: {errors:?}");
        }
    }

    #[test]
    fn a_name_that_needs_quoting_is_quoted() {
        let st = Starter {
            name: "a \"b\"",
            base_url: "https://x.test/",
            domain: "x.test",
            policy_file: "p.toml",
            schema_dir: None,
            date: "2026-12-07",
        };
        let doc: toml::Value = toml::from_str(&scenario(&st)).expect("TOML");
        assert_eq!(doc["site"]["name"].as_str(), Some("a \"b\""));
        assert!(scenario(&st).starts_with("# Editors: `consentry schema scenario"));
    }
}
