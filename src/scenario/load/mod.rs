//! Loading and validating scenario files.
//!
//! A scenario file is read into toml's spanned tree and checked with the generic
//! [`Checker`] shared with the policy loader, so every problem (of the scenario file
//! and of the policy it references) is reported at once, with file:line:col and a
//! hint. Every string value may use `${VAR}` or `${VAR:-default}`, substituted from
//! the environment. The format is documented in docs/scenarios.md.
//!
//! One file per concern: [`site`] (`[site]`, URLs and ports), [`cmp`] (`[cmp]`,
//! selectors, what consent actions record), [`browser`] (`[browser]`, limits),
//! [`steps`] (`[[scenario]]` and its steps), [`run`] (which scenarios run, built-ins).

pub(crate) mod browser;
pub(crate) mod cmp;
pub mod crawl;
pub mod grant;
pub(crate) mod login;
pub mod profile;
mod run;
mod site;
pub(crate) mod steps;
#[cfg(test)]
mod tests;
pub(crate) mod vantage;

pub use crate::toml_check::parse_duration;
pub use site::RESTRICTED_PORTS;

use super::{AuditSpec, BrowserOptions, Scenario, Site};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::policy::load::parse_policy;
use crate::policy::Policy;
use crate::secrets::Secrets;
use crate::toml_check::source::read_text;
use crate::toml_check::{digest, read_source, Checker, Env, Ids, SourceError, Val};
use std::path::{Path, PathBuf};
use toml::de::DeTable;
use toml::Spanned;

/// Read and validate a scenario file and the declared map it references, with
/// `${VAR}` taken from the process environment. `Ok` only when there is no error.
pub fn load_audit_file(path: &Path) -> Result<AuditSpec, Diagnostics> {
    load_audit_file_with_env(path, &|name| std::env::var(name).ok())
}

/// [`load_audit_file`] with `${VAR}` looked up by `env`.
pub fn load_audit_file_with_env(path: &Path, env: Env<'_>) -> Result<AuditSpec, Diagnostics> {
    load_audit_file_with_warnings(path, env).map(|(spec, _)| spec)
}

/// [`load_audit_file_with_env`], also handing back the warnings of a file that loaded
/// (e.g. a purpose no vendor uses), so `audit` can show them.
pub fn load_audit_file_with_warnings(
    path: &Path,
    env: Env<'_>,
) -> Result<(AuditSpec, Diagnostics), Diagnostics> {
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    let (file, policy_ref, mut diags) = check_source(path, &src, env);
    let file = file.map(|f| ScenarioFile {
        digest: digest(src.as_bytes()),
        ..f
    });
    let policy = policy_ref.and_then(|r| {
        let (policy, d) = r.load();
        merge_policy_diagnostics(&mut diags, path, d);
        policy
    });
    let mut file = file;
    if let (Some(file), Some(policy)) = (&mut file, &policy) {
        diags.0.extend(file.resolve_grants(policy));
    }
    match (file, policy) {
        (Some(file), Some(policy)) if !diags.has_errors() => Ok((file.with_policy(policy), diags)),
        _ => Err(diags),
    }
}

/// Validate the text of a scenario file, without loading the declared map it
/// references. The file is `Some` only when there is no error.
pub fn parse_audit_file(
    path: &Path,
    src: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Option<ScenarioFile>, Diagnostics) {
    let (file, _, diags) = check_source(path, src, env);
    let file = file.map(|f| ScenarioFile {
        digest: digest(src.as_bytes()),
        ..f
    });
    (file, diags)
}

/// Add the diagnostics of the declared map a scenario file references to the file's
/// own: those about the scenario file (the map could not be read) go in line order.
pub(crate) fn merge_policy_diagnostics(own: &mut Diagnostics, path: &Path, policy: Diagnostics) {
    let (same, other): (Vec<_>, Vec<_>) = policy.0.into_iter().partition(|d| d.file == path);
    own.0.extend(same);
    own.0.sort_by_key(|d| (d.line, d.col));
    own.0.extend(other);
}

