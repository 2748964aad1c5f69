//! The crawl plan (the pages a site's scenarios visit, each with its template and where
//! it was found, and what was left out and why) and the sampler that picks it.
//!
//! Sampling (docs/crawl.md#sampling), deterministic so tonight's sample is last night's
//! unless the site changed:
//! 1. the listed pages, in their order, always (they count towards `per_template` and
//!    `max_pages`, and are kept even past them);
//! 2. the other candidates grouped by template; within a template, ordered by the
//!    SHA-256 of the URL string, so a page added to the site displaces a sampled page
//!    only when its hash sorts before it, and only in its own template;
//! 3. templates in order of how near the listed pages they were found (the smallest link
//!    depth of their pages; templates found only in sitemaps after), ties by the SHA-256
//!    of the template; taken round-robin, one page of each template per round, while a
//!    template has fewer than `per_template` pages and the plan fewer than `max_pages`.

use super::settings::CrawlSettings;
use super::template::{canonical, templates};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use url::Url;

/// The pages a site's scenarios visit, found by discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlPlan {
    /// The listed pages first, then the sample.
    pub pages: Vec<PlannedPage>,
    pub skipped: Skipped,
    /// Distinct pages admitted as candidates (listed ones included), and their templates:
    /// the coverage the sample stands for.
    pub candidates: usize,
    pub templates: usize,
    /// Requests made for robots.txt and sitemaps, and pages rendered for their links.
    pub fetches: usize,
    pub rendered: usize,
    /// How long discovery took.
    pub elapsed_ms: u64,
}

impl CrawlPlan {
    /// The template of the planned page a visit was on (`page`: the top-level URL an
    /// evidence names). The URL as planned, or as discovery keeps URLs ([`canonical`]:
    /// no fragment, no tracking keys). `None` for a page the plan does not hold (a
    /// redirect's target, a page the scenario's own steps opened).
    pub fn template_of(&self, page: &str) -> Option<&str> {
        if let Some(p) = self.pages.iter().find(|p| p.url.as_str() == page) {
            return Some(&p.template);
        }
        let kept = canonical(&Url::parse(page).ok()?);
        self.pages
            .iter()
            .find(|p| p.url == kept)
            .map(|p| p.template.as_str())
    }

    /// The distinct templates of the planned pages (those the scenarios visit), sorted.
    pub fn planned_templates(&self) -> std::collections::BTreeSet<&str> {
        self.pages.iter().map(|p| p.template.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPage {
    pub url: Url,
    pub template: String,
    pub found: Found,
}

/// Where a page was found first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum Found {
    /// In `[site] pages` (or the base URL).
    Listed,
    /// In this sitemap.
    Sitemap { sitemap_url: Url },
    /// In a link of the page `from`, `depth` links away from the listed pages.
    Link { from: Url, depth: u32 },
}

/// What discovery left out, by reason (counts of distinct URLs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Disallowed by robots.txt (honoured).
    pub robots: usize,
    /// Not kept by `include` / `exclude`.
    pub excluded: usize,
    /// Past `per_template` in their template.
    pub over_per_template: usize,
    /// Past `max_pages`.
    pub over_max_pages: usize,
    /// On another site (links and sitemap entries).
    pub off_site: usize,
    /// Not a page (an image, a PDF, a style sheet... by its extension).
    pub not_a_page: usize,
    /// Longer than [`super::discover::MAX_URL_BYTES`].
    #[serde(default)]
    pub too_long: usize,
    /// A robots.txt, sitemap or page that could not be read, or read in part, and why.
    pub problems: Vec<Problem>,
    /// A bound that stopped discovery early (time, fetches, renders, candidates).
    pub stopped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub url: String,
    pub error: String,
}

/// A page discovery found, before sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: Url,
    /// Where it was found first.
    pub found: Found,
    /// The fewest links from a listed page to it (`None`: not linked, only in a sitemap).
    pub link_depth: Option<u32>,
}

impl Candidate {
    /// How near the listed pages it is (templates are ordered by their nearest page).
    fn rank(&self) -> u32 {
        match (&self.found, self.link_depth) {
            (Found::Listed, _) => 0,
            (_, Some(d)) => d,
            (Found::Link { depth, .. }, None) => *depth,
            (Found::Sitemap { .. }, None) => u32::MAX,
        }
    }
}

