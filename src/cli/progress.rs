//! Progress of an audit on stderr: on a terminal, an overall bar (and one bar per active
//! site in a fleet run); otherwise (CI logs, `--no-progress`) one plain line per finished
//! scenario and, in a fleet run, per finished site.

use consentry::model::{VisitObservation, VisitStatus};
use consentry::outcome::AuditReport;
use consentry::pipeline;
use consentry::store::StoreError;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

pub(crate) struct Progress {
    disabled: bool,
    /// Several sites: lines name the site, and each site gets its own bar.
    fleet: bool,
    bars: Mutex<Bars>,
}

#[derive(Default)]
struct Bars {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    sites: HashMap<String, (ProgressBar, usize)>,
}

fn style(template: &str) -> Option<ProgressStyle> {
    ProgressStyle::with_template(template).ok()
}

impl Progress {
    pub(crate) fn new(disabled: bool, fleet: bool) -> Progress {
        Progress {
            disabled,
            fleet,
            bars: Mutex::new(Bars::default()),
        }
    }

    fn with_bars<R>(&self, f: impl FnOnce(&mut Bars) -> R) -> R {
        let mut guard = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// One line on stderr. It quotes page text (error reasons, chromedriver messages that
    /// quote page HTML): escaped, so no page can drive the terminal.
    fn line(&self, line: &str) {
        let line = consentry::text::printable(line);
        let line = line.as_ref();
        self.with_bars(|b| match (&b.multi, &b.overall) {
            (Some(m), _) => {
                let _ = m.println(line);
            }
            (None, Some(bar)) => bar.println(line),
            (None, None) => consentry::stderr::line(format_args!("{line}")),
        });
    }

    fn prefix(&self, site: &str) -> String {
        if self.fleet {
            format!("{site}: ")
        } else {
            String::new()
        }
    }
}

impl pipeline::Progress for Progress {
    fn started(&self, sites: &[(&str, usize)], jobs: usize) {
        let visits: usize = sites.iter().map(|(_, n)| n).sum();
        let tty = std::io::stderr().is_terminal();
        if tty && !self.disabled {
            self.with_bars(|b| {
                let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
                let overall = multi.add(ProgressBar::new(visits as u64));
                if let Some(s) = style("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}") {
                    overall.set_style(s);
                }
                overall.enable_steady_tick(std::time::Duration::from_millis(120));
                overall.set_message(match sites {
                    [(site, _)] => format!("auditing {site}"),
                    _ => format!("auditing {} sites", sites.len()),
                });
                b.multi = Some(multi);
                b.overall = Some(overall);
            });
        }
        let line = match sites {
            [(site, n)] => format!("auditing {site} ({n} scenario(s), {jobs} at a time)"),
            _ => format!(
                "auditing {} sites ({visits} scenario(s), {jobs} at a time)",
                sites.len()
            ),
        };
        self.line(&line);
        if self.fleet {
            self.with_bars(|b| {
                for (site, n) in sites {
                    b.sites
                        .insert(site.to_string(), (ProgressBar::hidden(), *n));
                }
            });
        }
    }

    fn visit_done(&self, site: &str, obs: &VisitObservation) {
        let secs = (obs.finished_at - obs.started_at).num_milliseconds() as f64 / 1000.0;
        let p = self.prefix(site);
        let line = match &obs.status {
            VisitStatus::Complete => format!(
                "{p}{}: observed ({} requests, {} cookies, {secs:.1} s)",
                obs.scenario,
                obs.requests.len(),
                obs.cookies.len()
            ),
            VisitStatus::Incomplete(f) => format!(
                "{p}{}: NOT OBSERVED [{}]: {} ({secs:.1} s)",
                obs.scenario, f.kind, f.reason
            ),
        };
        self.line(&line);
        self.with_bars(|b| {
            if let Some(o) = &b.overall {
                o.inc(1);
            }
            // A site's bar shows once its first visit is in, and goes when it finishes.
            if let (Some(m), Some((bar, n))) = (&b.multi, b.sites.get_mut(site)) {
                if bar.is_hidden() {
                    let shown = m.add(ProgressBar::new(*n as u64));
                    if let Some(s) = style("  {bar:20} {pos}/{len} {msg}") {
                        shown.set_style(s);
                    }
                    shown.set_message(site.to_string());
                    *bar = shown;
                }
                bar.inc(1);
            }
        });
    }

    fn store_failed(&self, site: &str, scenario: &str, error: &StoreError) {
        let p = self.prefix(site);
        self.line(&format!(
            "error: {p}could not record scenario {scenario}: {error}"
        ));
    }

    fn site_finished(&self, report: &AuditReport) {
        if !self.fleet {
            return;
        }
        self.with_bars(|b| {
            if let (Some(m), Some((bar, _))) = (&b.multi, b.sites.remove(&report.site)) {
                bar.finish_and_clear();
                m.remove(&bar);
            }
        });
        let observed = report
            .visits
            .iter()
            .filter(|v| v.not_observed().is_none())
            .count();
        self.line(&format!(
            "{}: {} ({observed}/{} scenario(s) observed, {} finding(s))",
            report.site,
            consentry::report::run_status_text(&report.status),
            report.visits.len(),
            report.findings.len()
        ));
    }

    fn discovered(&self, site: &str, plan: &consentry::crawl::CrawlPlan) {
        let stopped = plan
            .skipped
            .stopped
            .as_deref()
            .map(|why| format!("; stopped early: {why}"))
            .unwrap_or_default();
        self.line(&format!(
            "{site}: {} page(s) planned of {} found, {} template(s) ({:.1} s){stopped}",
            plan.pages.len(),
            plan.candidates,
            plan.templates,
            plan.elapsed_ms as f64 / 1000.0
        ));
    }

    fn finished(&self) {
        self.with_bars(|b| {
            for (_, (bar, _)) in b.sites.drain() {
                bar.finish_and_clear();
            }
            if let Some(o) = b.overall.take() {
                o.finish_and_clear();
            }
            b.multi = None;
        });
    }
}
