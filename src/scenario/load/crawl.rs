//! `[site] crawl`: page discovery's settings (docs/crawl.md), and the fleet file's
//! `[crawl]` defaults they are merged over, key by key.
//!
//! `crawl = true` turns discovery on with the defaults (the fleet's, else the built-in
//! ones), `crawl = false` turns it off (even when the fleet's defaults turn it on), and
//! `crawl = { max_pages = 30, ... }` turns it on with these keys over the defaults.

use crate::crawl::{CrawlSettings, PathPattern, Robots};
use crate::toml_check::{Checker, Table, Val};
use toml::Spanned;

pub const CRAWL_KEYS: &[&str] = &[
    "max_pages",
    "per_template",
    "max_depth",
    "sitemaps",
    "include",
    "exclude",
    "robots",
];

/// Bounds of the numbers (docs/crawl.md#settings).
pub const MAX_PAGES: i64 = 1000;
pub const MAX_PER_TEMPLATE: i64 = 100;
pub const MAX_DEPTH: i64 = 10;

/// Crawl settings as one file wrote them: `on` (`true`, `false`, or a table, which is
/// on), and the keys it gave. Merged over defaults with [`PartialCrawl::over`], made
/// whole with [`PartialCrawl::settings`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialCrawl {
    /// `Some(false)`: `crawl = false`; `Some(true)`: `true` or a table; `None`: not said.
    pub on: Option<bool>,
    pub max_pages: Option<usize>,
    pub per_template: Option<usize>,
    pub max_depth: Option<u32>,
    pub sitemaps: Option<bool>,
    pub include: Option<Vec<PathPattern>>,
    pub exclude: Option<Vec<PathPattern>>,
    pub robots: Option<Robots>,
}

impl PartialCrawl {
    /// These settings over `defaults` (a fleet's `[crawl]`), key by key: a key given
    /// here wins; `on` too (a site's `crawl = false` turns off the fleet's crawl).
    pub fn over(self, defaults: &PartialCrawl) -> PartialCrawl {
        let d = defaults.clone();
        PartialCrawl {
            on: self.on.or(d.on),
            max_pages: self.max_pages.or(d.max_pages),
            per_template: self.per_template.or(d.per_template),
            max_depth: self.max_depth.or(d.max_depth),
            sitemaps: self.sitemaps.or(d.sitemaps),
            include: self.include.or(d.include),
            exclude: self.exclude.or(d.exclude),
            robots: self.robots.or(d.robots),
        }
    }

    /// The settings, when discovery is on: the keys given over the built-in defaults.
    pub fn settings(&self) -> Option<CrawlSettings> {
        if self.on != Some(true) {
            return None;
        }
        let d = CrawlSettings::default();
        let p = self.clone();
        Some(CrawlSettings {
            max_pages: p.max_pages.unwrap_or(d.max_pages),
            per_template: p.per_template.unwrap_or(d.per_template),
            max_depth: p.max_depth.unwrap_or(d.max_depth),
            sitemaps: p.sitemaps.unwrap_or(d.sitemaps),
            include: p.include.unwrap_or(d.include),
            exclude: p.exclude.unwrap_or(d.exclude),
            robots: p.robots.unwrap_or(d.robots),
        })
    }
}

/// `crawl = true | false | { ... }` in a site, where `what` names it for messages
/// (`` `crawl` in [site] ``). Every problem is reported; `None` when the value is not a
/// boolean or a table.
pub fn check_crawl(ck: &mut Checker<'_>, v: &Val<'_>, what: &str) -> Option<PartialCrawl> {
    if let Some(on) = v.get_ref().as_bool() {
        return Some(PartialCrawl {
            on: Some(on),
            ..PartialCrawl::default()
        });
    }
    if v.get_ref().as_table().is_none() {
        ck.error(
            &v.span(),
            format!("{what} must be true, false or a table, found {}", v.get_ref().type_str()),
            "write crawl = true for the defaults, or crawl = { max_pages = 20, per_template = 3 } (see docs/crawl.md)",
        );
        return None;
    }
    let t = ck.table(v, what, CRAWL_KEYS)?;
    Some(check_crawl_table(ck, &t))
}