/// The plan of a site without discovery (no `[site] crawl`), or whose discovery could
/// not start (`stopped` says why): its listed pages.
pub fn listed_only(base: &Url, listed: &[Url], stopped: Option<String>) -> CrawlPlan {
    let mut once = std::collections::HashSet::new();
    let listed: Vec<Url> = listed
        .iter()
        .filter(|u| once.insert(u.as_str()))
        .cloned()
        .collect();
    let listed = &listed[..];
    let tpl = templates(base, listed);
    let distinct: std::collections::BTreeSet<&String> = tpl.iter().collect();
    CrawlPlan {
        templates: distinct.len(),
        pages: listed
            .iter()
            .zip(&tpl)
            .map(|(u, t)| PlannedPage {
                url: u.clone(),
                template: t.clone(),
                found: Found::Listed,
            })
            .collect(),
        skipped: Skipped {
            stopped,
            ..Skipped::default()
        },
        candidates: listed.len(),
        fetches: 0,
        rendered: 0,
        elapsed_ms: 0,
    }
}

fn sha(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// The sample: the listed pages, then candidates by the rule above. `skipped` counts
/// those left out (`over_per_template`, `over_max_pages`).
pub fn sample(
    base: &Url,
    listed: &[Url],
    candidates: &[Candidate],
    settings: &CrawlSettings,
    skipped: &mut Skipped,
) -> Vec<PlannedPage> {
    let all: Vec<Url> = listed
        .iter()
        .chain(candidates.iter().map(|c| &c.url))
        .cloned()
        .collect();
    let tpl = templates(base, &all);
    let mut pages: Vec<PlannedPage> = listed
        .iter()
        .zip(&tpl)
        .map(|(u, t)| PlannedPage {
            url: u.clone(),
            template: t.clone(),
            found: Found::Listed,
        })
        .collect();
    let mut taken: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &tpl[..listed.len()] {
        *taken.entry(t.as_str()).or_default() += 1;
    }
    // Template → its candidates, each with its URL's hash.
    let mut groups: BTreeMap<&str, Vec<([u8; 32], &Candidate)>> = BTreeMap::new();
    for (c, t) in candidates.iter().zip(&tpl[listed.len()..]) {
        groups
            .entry(t.as_str())
            .or_default()
            .push((sha(c.url.as_str()), c));
    }
    let mut order: Vec<(u32, [u8; 32], &str)> = groups
        .iter_mut()
        .map(|(t, members)| {
            members.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.url.cmp(&b.1.url)));
            let rank = members.iter().map(|m| m.1.rank()).min().unwrap_or(u32::MAX);
            (rank, sha(t), *t)
        })
        .collect();
    order.sort();
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    loop {
        let mut progressed = false;
        for (_, _, t) in &order {
            if pages.len() >= settings.max_pages {
                break;
            }
            let have = taken.entry(t).or_default();
            if *have >= settings.per_template {
                continue;
            }
            let i = next.entry(t).or_default();
            let Some((_, c)) = groups.get(t).and_then(|m| m.get(*i)) else {
                continue;
            };
            *i += 1;
            *have += 1;
            progressed = true;
            pages.push(PlannedPage {
                url: c.url.clone(),
                template: t.to_string(),
                found: c.found.clone(),
            });
        }
        if !progressed || pages.len() >= settings.max_pages {
            break;
        }
    }
    // What was left: past the template's share, or past the plan's.
    for (t, members) in &groups {
        let used = next.get(t).copied().unwrap_or(0);
        let room = settings
            .per_template
            .saturating_sub(tpl[..listed.len()].iter().filter(|l| l == t).count());
        let left = members.len() - used;
        let within_template = room.saturating_sub(used).min(left);
        skipped.over_max_pages += within_template;
        skipped.over_per_template += left - within_template;
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn cand(s: &str, found: Found) -> Candidate {
        let link_depth = match &found {
            Found::Link { depth, .. } => Some(*depth),
            _ => None,
        };
        Candidate {
            url: u(s),
            found,
            link_depth,
        }
    }

    fn sm() -> Found {
        Found::Sitemap {
            sitemap_url: u("https://a.test/sitemap.xml"),
        }
    }

    fn paths(p: &[PlannedPage]) -> Vec<String> {
        p.iter().map(|p| p.url.path().to_string()).collect()
    }

    #[test]
    fn a_page_names_its_planned_template() {
        let base = u("https://a.test/");
        let plan = listed_only(
            &base,
            &[
                u("https://a.test/"),
                u("https://a.test/shop/item-42?colour=red"),
            ],
            None,
        );
        assert_eq!(plan.template_of("https://a.test/"), Some("/"));
        let item = plan.template_of("https://a.test/shop/item-42?colour=red");
        assert_eq!(item, Some("/shop/{slug}?colour"));
        // As discovery keeps URLs: without its fragment and tracking keys.
        assert_eq!(
            plan.template_of("https://a.test/shop/item-42?colour=red&utm_source=x#top"),
            item
        );
        assert_eq!(plan.template_of("https://a.test/elsewhere"), None);
        assert_eq!(plan.template_of("not a url"), None);
        assert_eq!(
            plan.planned_templates().into_iter().collect::<Vec<_>>(),
            vec!["/", "/shop/{slug}?colour"]
        );
    }

    #[test]
    fn listed_first_then_round_robin_by_template() {
        let base = u("https://a.test/");
        let mut c: Vec<Candidate> = (0..10)
            .map(|i| cand(&format!("https://a.test/p/{i}"), sm()))
            .collect();
        c.push(cand(
            "https://a.test/about",
            Found::Link {
                from: base.clone(),
                depth: 1,
            },
        ));
        c.push(cand("https://a.test/contact", sm()));
        let s = CrawlSettings {
            max_pages: 6,
            per_template: 3,
            ..CrawlSettings::default()
        };
        let mut sk = Skipped::default();
        let got = sample(
            &base,
            &[base.clone(), u("https://a.test/p/42")],
            &c,
            &s,
            &mut sk,
        );
        let p = paths(&got);
        assert_eq!(
            p[..3],
            ["/", "/p/42", "/about"],
            "listed, then the template found by link"
        );
        assert_eq!(got.len(), 6);
        let products = got.iter().filter(|g| g.template == "/p/{n}").count();
        assert_eq!(
            products, 3,
            "the listed product counts towards per_template"
        );
        assert!(p.contains(&"/contact".to_string()));
        assert_eq!((sk.over_per_template, sk.over_max_pages), (8, 0));
    }

    #[test]
    fn budget_left_over_is_counted_as_over_max_pages() {
        let base = u("https://a.test/");
        let c: Vec<Candidate> = ["a", "b", "c", "d"]
            .iter()
            .map(|s| cand(&format!("https://a.test/{s}"), sm()))
            .collect();
        let s = CrawlSettings {
            max_pages: 3,
            ..CrawlSettings::default()
        };
        let mut sk = Skipped::default();
        let got = sample(&base, std::slice::from_ref(&base), &c, &s, &mut sk);
        assert_eq!(got.len(), 3);
        assert_eq!((sk.over_per_template, sk.over_max_pages), (0, 2));
    }

    #[test]
    fn order_within_a_template_is_by_hash_not_by_discovery() {
        let base = u("https://a.test/");
        let mut c: Vec<Candidate> = (0..50)
            .map(|i| cand(&format!("https://a.test/p/{i}"), sm()))
            .collect();
        let s = CrawlSettings::default();
        let one = sample(&base, &[], &c, &s, &mut Skipped::default());
        c.reverse();
        let two = sample(&base, &[], &c, &s, &mut Skipped::default());
        assert_eq!(one, two);
        assert_eq!(one.len(), 3);
    }

    #[test]
    fn listed_pages_are_kept_past_the_bounds() {
        let base = u("https://a.test/");
        let listed: Vec<Url> = (0..5)
            .map(|i| u(&format!("https://a.test/p/{i}")))
            .collect();
        let s = CrawlSettings {
            max_pages: 2,
            per_template: 1,
            ..CrawlSettings::default()
        };
        let c = [cand("https://a.test/other", sm())];
        let mut sk = Skipped::default();
        let got = sample(&base, &listed, &c, &s, &mut sk);
        assert_eq!(got.len(), 5);
        assert_eq!(sk.over_max_pages, 1);
    }

    #[test]
    fn a_plan_of_the_listed_pages_only() {
        let base = u("https://a.test/");
        let listed = [
            base.clone(),
            u("https://a.test/p/1?utm_source=x"),
            base.clone(),
        ];
        let plan = listed_only(&base, &listed, Some("why".into()));
        assert_eq!(paths(&plan.pages), ["/", "/p/1"]);
        assert_eq!(
            plan.pages[1].url.query(),
            Some("utm_source=x"),
            "kept as written"
        );
        assert_eq!((plan.candidates, plan.templates), (2, 2));
        assert_eq!(plan.skipped.stopped.as_deref(), Some("why"));
    }

    #[test]
    fn a_plan_round_trips_through_json() {
        let plan = CrawlPlan {
            pages: vec![PlannedPage {
                url: u("https://a.test/p/1"),
                template: "/p/{n}".into(),
                found: Found::Link {
                    from: u("https://a.test/"),
                    depth: 1,
                },
            }],
            skipped: Skipped {
                robots: 2,
                problems: vec![Problem {
                    url: "https://a.test/sitemap.xml".into(),
                    error: "HTTP 500".into(),
                }],
                ..Skipped::default()
            },
            candidates: 9,
            templates: 3,
            fetches: 2,
            rendered: 1,
            elapsed_ms: 5,
        };
        let json = serde_json::to_string(&plan).unwrap();
        assert!(
            json.contains(r#""found":{"via":"link","from":"https://a.test/","depth":1}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<CrawlPlan>(&json).unwrap(), plan);
    }
}
