//! Page coverage (docs/drift.md#page-coverage): what each run's scenarios covered of a
//! site that discovers its pages, and which templates the crawl added or dropped against
//! the previous run that had a plan. Pure: a site's history in (oldest run first), one
//! [`Coverage`] per run with a stored plan out.
//!
//! A finding that is new (or regressed) on a page of a template the previous plan did
//! not hold was found because the crawl reached a new kind of page, not necessarily
//! because the site changed behaviour: drift says which ([`crate::drift::Step`]'s
//! `new_template`, [`crate::drift::RunRef`]'s `crawl_changed`). A run without a previous
//! plan (the first with discovery on) is the baseline: nothing is new to it.

use crate::store::RunHistory;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// What a run's scenarios covered of a site that discovers its pages
/// (docs/drift.md#page-coverage), from the run's stored crawl plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Pages planned (each scenario walks them).
    pub pages: u32,
    /// Distinct templates among them.
    pub templates: u32,
    /// Distinct pages discovery admitted, and their templates: what the sample stands for.
    pub candidates: u32,
    pub templates_found: u32,
    /// The previous run of the history with a plan, compared against.
    pub previous_run: Option<i64>,
    /// Templates planned now and not in the previous plan, and the reverse; empty
    /// without a previous plan.
    pub new_templates: Vec<String>,
    pub gone_templates: Vec<String>,
    /// A bound that stopped discovery early.
    pub stopped: Option<String>,
}

/// The coverage of each run of a history that has a crawl plan, by run id.
#[derive(Debug, Clone, Default)]
pub struct Coverages {
    by_run: HashMap<i64, Coverage>,
}

impl Coverages {
    pub fn of(history: &[RunHistory]) -> Coverages {
        let mut by_run = HashMap::new();
        let mut previous: Option<(i64, BTreeSet<&str>)> = None;
        for h in history {
            let Some(plan) = &h.run.crawl else {
                continue;
            };
            let planned = plan.planned_templates();
            let (new_templates, gone_templates) = match &previous {
                Some((_, before)) => (
                    planned.difference(before).map(|t| t.to_string()).collect(),
                    before.difference(&planned).map(|t| t.to_string()).collect(),
                ),
                None => (Vec::new(), Vec::new()),
            };
            by_run.insert(
                h.run.id,
                Coverage {
                    pages: count(plan.pages.len()),
                    templates: count(planned.len()),
                    candidates: count(plan.candidates),
                    templates_found: count(plan.templates),
                    previous_run: previous.as_ref().map(|(id, _)| *id),
                    new_templates,
                    gone_templates,
                    stopped: plan.skipped.stopped.clone(),
                },
            );
            previous = Some((h.run.id, planned));
        }
        Coverages { by_run }
    }

    /// The coverage of run `run`; `None` when it has no plan.
    pub fn get(&self, run: i64) -> Option<&Coverage> {
        self.by_run.get(&run)
    }