/// A validated scenario file whose declared map is not loaded yet.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub path: PathBuf,
    pub site: Site,
    pub browser: BrowserOptions,
    /// Scenarios to run, in order, built-ins expanded into steps.
    pub scenarios: Vec<Scenario>,
    pub policy: PolicyRef,
    /// SHA-256 of the file's raw bytes, first 16 hex digits.
    pub digest: String,
    /// `[login]` ([`super::Login`]).
    pub login: Option<super::Login>,
}

impl ScenarioFile {
    /// Check every partial consent's `grant` against the declared map and resolve it
    /// into the CMP's terms ([`grant::resolve`]); the problems, at each purpose.
    pub fn resolve_grants(&mut self, policy: &Policy) -> Vec<Diagnostic> {
        grant::resolve_grants(&mut self.scenarios, policy)
    }

    pub fn with_policy(self, policy: Policy) -> AuditSpec {
        AuditSpec {
            path: self.path,
            site: self.site,
            browser: self.browser,
            scenarios: self.scenarios,
            policy,
            digest: self.digest,
            login: self.login,
        }
    }
}

/// The declared map a scenario file references, and where it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    /// Resolved against the scenario file's directory.
    pub path: PathBuf,
    /// The scenario file and the 1-based line and column of the `policy` value.
    pub at: (PathBuf, usize, usize),
}

