//! Reading a fleet file (docs/fleet.md): `[fleet]`, the defaults (`[browser]`, `[cmp]`,
//! `[run]`, `[crawl]`) and the `[[site]]` list, each site a scenario file or inline.
//!
//! Every site is checked as the scenario file it stands for, with the fleet's defaults
//! grafted in (`scenario::load::check_source_over`), so the rules are the scenario
//! file's, once. Every problem of every file is reported at once; a problem a default
//! causes for some sites only is reported at the fleet file's line, naming them.

use super::{
    FleetSite, FleetSpec, InvalidSite, SiteLimits, MAX_PAGE_DELAY, MAX_PER_SITE, MAX_REPEAT,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::scenario::load::{
    check_defaults, check_inline_site, check_source_over, merge_policy_diagnostics, Defaults,
    PolicyRef, ScenarioFile, INLINE_SITE_TABLES, SITE_KEYS,
};
use crate::toml_check::{digest, read_source, Checker, Env, Val};
use std::collections::BTreeMap;
use std::path::Path;
use toml::de::DeValue;

pub(crate) const TOP_KEYS: &[&str] =
    &["fleet", "browser", "cmp", "run", "crawl", "vantage", "site"];
pub(crate) const FLEET_KEYS: &[&str] = &[
    "name",
    "database",
    "reports",
    "per_site",
    "page_delay",
    "repeat",
    "notify",
];

/// Is `src` a fleet file (a top-level `[fleet]` table)? Unparsable text is not.
pub fn is_fleet_source(src: &str) -> bool {
    toml::de::DeTable::parse(src).is_ok_and(|doc| doc.get_ref().contains_key("fleet"))
}

/// Read and validate a fleet file and every file it names, every problem at once. `Err`
/// when the fleet file itself is wrong (or no site is valid); otherwise the valid sites,
/// the invalid ones in [`FleetSpec::invalid`], and every diagnostic (their errors
/// included). Acknowledgements are loaded per site by the caller.
pub fn load_fleet(path: &Path, env: Env<'_>) -> Result<(FleetSpec, Diagnostics), Diagnostics> {
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut ck = Checker::new(path, &src, Some(env));
    let Some(doc) = ck.parse() else {
        return Err(ck.into_diagnostics());
    };
    let root = ck.root(&doc, TOP_KEYS);
    let fleet = ck.table_at(&root, "fleet", FLEET_KEYS);
    if fleet.is_none() && root.get("fleet").is_none() {
        ck.error(
            &root.span,
            "missing [fleet] table",
            "add [fleet] with a name",
        );
    }
    let mut name = None;
    let (mut database, mut reports) = (None, None);
    let mut limits = SiteLimits::default();
    let mut notify = Vec::new();
    if let Some(t) = &fleet {
        name = ck
            .req_string(t, "name", "\"my-agency\"")
            .map(|n| n.into_inner());
        database = ck
            .opt_string(t, "database")
            .map(|s| resolve_database(dir, s.get_ref()));
        reports = ck.opt_string(t, "reports").map(|s| dir.join(s.get_ref()));
        if let Some(n) = ck.opt_int(t, "per_site") {
            match usize::try_from(*n.get_ref()) {
                Ok(v) if (1..=MAX_PER_SITE).contains(n.get_ref()) => limits.per_site = v,
                _ => ck.error(
                    &n.span(),
                    format!("`per_site` must be between 1 and {MAX_PER_SITE}"),
                    "the most visits of one site at once; 1 is the polite default",
                ),
            }
        }
        if let Some(n) = ck.opt_int(t, "repeat") {
            match u32::try_from(*n.get_ref()) {
                Ok(v) if (1..=MAX_REPEAT).contains(n.get_ref()) => limits.repeat = v,
                _ => ck.error(
                    &n.span(),
                    format!("`repeat` must be between 1 and {MAX_REPEAT}"),
                    "how many times each scenario is visited, each in a fresh browser context; 1 is the default",
                ),
            }
        }
        if let Some(d) = ck.opt_duration(t, "page_delay", MAX_PAGE_DELAY) {
            limits.page_delay = d;
        }
        // Alert targets (docs/alerts.md); `${VAR}` keeps a webhook's URL out of the file,
        // and no message repeats the URL (it is often the webhook's credential).
        for url in ck.opt_strings(t, "notify").unwrap_or_default() {
            match crate::notify::Target::parse(url.get_ref()) {
                Ok(target) => notify.push(target),
                Err(e) => ck.error(
                    &url.span(),
                    format!("`notify`: {e}"),
                    "an https:// URL (generic, signed JSON) or slack+https:// (Slack's shape); docs/alerts.md",
                ),
            }
        }
    }
    let defaults = Defaults {
        file: path,
        src: &src,
        browser: root.get("browser"),
        cmp: root.get("cmp"),
        run: root.get("run"),
        crawl: root.get("crawl"),
        vantage: root.get("vantage"),
    };
    check_defaults(&mut ck, path, &defaults);

    let entries = site_entries(&mut ck, root.get("site"));
    if entries.is_empty()
        && root
            .get("site")
            .is_some_and(|v| v.get_ref().as_array().is_some())
    {
        ck.error(
            &root.span,
            "the fleet lists no sites",
            "add a [[site]] with `file = \"client.toml\"`, or an inline site",
        );
    } else if root.get("site").is_none() {
        ck.error(
            &root.span,
            "missing [[site]] list",
            "add a [[site]] per site: `file = \"client.toml\"`, or name, base_url and policy",
        );
    }

    let mut sites = Vec::new();
    let mut invalid = Vec::new();
    let mut per_site: Vec<SiteDiagnostics> = Vec::new();
    for entry in &entries {
        let (loaded, label, own, diags) = match entry {
            Entry::File { file, span } => {
                let site_path = dir.join(file);
                let label = file.clone();
                let own = Some((ck.line(span), ck.line(span)));
                let (loaded, diags) = load_site_file(&site_path, &src, &defaults, env);
                let loaded = loaded.map(|spec| (spec, site_path.display().to_string()));
                (loaded, label, own, diags)
            }
            Entry::Inline { table, span } => {
                let label = inline_name(table).unwrap_or_else(|| "(unnamed)".into());
                let mut site_ck = Checker::new(path, &src, Some(env));
                let (file, policy, secrets) =
                    check_inline_site(&mut site_ck, path, table, &defaults, span.clone());
                let own = Some(lines_of(&ck, table, span));
                let mut diags = site_ck.into_diagnostics();
                secrets.redact_diagnostics(&mut diags);
                let file = file.filter(|_| !diags.has_errors()).map(|f| ScenarioFile {
                    digest: digest(src.as_bytes()),
                    ..f
                });
                let (spec, diags) = with_policy(file, policy, diags, path);
                let loaded = spec.map(|s| (s, format!("{}#{}", path.display(), label)));
                (loaded, label, own, diags)
            }
        };
        let shown = match entry {
            Entry::File { file, .. } => dir.join(file).display().to_string(),
            Entry::Inline { .. } => format!("{}#{}", path.display(), label),
        };
        match loaded {
            Some((spec, shown)) => sites.push((entry.span(), spec, shown)),
            None => invalid.push(InvalidSite {
                label: label.clone(),
                scenario_file: shown,
                errors: diags.errors().max(1),
            }),
        }
        per_site.push((label, own, diags));
    }
    // Two sites of one name would share their history.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (span, spec, _) in &sites {
        let line = ck.line(span);
        if let Some(first) = seen.insert(spec.site.name.clone(), line) {
            ck.error(
                span,
                format!("site name `{}` is used twice in the fleet", spec.site.name),
                format!("first at line {first}; each site needs its own name, or its runs would share one history"),
            );
            seen.insert(spec.site.name.clone(), first);
        }
    }

    // What is wrong with the fleet file itself stops the run; what is wrong with one
    // site's files (or with a default for that site) stops only that site.
    let mut diags = ck.into_diagnostics();
    let fleet_errors = diags.has_errors();
    let site_count = entries.len();
    merge_site_diagnostics(&mut diags, path, per_site, site_count);
    if fleet_errors || name.is_none() || sites.is_empty() {
        return Err(diags);
    }
    let spec = FleetSpec {
        path: Some(path.to_path_buf()),
        name: name.unwrap_or_default(),
        database,
        reports,
        limits,
        notify,
        sites: sites
            .into_iter()
            .map(|(_, spec, scenario_file)| FleetSite {
                spec,
                scenario_file,
                acks: Default::default(),
            })
            .collect(),
        invalid,
    };
    Ok((spec, diags))
}