/// The keys of a crawl table: a site's `crawl = { ... }`, or a fleet file's `[crawl]`
/// defaults (read it with `ck.table_at(&root, "crawl", CRAWL_KEYS)`). The table turns
/// discovery on.
pub fn check_crawl_table(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> PartialCrawl {
    PartialCrawl {
        on: Some(true),
        max_pages: bounded(ck, t, "max_pages", 1..=MAX_PAGES),
        per_template: bounded(ck, t, "per_template", 1..=MAX_PER_TEMPLATE),
        max_depth: bounded(ck, t, "max_depth", 0..=MAX_DEPTH).and_then(|n| u32::try_from(n).ok()),
        sitemaps: ck.opt_bool(t, "sitemaps"),
        include: patterns(ck, t, "include"),
        exclude: patterns(ck, t, "exclude"),
        robots: t.get("robots").and_then(|v| robots(ck, v, &t.name)),
    }
}

fn bounded(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Option<usize> {
    let n = ck.opt_int(t, key)?;
    if !range.contains(n.get_ref()) {
        ck.error(
            &n.span(),
            format!(
                "`{key}` in {} is {}, out of range ({} to {})",
                t.name,
                n.get_ref(),
                range.start(),
                range.end()
            ),
            format!(
                "give a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        );
        return None;
    }
    usize::try_from(*n.get_ref()).ok()
}

/// Path patterns: each starts with `/` or `*` (they are matched against the path and
/// query, docs/crawl.md#include-and-exclude).
fn patterns(ck: &mut Checker<'_>, t: &Table<'_, '_>, key: &str) -> Option<Vec<PathPattern>> {
    let list = ck.opt_strings(t, key)?;
    let mut out = Vec::new();
    for p in list {
        if check_pattern(ck, &p, key) {
            out.push(PathPattern(p.into_inner()));
        }
    }
    Some(out)
}

fn check_pattern(ck: &mut Checker<'_>, p: &Spanned<String>, key: &str) -> bool {
    let s = p.get_ref();
    let problem = if s.is_empty() {
        Some(format!("an empty pattern in `{key}`"))
    } else if s.contains("://") {
        Some(format!("the pattern {s:?} in `{key}` is a URL, not a path"))
    } else if !(s.starts_with('/') || s.starts_with('*')) {
        Some(format!(
            "the pattern {s:?} in `{key}` does not start with `/` or `*`"
        ))
    } else if s.contains('#') {
        Some(format!(
            "the pattern {s:?} in `{key}` has a fragment (`#`), which pages are never matched with"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => {
            ck.error(
                &p.span(),
                message,
                "write a path pattern such as \"/blog/*\" or \"*?preview=*\": `*` matches any characters, and the pattern must match the whole path and query",
            );
            false
        }
        None => true,
    }
}

/// `robots = "honour"` or `robots = { ignore = "the reason" }`.
fn robots(ck: &mut Checker<'_>, v: &Val<'_>, table: &str) -> Option<Robots> {
    let what = format!("`robots` in {table}");
    let hint = "write robots = \"honour\" (the default), or robots = { ignore = \"why this site's robots.txt does not apply\" }";
    if let Some(s) = v.get_ref().as_str() {
        let s = Spanned::new(v.span(), s.to_string());
        return match s.get_ref().as_str() {
            "honour" => Some(Robots::Honour),
            "ignore" => {
                ck.error(
                    &s.span(),
                    format!("{what} = \"ignore\" needs a reason"),
                    hint,
                );
                None
            }
            _ => {
                ck.one_of(&s, &format!("value of {what}"), &["honour"]);
                None
            }
        };
    }
    if v.get_ref().as_table().is_none() {
        ck.error(
            &v.span(),
            format!(
                "{what} must be a string or a table, found {}",
                v.get_ref().type_str()
            ),
            hint,
        );
        return None;
    }
    let t = ck.table(v, &what, &["ignore"])?;
    let Some(reason) = t.get("ignore") else {
        ck.missing(&t, "ignore", "\"the reason\"");
        return None;
    };
    let reason = ck.string(reason, &format!("`ignore` in {what}"))?;
    if reason.get_ref().trim().is_empty() {
        ck.error(
            &reason.span(),
            format!("the reason to ignore robots.txt in {what} is empty"),
            "say why robots.txt does not apply (e.g. \"our own site; robots.txt keeps search engines out of staging\")",
        );
        return None;
    }
    Some(Robots::Ignore {
        reason: reason.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::scenario::load::{parse_audit_file, ScenarioFile};
    use std::path::Path;

    fn parse(src: &str) -> (Option<ScenarioFile>, Diagnostics) {
        parse_audit_file(Path::new("s.toml"), src, &|_| None)
    }

    fn positions(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
            .collect()
    }

    fn site(crawl: &str) -> String {
        format!("[site]\nname = \"s\"\nbase_url = \"https://www.example.com/\"\npolicy = \"p.toml\"\n{crawl}\n")
    }

    #[test]
    fn off_unless_asked_true_for_the_defaults() {
        let (f, d) = parse(&site(""));
        assert!(d.0.is_empty(), "{d}");
        assert_eq!(f.unwrap().site.crawl, None);
        let (f, _) = parse(&site("crawl = false"));
        assert_eq!(f.unwrap().site.crawl, None);
        let (f, d) = parse(&site("crawl = true"));
        assert!(d.0.is_empty(), "{d}");
        assert_eq!(f.unwrap().site.crawl, Some(CrawlSettings::default()));
    }

    #[test]
    fn a_table_sets_keys_over_the_defaults() {
        let (f, d) = parse(&site(
            "crawl = { max_pages = 50, per_template = 2, max_depth = 0, sitemaps = false, include = [\"/shop/*\"], exclude = [\"*?preview=*\"], robots = { ignore = \"our staging site\" } }",
        ));
        assert!(d.0.is_empty(), "{d}");
        let c = f.unwrap().site.crawl.unwrap();
        assert_eq!(
            c,
            CrawlSettings {
                max_pages: 50,
                per_template: 2,
                max_depth: 0,
                sitemaps: false,
                include: vec![PathPattern("/shop/*".into())],
                exclude: vec![PathPattern("*?preview=*".into())],
                robots: Robots::Ignore {
                    reason: "our staging site".into()
                },
            }
        );
        let (f, _) = parse(&site("[site.crawl]\nmax_pages = 7\nrobots = \"honour\""));
        let c = f.unwrap().site.crawl.unwrap();
        assert_eq!(
            (c.max_pages, c.per_template, c.robots),
            (7, 3, Robots::Honour)
        );
    }

    #[test]
    fn every_problem_at_once_with_its_place() {
        let (f, d) = parse(&site(
            "crawl = { max_page = 5, per_template = 0, max_depth = 99, sitemaps = \"yes\", include = [\"blog/*\", \"\", \"https://x.test/\"], exclude = [\"/a#b\", 3], robots = \"ignore\" }",
        ));
        assert!(f.is_none());
        assert_eq!(
            positions(&d),
            [
                "5:11 unknown key `max_page` in `crawl` in [site]",
                "5:40 `per_template` in `crawl` in [site] is 0, out of range (1 to 100)",
                "5:55 `max_depth` in `crawl` in [site] is 99, out of range (0 to 10)",
                "5:70 `sitemaps` in `crawl` in [site] must be a boolean, found string",
                "5:88 the pattern \"blog/*\" in `include` does not start with `/` or `*`",
                "5:98 an empty pattern in `include`",
                "5:102 the pattern \"https://x.test/\" in `include` is a URL, not a path",
                "5:133 the pattern \"/a#b\" in `exclude` has a fragment (`#`), which pages are never matched with",
                "5:141 each element of `exclude` in `crawl` in [site] must be a string, found integer",
                "5:154 `robots` in `crawl` in [site] = \"ignore\" needs a reason",
            ]
        );
        assert_eq!(d.0[0].hint.as_deref(), Some("did you mean `max_pages`?"));
    }

    #[test]
    fn robots_values() {
        let (_, d) = parse(&site("crawl = { robots = \"honor\" }"));
        assert_eq!(
            positions(&d),
            ["5:20 unknown value of `robots` in `crawl` in [site] `honor`"]
        );
        let (_, d) = parse(&site("crawl = { robots = { ignore = \"  \" } }"));
        assert_eq!(
            positions(&d),
            ["5:31 the reason to ignore robots.txt in `robots` in `crawl` in [site] is empty"]
        );
        let (_, d) = parse(&site("crawl = { robots = { ignor = \"x\" } }"));
        assert_eq!(
            positions(&d),
            [
                "5:20 missing required key `ignore` in `robots` in `crawl` in [site]",
                "5:22 unknown key `ignor` in `robots` in `crawl` in [site]",
            ]
        );
        let (_, d) = parse(&site("crawl = 20"));
        assert_eq!(
            positions(&d),
            ["5:9 `crawl` in [site] must be true, false or a table, found integer"]
        );
    }

    #[test]
    fn a_site_merges_over_fleet_defaults_key_by_key() {
        let fleet = PartialCrawl {
            on: Some(true),
            max_pages: Some(40),
            per_template: Some(5),
            robots: Some(Robots::Ignore {
                reason: "agency staging".into(),
            }),
            ..PartialCrawl::default()
        };
        let site = PartialCrawl {
            on: Some(true),
            max_pages: Some(10),
            ..PartialCrawl::default()
        };
        let c = site.over(&fleet).settings().unwrap();
        assert_eq!((c.max_pages, c.per_template, c.max_depth), (10, 5, 2));
        assert!(!c.honours_robots());
        // Not said: the fleet's; `crawl = false`: off; no fleet crawl: off.
        assert_eq!(
            PartialCrawl::default()
                .over(&fleet)
                .settings()
                .unwrap()
                .max_pages,
            40
        );
        let off = PartialCrawl {
            on: Some(false),
            ..PartialCrawl::default()
        };
        assert_eq!(off.over(&fleet).settings(), None);
        assert_eq!(
            PartialCrawl::default()
                .over(&PartialCrawl::default())
                .settings(),
            None
        );
    }

    #[test]
    fn a_fleet_crawl_table_is_checked_the_same_way() {
        let src = "[crawl]\nmax_pages = 0\nper_template = 4\n";
        let mut ck = Checker::new(Path::new("fleet.toml"), src, None);
        let doc = ck.parse().unwrap();
        let root = ck.root(&doc, &["crawl"]);
        let t = ck.table_at(&root, "crawl", CRAWL_KEYS).unwrap();
        let p = check_crawl_table(&mut ck, &t);
        assert_eq!(
            (p.on, p.max_pages, p.per_template),
            (Some(true), None, Some(4))
        );
        assert_eq!(
            positions(&ck.into_diagnostics()),
            ["2:13 `max_pages` in [crawl] is 0, out of range (1 to 1000)"]
        );
    }
}

#[cfg(test)]
mod fleet_tests {
    //! A fleet file's `[crawl]` defaults, grafted into each site key by key.

    use crate::crawl::Robots;
    use crate::fleet::load::load_fleet;

    const POLICY: &str =
        "[[purpose]]\nid = \"analytics\"\nname = \"Analytics\"\nbasis = \"consent\"\n";

    fn fleet(crawl: &str, sites: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.policy.toml"), POLICY).unwrap();
        let mut f = format!("[fleet]\nname = \"agency\"\n\n{crawl}\n");
        for (name, extra) in sites {
            std::fs::write(
                dir.path().join(format!("{name}.toml")),
                format!("[site]\nname = \"{name}\"\nbase_url = \"https://www.{name}.test/\"\npolicy = \"p.policy.toml\"\n{extra}\n"),
            )
            .unwrap();
            f.push_str(&format!("[[site]]\nfile = \"{name}.toml\"\n"));
        }
        let path = dir.path().join("fleet.toml");
        std::fs::write(&path, f).unwrap();
        (dir, path)
    }

    #[test]
    fn sites_take_the_fleet_crawl_key_by_key_and_may_opt_out() {
        let (_dir, path) = fleet(
            "[crawl]\nmax_pages = 40\nrobots = { ignore = \"the agency's staging sites\" }\n",
            &[
                ("one", ""),
                ("two", "crawl = { max_pages = 5 }"),
                ("three", "crawl = false"),
                ("four", "crawl = true"),
            ],
        );
        let (f, _) = load_fleet(&path, &|_| None).unwrap_or_else(|d| panic!("{d}"));
        let crawl: Vec<_> = f.sites.iter().map(|s| s.spec.site.crawl.clone()).collect();
        let one = crawl[0].clone().expect("the fleet's [crawl] turns it on");
        assert_eq!((one.max_pages, one.per_template), (40, 3));
        assert!(matches!(one.robots, Robots::Ignore { .. }));
        let two = crawl[1].clone().unwrap();
        assert_eq!(two.max_pages, 5, "the site's key wins");
        assert!(!two.honours_robots(), "the fleet's other keys stay");
        assert_eq!(crawl[2], None, "crawl = false opts out");
        assert_eq!(crawl[3].as_ref().map(|c| c.max_pages), Some(40));
    }

    #[test]
    fn a_bad_fleet_crawl_key_is_reported_at_the_fleet_file() {
        let (_dir, path) = fleet("[crawl]\nmax_page = 40\n", &[("one", ""), ("two", "")]);
        let d = match load_fleet(&path, &|_| None) {
            Ok(_) => panic!("the fleet has errors"),
            Err(d) => d,
        };
        let at: Vec<String> =
            d.0.iter()
                .map(|d| {
                    let file = d.file.file_name().and_then(|f| f.to_str()).unwrap_or("?");
                    format!("{file}:{} {}", d.line, d.message)
                })
                .collect();
        let bad: Vec<&String> = at
            .iter()
            .filter(|a| a.contains("unknown key `max_page`"))
            .collect();
        assert_eq!(
            bad.len(),
            1,
            "said once whatever the number of sites: {at:#?}"
        );
        assert!(bad[0].starts_with("fleet.toml:5 "), "{at:#?}");
    }
}