    /// The template of `page` in run `h`'s plan when the previous plan did not hold it:
    /// the crawl found that kind of page in this run.
    pub fn new_template_of<'h>(&self, h: &'h RunHistory, page: &str) -> Option<&'h str> {
        let coverage = self.get(h.run.id)?;
        let template = h.run.crawl.as_ref()?.template_of(page)?;
        coverage
            .new_templates
            .iter()
            .any(|t| t == template)
            .then_some(template)
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use crate::analysis::Evidence;
    use crate::crawl::{plan::listed_only, CrawlPlan};
    use crate::drift::lifecycle::tests::run;
    use crate::drift::pack::{build, PackInput};
    use crate::store::RunHistory;
    use chrono::{TimeZone, Utc};
    use url::Url;

    fn plan(paths: &[&str]) -> CrawlPlan {
        let url = |p: &str| Url::parse(&format!("https://shop.test{p}")).expect("url");
        let pages: Vec<Url> = paths.iter().map(|p| url(p)).collect();
        let mut plan = listed_only(&url("/"), &pages, None);
        plan.candidates = 40;
        plan.templates = 6;
        plan
    }

    /// A run whose finding `fp` has its first evidence on `page`.
    fn crawled(id: i64, day: u32, paths: &[&str], found: &[(&str, &str)]) -> RunHistory {
        let fps: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|(fp, _)| (*fp, Some("accept_all")))
            .collect();
        let mut h = run(id, day, &[("accept_all", true)], &fps);
        h.run.crawl = Some(plan(paths));
        for (f, (_, page)) in h.findings.iter_mut().zip(found) {
            f.evidence = Some(Evidence {
                scenario: "accept_all".into(),
                page: format!("https://shop.test{page}"),
                request_url: None,
                cookie: None,
                time: h.run.started_at,
                phase: "after-accept_all".into(),
                detail: None,
                logged_in: false,
                known: None,
            });
        }
        h
    }

    fn pack(history: &[RunHistory]) -> crate::drift::DriftReport {
        build(&PackInput {
            site: "shop",
            since: Utc
                .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
                .single()
                .expect("t"),
            until: Utc
                .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
                .single()
                .expect("t"),
            history,
            acks: &[],
            resolve_after: crate::drift::lifecycle::DEFAULT_RESOLVE_AFTER,
            vantage: "default",
            versus: None,
        })
    }

    #[test]
    fn a_finding_on_a_template_the_crawl_just_found_is_the_crawls_not_the_sites() {
        let history = vec![
            crawled(1, 2, &["/", "/about"], &[("meta", "/")]),
            // Night 2: the crawl reached product pages for the first time, and the pixel
            // planted there shows up.
            crawled(
                2,
                3,
                &["/", "/about", "/p/red-wool-hat"],
                &[("meta", "/"), ("tiktok", "/p/red-wool-hat")],
            ),
            // Night 3: the same pages; a new finding on a page planned before is the
            // site's doing.
            crawled(
                3,
                4,
                &["/", "/about", "/p/red-wool-hat"],
                &[
                    ("meta", "/"),
                    ("tiktok", "/p/red-wool-hat"),
                    ("bing", "/about"),
                ],
            ),
        ];
        let r = pack(&history);
        let runs: Vec<_> = r.runs.iter().collect();
        assert_eq!(runs.len(), 3);
        let c2 = runs[1].coverage.as_ref().expect("coverage");
        assert_eq!((c2.pages, c2.templates, c2.candidates), (3, 3, 40));
        assert_eq!(c2.new_templates, vec!["/p/{slug}".to_string()]);
        assert!(c2.gone_templates.is_empty());
        assert_eq!(c2.previous_run, Some(1));
        assert!(runs[1].crawl_changed);
        assert!(
            !runs[1].behaviour_changed,
            "only the crawl's new template explains night 2"
        );
        assert!(!runs[2].crawl_changed);
        assert!(runs[2].behaviour_changed);
        // The first run with a plan is the baseline.
        let c1 = runs[0].coverage.as_ref().expect("coverage");
        assert!(c1.new_templates.is_empty() && c1.previous_run.is_none());

        let step = |fp: &str, run: i64| {
            r.lifecycles
                .iter()
                .find(|l| l.fingerprint == fp)
                .and_then(|l| l.timeline.iter().find(|s| s.run_id == run))
                .cloned()
                .expect("step")
        };
        assert_eq!(step("tiktok", 2).new_template.as_deref(), Some("/p/{slug}"));
        assert_eq!(step("tiktok", 3).new_template, None, "persisting");
        assert_eq!(step("bing", 3).new_template, None, "a page planned before");
        assert_eq!(step("meta", 1).new_template, None, "the baseline");
    }

    #[test]
    fn runs_without_a_plan_have_no_coverage() {
        let history = vec![run(
            1,
            2,
            &[("accept_all", true)],
            &[("meta", Some("accept_all"))],
        )];
        let r = pack(&history);
        assert!(r.runs[0].coverage.is_none());
        assert!(!r.runs[0].crawl_changed);
        let json = serde_json::to_value(&r).expect("json");
        assert!(json["runs"][0].get("coverage").is_none());
    }
}