/// A site's diagnostics: its label, the fleet file lines of its own `[[site]]` (first
/// and last), and what its check reported.
type SiteDiagnostics = (String, Option<(usize, usize)>, Diagnostics);

/// One `[[site]]`: a scenario file, or a site written inline.
enum Entry<'t, 'i> {
    File {
        file: String,
        span: std::ops::Range<usize>,
    },
    Inline {
        table: &'t toml::de::DeTable<'i>,
        span: std::ops::Range<usize>,
    },
}

impl Entry<'_, '_> {
    fn span(&self) -> std::ops::Range<usize> {
        match self {
            Entry::File { span, .. } | Entry::Inline { span, .. } => span.clone(),
        }
    }
}

fn site_entries<'t, 'i>(ck: &mut Checker<'_>, v: Option<&'t Val<'i>>) -> Vec<Entry<'t, 'i>> {
    let Some(v) = v else { return Vec::new() };
    let Some(items) = v.get_ref().as_array() else {
        ck.error(
            &v.span(),
            "`site` in a fleet file must be a list of [[site]] tables",
            "write each site under its own [[site]] header",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let DeValue::Table(table) = item.get_ref() else {
            ck.error(
                &item.span(),
                format!(
                    "a [[site]] must be a table, found {}",
                    item.get_ref().type_str()
                ),
                "write each site under its own [[site]] header",
            );
            continue;
        };
        match table.get("file") {
            Some(f) => {
                for (k, _) in table.iter().filter(|(k, _)| k.get_ref() != "file") {
                    ck.error(
                        &k.span(),
                        format!("`{}` beside `file` in a [[site]]", k.get_ref()),
                        "a site with `file` takes everything from that scenario file: move the key there, or drop `file` and write the site inline",
                    );
                }
                if let Some(file) = ck.string(f, "`file` in [[site]]") {
                    out.push(Entry::File {
                        file: file.into_inner(),
                        span: item.span(),
                    });
                }
            }
            None => {
                let mut known: Vec<&str> = SITE_KEYS.to_vec();
                known.extend(INLINE_SITE_TABLES);
                known.push("file");
                for (k, _) in table.iter() {
                    let key: &str = k.get_ref();
                    if !known.contains(&key) {
                        let hint = match crate::toml_check::did_you_mean(key, known.iter().copied())
                        {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("valid keys in [[site]]: {}", known.join(", ")),
                        };
                        ck.error(&k.span(), format!("unknown key `{key}` in [[site]]"), hint);
                    }
                }
                out.push(Entry::Inline {
                    table,
                    span: item.span(),
                });
            }
        }
    }
    out
}

/// The first and last line of an inline `[[site]]` (its header, its last value).
fn lines_of(
    ck: &Checker<'_>,
    table: &toml::de::DeTable<'_>,
    span: &std::ops::Range<usize>,
) -> (usize, usize) {
    let last = table
        .iter()
        .map(|(_, v)| v.span().end.saturating_sub(1))
        .chain(std::iter::once(span.start))
        .max()
        .unwrap_or(span.start);
    (ck.line(span), ck.line(&(last..last + 1)))
}

fn inline_name(t: &toml::de::DeTable<'_>) -> Option<String> {
    t.get("name")
        .and_then(|v| v.get_ref().as_str())
        .map(str::to_string)
}

/// A site's scenario file with the fleet's defaults grafted in, and its declared map.
fn load_site_file(
    site_path: &Path,
    fleet_src: &str,
    defaults: &Defaults<'_, '_>,
    env: Env<'_>,
) -> (Option<crate::scenario::AuditSpec>, Diagnostics) {
    let src = match read_source(site_path) {
        Ok(src) => src,
        Err(d) => return (None, Diagnostics(vec![d])),
    };
    let (file, policy, diags) = check_source_over(site_path, &src, env, Some(defaults));
    // The site is what its own file and the fleet's defaults make it: both digests.
    let both = format!("{}{}", digest(src.as_bytes()), digest(fleet_src.as_bytes()));
    let file = file.map(|f| ScenarioFile {
        digest: digest(both.as_bytes()),
        ..f
    });
    with_policy(file, policy, diags, site_path)
}

fn with_policy(
    file: Option<ScenarioFile>,
    policy: Option<PolicyRef>,
    mut diags: Diagnostics,
    path: &Path,
) -> (Option<crate::scenario::AuditSpec>, Diagnostics) {
    let policy = policy.and_then(|r| {
        let (policy, d) = r.load();
        merge_policy_diagnostics(&mut diags, path, d);
        policy
    });
    let mut file = file;
    if let (Some(file), Some(policy)) = (&mut file, &policy) {
        diags.0.extend(file.resolve_grants(policy));
    }
    match (file, policy) {
        (Some(file), Some(policy)) if !diags.has_errors() => {
            (Some(file.with_policy(policy)), diags)
        }
        _ => (None, diags),
    }
}

/// Add each site's diagnostics to the fleet file's own. A diagnostic about the fleet
/// file that its own check already gave is dropped; one a default causes for some sites
/// (outside the site's own `[[site]]` lines) is given once, naming them ("for every
/// site" when it is all of them).
fn merge_site_diagnostics(
    own: &mut Diagnostics,
    fleet: &Path,
    per_site: Vec<SiteDiagnostics>,
    site_count: usize,
) {
    type Key = (usize, usize, String);
    let known: std::collections::HashSet<Key> = own
        .0
        .iter()
        .map(|d| (d.line, d.col, d.message.clone()))
        .collect();
    let mut caused: BTreeMap<Key, (Diagnostic, Vec<String>)> = BTreeMap::new();
    let mut other: Vec<Diagnostic> = Vec::new();
    for (label, lines, diags) in per_site {
        for d in diags.0 {
            if d.file != fleet {
                other.push(d);
                continue;
            }
            let key = (d.line, d.col, d.message.clone());
            if known.contains(&key) {
                continue;
            }
            let inside = lines.is_some_and(|(a, b)| (a..=b).contains(&d.line));
            if inside {
                if !other.iter().any(|o| o == &d) && !own.0.contains(&d) {
                    own.0.push(d);
                }
                continue;
            }
            caused
                .entry(key)
                .or_insert_with(|| (d, Vec::new()))
                .1
                .push(label.clone());
        }
    }
    for (_, (mut d, sites)) in caused {
        let who = if sites.len() == site_count && site_count > 1 {
            "for every site".to_string()
        } else {
            format!("for site {}", sites.join(", "))
        };
        d.message = format!("{} ({who})", d.message);
        own.0.push(d);
    }
    own.0.sort_by_key(|d| (d.line, d.col));
    own.0.extend(other);
}

/// `[fleet] database`: a file path relative to the fleet file's directory, or a URL
/// (`postgres://…`; any `scheme://`, which the CLI checks) kept as written.
pub(super) fn resolve_database(dir: &std::path::Path, value: &str) -> std::path::PathBuf {
    if value.contains("://") {
        std::path::PathBuf::from(value)
    } else {
        dir.join(value)
    }
}