impl PolicyRef {
    /// A diagnostic about the declared map, at the `policy` value.
    pub fn error(&self, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
        let (file, line, col) = self.at.clone();
        Diagnostic {
            level: Level::Error,
            file,
            line,
            col,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Read and validate the policy; a file that cannot be read is reported at the
    /// `policy` value, one that is not UTF-8 at its first bad byte.
    pub fn load(&self) -> (Option<Policy>, Diagnostics) {
        match read_text(&self.path) {
            Ok(src) => parse_policy(&self.path, &src),
            Err(e @ SourceError::NotUtf8 { .. }) => {
                (None, Diagnostics(vec![e.diagnostic(&self.path)]))
            }
            Err(SourceError::Unreadable { message, .. }) => {
                let message = message.replacen("cannot read ", "cannot read the policy ", 1);
                let d = self.error(
                    message,
                    "`policy` is a path relative to the scenario file's directory",
                );
                (None, Diagnostics(vec![d]))
            }
        }
    }
}

pub(crate) const TOP_KEYS: &[&str] = &[
    "site", "cmp", "browser", "run", "scenario", "login", "vantage",
];
pub(crate) const SITE_KEYS: &[&str] = &[
    "name",
    "base_url",
    "pages",
    "first_party_domains",
    "policy",
    "secrets",
    "crawl",
];
pub(crate) const RUN_KEYS: &[&str] = &["scenarios"];
pub(crate) const SCENARIO_KEYS: &[&str] = &["id", "description", "steps", "gpc", "login"];

pub(crate) fn check_source(
    path: &Path,
    src: &str,
    env: Env<'_>,
) -> (Option<ScenarioFile>, Option<PolicyRef>, Diagnostics) {
    check_source_over(path, src, env, None)
}

/// What a site takes from its fleet file (docs/fleet.md): the fleet file's `[browser]`,
/// `[cmp]`, `[run]` and `[crawl]` values, as parsed from `src`.
pub(crate) struct Defaults<'t, 'i> {
    pub(crate) file: &'t Path,
    pub(crate) src: &'t str,
    pub(crate) browser: Option<&'t Val<'i>>,
    pub(crate) cmp: Option<&'t Val<'i>>,
    pub(crate) run: Option<&'t Val<'i>>,
    pub(crate) crawl: Option<&'t Val<'i>>,
    /// The fleet's `[vantage]`: a site without its own takes it whole.
    pub(crate) vantage: Option<&'t Val<'i>>,
}

/// The keys of a fleet file's inline `[[site]]` besides a scenario file's `[site]` keys.
pub(crate) const INLINE_SITE_TABLES: &[&str] = &["browser", "cmp", "run", "vantage"];

/// [`check_source`] for a site of a fleet: the fleet's defaults are grafted into the
/// file's tree where the file leaves them out (`[browser]` key by key, `[cmp]` and
/// `[run]` whole, `[site] crawl` key by key), so every check runs as for a lone file and
/// every diagnostic about a default names the fleet file's line.
pub(crate) fn check_source_over(
    path: &Path,
    src: &str,
    env: Env<'_>,
    defaults: Option<&Defaults<'_, '_>>,
) -> (Option<ScenarioFile>, Option<PolicyRef>, Diagnostics) {
    let mut ck = Checker::new(path, src, Some(env));
    let Some(mut doc) = ck.parse() else {
        return (None, None, ck.into_diagnostics());
    };
    if let Some(d) = defaults {
        let by = ck.mount(d.file, d.src);
        graft(doc.get_mut(), d, by);
    }
    let (file, policy, secrets) = check_file(&mut ck, path, &doc);
    let file = file.filter(|_| !ck.has_errors());
    let mut diags = ck.into_diagnostics();
    // A message may quote an interpolated value (an invalid URL carrying a token).
    secrets.redact_diagnostics(&mut diags);
    (file, policy, diags)
}

/// A fleet's inline `[[site]]` (`t`, read by `ck`, the fleet file's checker), checked
/// as the scenario file it stands for: its `[site]` keys as `[site]`, its `browser`,
/// `cmp` and `run` as those tables, the fleet's defaults grafted in.
pub(crate) fn check_inline_site(
    ck: &mut Checker<'_>,
    path: &Path,
    t: &DeTable<'_>,
    defaults: &Defaults<'_, '_>,
    span: std::ops::Range<usize>,
) -> (Option<ScenarioFile>, Option<PolicyRef>, Secrets) {
    let mut site = DeTable::new();
    let mut root = DeTable::new();
    // Keys of neither kind were reported with the `[[site]]` already.
    for (k, v) in t.iter() {
        let key: &str = k.get_ref();
        if INLINE_SITE_TABLES.contains(&key) {
            root.insert(k.clone(), v.clone());
        } else if SITE_KEYS.contains(&key) {
            site.insert(k.clone(), v.clone());
        }
    }
    root.insert(
        Spanned::new(span.clone(), "site".into()),
        Spanned::new(span.clone(), toml::de::DeValue::Table(site)),
    );
    graft(&mut root, defaults, 0);
    let doc = Spanned::new(span, root);
    check_file(ck, path, &doc)
}

/// Check a fleet file's defaults on their own (`ck` is the fleet file's checker): what
/// is wrong with them whatever the site — a bad duration, an unknown key, a selector
/// that does not parse — is reported once here. What depends on the site (a `[run]`
/// entry naming a custom scenario) is reported by each site's check.
pub(crate) fn check_defaults(ck: &mut Checker<'_>, path: &Path, d: &Defaults<'_, '_>) {
    if let Some(t) = d
        .browser
        .and_then(|v| ck.table(v, "[browser]", browser::BROWSER_KEYS))
    {
        browser::check_browser(ck, &t);
    }
    if let Some(t) = d.cmp.and_then(|v| ck.table(v, "[cmp]", cmp::CMP_KEYS)) {
        cmp::check_cmp(ck, &t, path);
    }
    if let Some(t) = d
        .vantage
        .and_then(|v| ck.table(v, "[vantage]", vantage::VANTAGE_KEYS))
    {
        vantage::check_vantage(ck, &t);
    }
    if let Some(t) = d.run.and_then(|v| ck.table(v, "[run]", RUN_KEYS)) {
        if let Some(v) = t.get("scenarios") {
            ck.strings(v, "`scenarios` in [run]");
        }
    }
}

/// Graft a fleet's defaults into a site's tree, their spans moved by `by`
/// ([`Checker::mount`]).
fn graft<'i>(root: &mut DeTable<'i>, d: &Defaults<'_, 'i>, by: usize) {
    use crate::toml_check::shifted;
    for (key, value) in [("cmp", d.cmp), ("run", d.run), ("vantage", d.vantage)] {
        if let Some(v) = value.filter(|_| !root.contains_key(key)) {
            root.insert(
                Spanned::new(shifted(v, by).span(), key.into()),
                shifted(v, by),
            );
        }
    }
    if let Some(fleet) = d.browser {
        merge_keys(root, "browser", fleet, by);
    }
    if let Some(fleet) = d.crawl {
        if let Some(toml::de::DeValue::Table(site)) = root.get_mut("site").map(|v| v.get_mut()) {
            // `crawl = false` keeps discovery off whatever the fleet says; `true` or a
            // table takes the fleet's settings where it is silent.
            match site.get("crawl").map(|v| v.get_ref()) {
                Some(toml::de::DeValue::Boolean(false)) => {}
                Some(toml::de::DeValue::Boolean(true)) => {
                    site.remove("crawl");
                    merge_keys(site, "crawl", fleet, by);
                }
                _ => merge_keys(site, "crawl", fleet, by),
            }
        }
    }
}

/// `parent.key` gets every key of the fleet's table `fleet` it does not set itself
/// (the whole table when it has none). A value of another type is left to the checks.
fn merge_keys<'i>(parent: &mut DeTable<'i>, key: &str, fleet: &Val<'i>, by: usize) {
    use crate::toml_check::shifted;
    let grafted = shifted(fleet, by);
    match parent.get_mut(key).map(|v| v.get_mut()) {
        None => {
            parent.insert(
                Spanned::new(grafted.span(), key.to_string().into()),
                grafted,
            );
        }
        Some(toml::de::DeValue::Table(own)) => {
            if let toml::de::DeValue::Table(theirs) = grafted.into_inner() {
                for (k, v) in theirs {
                    if !own.contains_key(k.get_ref().as_ref()) {
                        own.insert(k, v);
                    }
                }
            }
        }
        Some(_) => {}
    }
}

fn check_file(
    ck: &mut Checker<'_>,
    path: &Path,
    doc: &Spanned<DeTable<'_>>,
) -> (Option<ScenarioFile>, Option<PolicyRef>, Secrets) {
    let root = ck.root(doc, TOP_KEYS);
    let site = match ck.table_at(&root, "site", SITE_KEYS) {
        Some(t) => site::check_site(ck, path, &t),
        None => {
            if root.get("site").is_none() {
                ck.error(
                    &root.span,
                    "missing [site] table",
                    "add [site] with name, base_url and policy (see docs/scenarios.md)",
                );
            }
            site::SiteParts::default()
        }
    };
    let base = site.base_url.as_ref();
    let first_page = site.site.as_ref().and_then(|s| s.pages.first().cloned());
    let first = first_page.as_ref();
    let cmp = ck
        .table_at(&root, "cmp", cmp::CMP_KEYS)
        .map(|t| cmp::check_cmp(ck, &t, path));
    let mut browser = match ck.table_at(&root, "browser", browser::BROWSER_KEYS) {
        Some(t) => browser::check_browser(ck, &t),
        None => BrowserOptions::default(),
    };
    let mut secrets = site.secrets.clone();
    if let Some(t) = ck.table_at(&root, "vantage", vantage::VANTAGE_KEYS) {
        let v = vantage::check_vantage(ck, &t);
        browser.vantage = v.vantage;
        browser.proxy_auth = v.proxy_auth;
        secrets.merge(crate::secrets::Secrets::new(v.secrets));
    }
    let mut ids = Ids::new("scenario id");
    let customs: Vec<steps::Custom> = ck
        .tables_at(&root, "scenario", SCENARIO_KEYS)
        .iter()
        .filter_map(|t| steps::check_scenario(ck, t, base, cmp.as_ref(), &mut ids))
        .collect();
    let scenarios = match ck.table_at(&root, "run", RUN_KEYS) {
        Some(t) => run::run_list(ck, &t, &customs, cmp.as_ref(), first),
        None if root.get("run").is_some() => Vec::new(),
        None => run::default_list(ck, &customs, cmp.as_ref(), first),
    };
    let login = match ck.table_at(&root, "login", login::LOGIN_KEYS) {
        Some(t) => login::check_login(ck, &t, base, &site.secret_names).map(Some),
        None => Some(None),
    };
    let file = match (site.site, site.policy.clone(), login) {
        (Some(site), Some(policy), Some(login)) => Some(ScenarioFile {
            path: path.to_path_buf(),
            site: Site {
                secrets: secrets.clone(),
                ..site
            },
            browser,
            scenarios,
            policy,
            digest: String::new(),
            login,
        }),
        _ => None,
    };
    (file, site.policy, secrets)
}
