//! One night of one site: its four visits, their inventories and findings, and the run
//! around them; and [`Synth`], the nightly batches of a whole history. Shared by the
//! `synth_history` example and `tests/history_layout.rs` (which includes this file).

use crate::site::*;
use chrono::{DateTime, Duration, Utc};
use consentry::analysis::{fingerprint, Code, Evidence, Finding};
use consentry::inventory::{Declaration, InventoryItem, ItemKind, VendorActivity, VisitInventory};
use consentry::model::{
    ConsentAction, ConsentState, Failure, FailureKind, RequestObs, RunStatus, StepOutcome,
    StepStatus, TargetKind, VisitObservation, VisitStatus, VisitTimings,
};
use consentry::outcome::FailOn;
use consentry::store::{JudgedVisit, RunImport, RunStart};
use std::collections::BTreeMap;

/// A cookie of a visit's inventory: (vendor, lifetime secs, declared retention secs).
pub(crate) type CookieSeen = (Option<String>, Option<i64>, Option<i64>);

/// What one visit produced.
pub(crate) struct Visit {
    pub(crate) obs: VisitObservation,
    pub(crate) findings: Vec<Finding>,
    pub(crate) inventory: Option<VisitInventory>,
    pub(crate) third_party: usize,
}

pub(crate) struct Ctx<'a> {
    pub(crate) site: &'a Site,
    pub(crate) scenario: &'static str,
    pub(crate) start: DateTime<Utc>,
    pub(crate) page: String,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finding(
        &self,
        code: Code,
        scenario: Option<&str>,
        subject: &str,
        vendor: Option<&str>,
        message: String,
        rule: String,
        evidence: Evidence,
        occurrences: u32,
    ) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            site: self.site.name.clone(),
            scenario: scenario.map(str::to_string),
            subject: subject.to_string(),
            vendor: vendor.map(str::to_string),
            message,
            rule,
            evidence: vec![evidence],
            occurrences,
            repeat: None,
            fingerprint: fingerprint(code, &self.site.name, scenario, subject),
        }
    }

    pub(crate) fn evidence(
        &self,
        ms: i64,
        phase: &str,
        url: Option<String>,
        cookie: Option<String>,
    ) -> Evidence {
        Evidence {
            scenario: self.scenario.to_string(),
            page: self.page.clone(),
            request_url: url,
            cookie,
            time: self.start + Duration::milliseconds(ms),
            phase: phase.to_string(),
            detail: None,
            logged_in: false,
            known: None,
        }
    }
}

pub(crate) fn final_state(scenario: &str) -> ConsentState {
    let s = ConsentState::initial();
    match scenario {
        "accept_all" => s.after(ConsentAction::AcceptAll),
        "reject_all" => s.after(ConsentAction::RejectAll),
        "object_li" => s.after(ConsentAction::ObjectLi),
        _ => s,
    }
}

pub(crate) fn steps(scenario: &str) -> Vec<&'static str> {
    let mut s = vec!["open https://{domain}/ (scenarios/{site}.toml:12)"];
    match scenario {
        "accept_all" => s.push("click \"#cmp-accept\" (scenarios/{site}.toml:31)"),
        "reject_all" => s.push("click \"#cmp-reject\" (scenarios/{site}.toml:36)"),
        "object_li" => {
            s.push("click \"#cmp-settings\" (scenarios/{site}.toml:41)");
            s.push("click \"#cmp-object-li\" (scenarios/{site}.toml:42)");
        }
        _ => {}
    }
    s
}

pub(crate) fn visit(
    site: &Site,
    night: u32,
    scenario: &'static str,
    start: DateTime<Utc>,
    raw: bool,
    rng: &mut Rng,
) -> Visit {
    let ctx = Ctx {
        site,
        scenario,
        start,
        page: format!("https://{}/", site.domain),
    };
    let state = final_state(scenario);
    let phase = state.phase();
    let timings = VisitTimings {
        session_start_ms: u64::from(rng.range(600, 900)),
        load_ms: u64::from(rng.range(800, 2_200)),
        settle_ms: u64::from(rng.range(2_500, 5_200)),
        capture_ms: 1,
        close_ms: u64::from(rng.range(120, 160)),
        ..VisitTimings::default()
    };
    let total = timings.session_start_ms + timings.load_ms + timings.settle_ms + 141;
    let finished = start + Duration::milliseconds(total as i64);
    let step_texts = steps(scenario);
    let fail = rng.chance(0.02).then(|| {
        let (kind, why) = *rng.pick(&[
            (
                FailureKind::BannerAbsent,
                "the consent banner did not appear within 10s",
            ),
            (
                FailureKind::PageLoadTimeout,
                "page load timed out after 30s",
            ),
            (
                FailureKind::ElementNotFound,
                "no element matches the step's selector",
            ),
            (FailureKind::NavigationFailed, "net::ERR_CONNECTION_RESET"),
        ]);
        (
            Failure::new(kind, why),
            (rng.next() % step_texts.len() as u64) as usize,
        )
    });
    let steps: Vec<StepOutcome> = step_texts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let status = match &fail {
                Some((f, at)) if i == *at => StepStatus::Failed(f.clone()),
                Some((_, at)) if i > *at => StepStatus::Skipped,
                _ => StepStatus::Done,
            };
            StepOutcome {
                index: i,
                description: d
                    .replace("{domain}", &site.domain)
                    .replace("{site}", &site.name),
                status,
                started_at: start + Duration::milliseconds(700 + 1_500 * i as i64),
                duration_ms: u64::from(rng.range(80, 1_200)),
            }
        })
        .collect();
    let mut obs = VisitObservation {
        scenario: scenario.to_string(),
        started_at: start,
        finished_at: finished,
        status: VisitStatus::Complete,
        // Steps are raw records since schema 16: `purge` removes them with the rest.
        steps: if raw { steps } else { Vec::new() },
        requests: Vec::new(),
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: state.clone(),
        warnings: Vec::new(),
        timings,
        login: None,
    };
    if let Some((f, _)) = fail {
        // Not observed: stopped before the consent action, no inventory.
        obs.status = VisitStatus::Incomplete(f.clone());
        obs.final_state = ConsentState::initial();
        let mut e = ctx.evidence(total as i64, "before-choice", None, None);
        e.detail = Some(format!("[{}] {}", f.kind, f.reason));
        let finding = ctx.finding(
            Code::ScenarioNotObserved,
            Some(scenario),
            scenario,
            None,
            format!(
                "Scenario \"{scenario}\" could not be observed (stopped in phase before-choice): {f}. What it should have shown is unknown, so this audit is not clean; findings from what it did observe are still reported."
            ),
            "every scenario of the scenario file must be observed completely".into(),
            e,
            1,
        );
        return Visit {
            obs,
            findings: vec![finding],
            inventory: None,
            third_party: 0,
        };
    }

    let mut findings = Vec::new();
    let mut activity: Vec<VendorActivity> = Vec::new();
    let mut hosts: BTreeMap<String, Option<String>> = BTreeMap::new();
    // name@domain -> (vendor, lifetime, declared)
    let mut cookies: BTreeMap<String, CookieSeen> = BTreeMap::new();
    let mut loaded: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut third_party = 0usize;
    let mut ms = 900i64;
    for (i, v) in site.vendors.iter().enumerate() {
        let basis = site.basis(i, night);
        let retired = site.retired.is_some_and(|(r, s)| r == i && s.has(night));
        let in_ep = |eps: &[(usize, Span)]| eps.iter().any(|(x, s)| *x == i && s.has(night));
        // (fires, unauthorized, objected records after the objection)
        let (fires, unauthorized, ignored) = match (basis, scenario) {
            (_, _) if retired => (false, false, false),
            (Basis::Contract, _) => (true, false, false),
            (Basis::Li, "object_li") => (true, false, in_ep(&site.objection_ignored)),
            (Basis::Li, _) => (true, false, false),
            (Basis::Consent, "accept_all") => (true, false, false),
            (Basis::Consent, "reject_all") => {
                let on = in_ep(&site.after_reject);
                (on, on, false)
            }
            (Basis::Consent, _) => {
                let on = in_ep(&site.before_choice);
                (on, on, false)
            }
        };
        if !fires {
            continue;
        }
        let requests = rng.range(2, 12);
        let cookie_writes = v.cookies.len() as u32;
        let storage_writes = rng.range(0, 3);
        let objected = if ignored { rng.range(3, 8) } else { 0 };
        let all = requests + cookie_writes + storage_writes;
        activity.push(VendorActivity {
            vendor: v.id.to_string(),
            requests: requests + objected,
            cookie_writes,
            storage_writes,
            unauthorized: if unauthorized { all } else { objected },
            objected,
        });
        third_party += (requests + objected) as usize;
        for h in v.hosts {
            hosts.insert(h.to_string(), Some(v.id.to_string()));
        }
        let growth = i == 5 && night >= site.growth_night;
        for (ci, (name, dom, life, declared)) in v.cookies.iter().enumerate() {
            let life = if growth && ci == 0 { Some(730) } else { *life };
            let key = format!("{name}@{dom}");
            cookies.insert(
                key.clone(),
                (
                    Some(v.id.to_string()),
                    life.map(|d| d * DAY),
                    Some(declared * DAY),
                ),
            );
            let over = life.unwrap_or(0) > declared + 1;
            if over {
                let mut e = ctx.evidence(ms, &phase, None, Some(key.clone()));
                e.detail = Some(format!(
                    "requested lifetime {}d (document.cookie)",
                    life.unwrap_or(0)
                ));
                findings.push(ctx.finding(
                    Code::CookieRetentionExceeded,
                    Some(scenario),
                    &key,
                    Some(v.id),
                    format!(
                        "Cookie {key} of {} lives {}d; its declared retention is {declared}d.",
                        v.name,
                        life.unwrap_or(0)
                    ),
                    format!("cookie {name}: max retention {declared}d"),
                    e,
                    1,
                ));
            }
            if unauthorized {
                findings.push(ctx.finding(
                    Code::ConsentCookieWithoutConsent,
                    Some(scenario),
                    &key,
                    Some(v.id),
                    format!(
                        "Cookie {key} of {} (consent-based) was written without consent ({phase}).",
                        v.name
                    ),
                    format!("vendor {}: purpose advertising (consent)", v.id),
                    ctx.evidence(ms + 40, &phase, None, Some(key.clone())),
                    1,
                ));
            }
        }
        let url = format!("https://{}/tr?id={}", v.hosts[0], 1000 + i);
        if unauthorized {
            let code = if scenario == "reject_all" {
                Code::ConsentVendorAfterReject
            } else {
                Code::ConsentVendorBeforeChoice
            };
            findings.push(ctx.finding(
                code,
                Some(scenario),
                v.id,
                Some(v.id),
                format!("{} ({}) was contacted {phase} although its purposes need consent: {requests} requests.", v.name, v.hosts[0]),
                format!("vendor {}: purpose advertising (consent)", v.id),
                ctx.evidence(ms, &phase, Some(url.clone()), None),
                requests,
            ));
        }
        if ignored {
            findings.push(ctx.finding(
                Code::LiVendorAfterObjection,
                Some(scenario),
                v.id,
                Some(v.id),
                format!("{} ({}) kept processing after the objection to legitimate interest: {objected} requests.", v.name, v.hosts[0]),
                format!("vendor {}: purpose analytics (legitimate_interest)", v.id),
                ctx.evidence(ms + 2_000, &phase, Some(url), None),
                objected,
            ));
        }
        if scenario == "accept_all" && i == site.flaky_vendor && rng.chance(0.3) {
            findings.push(ctx.finding(
                Code::VendorOutsideDeclaredPages,
                Some(scenario),
                v.id,
                Some(v.id),
                format!(
                    "{} was contacted on /checkout, where it is not declared to be embedded.",
                    v.name
                ),
                format!("vendor {}: pages /, /product/*", v.id),
                ctx.evidence(
                    ms + 3_000,
                    &phase,
                    Some(format!("https://{}/p", v.hosts[0])),
                    None,
                ),
                1,
            ));
        }
        ms += i64::from(rng.range(50, 400));
    }
    // Ads vendor 0's script loads ads vendor 1's last host (when both fire).
    if night >= site.loader_night {
        let (a, b) = (&site.vendors[0], &site.vendors[1]);
        if activity.iter().any(|x| x.vendor == a.id) && activity.iter().any(|x| x.vendor == b.id) {
            let h = b.hosts[b.hosts.len() - 1];
            loaded.insert((h.to_string(), a.id.to_string()), a.hosts[0].to_string());
        }
    }
    // Undeclared third parties (they ignore the banner).
    for (u, span, loader) in &site.undeclared {
        if !span.has(night) {
            continue;
        }
        let (host, cookie) = UNDECLARED[*u];
        hosts.insert(host.to_string(), None);
        third_party += 2;
        let lv = &site.vendors[*loader];
        if !cookie.is_empty() && activity.iter().any(|x| x.vendor == lv.id) {
            loaded.insert(
                (host.to_string(), lv.id.to_string()),
                lv.hosts[0].to_string(),
            );
        }
        findings.push(ctx.finding(
            Code::UndeclaredThirdParty,
            Some(scenario),
            host,
            None,
            format!("{host} was contacted but is not in the declared map."),
            "every third party must be declared".into(),
            ctx.evidence(ms, &phase, Some(format!("https://{host}/x")), None),
            2,
        ));
        if !cookie.is_empty() {
            let key = format!("{cookie}@{}", parent(host));
            cookies.insert(key.clone(), (None, Some(90 * DAY), None));
            findings.push(ctx.finding(
                Code::UndeclaredCookie,
                Some(scenario),
                &key,
                None,
                format!("Cookie {key} was written but no cookie rule declares it."),
                "every cookie must be declared".into(),
                ctx.evidence(ms + 10, &phase, None, Some(key.clone())),
                1,
            ));
        }
    }
    // The shop's own cookies.
    cookies.insert(format!("session@{}", site.domain), (None, None, Some(0)));
    cookies.insert(
        format!("cmp_consent@{}", site.domain),
        (None, Some(180 * DAY), Some(365 * DAY)),
    );

    let mut items = Vec::new();
    for (h, v) in &hosts {
        items.push(InventoryItem {
            kind: ItemKind::Host,
            item: h.clone(),
            vendor: v.clone(),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: None,
        });
        if raw {
            obs.requests.push(RequestObs {
                url: format!("https://{h}/collect"),
                method: "GET".into(),
                resource_type: "Script".into(),
                initiator: Some(ctx.page.clone()),
                frame_id: None,
                target: TargetKind::Page,
                status: Some(200),
                error: None,
                cancelled: false,
                frames: None,
                cause: None,
                time: start + Duration::milliseconds(900 + obs.requests.len() as i64 * 37),
                page: ctx.page.clone(),
                state: state.clone(),
                http: None,
            });
        }
    }
    for (k, (vendor, life, declared)) in cookies {
        items.push(InventoryItem {
            kind: ItemKind::Cookie,
            item: k,
            vendor,
            lifetime_secs: life,
            declared_secs: declared,
            over_retention: matches!(declared, Some(d) if life.unwrap_or(0) > d + DAY),
            detail: None,
        });
    }
    for ((h, loader), by) in loaded {
        items.push(InventoryItem {
            kind: ItemKind::LoadedBy,
            item: h,
            vendor: Some(loader),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: Some(by),
        });
    }
    activity.sort_by(|a, b| a.vendor.cmp(&b.vendor));
    Visit {
        obs,
        findings,
        inventory: Some(VisitInventory {
            vendors: activity,
            items,
        }),
        third_party,
    }
}

/// One site's run of one night, owned until the night's batch is written.
pub(crate) struct Night {
    pub(crate) site: String,
    pub(crate) scenario_file: String,
    pub(crate) scenario_digest: String,
    pub(crate) policy_digest: String,
    pub(crate) started: DateTime<Utc>,
    pub(crate) declarations: Vec<Declaration>,
    pub(crate) visits: Vec<Visit>,
    pub(crate) run_level: Vec<Finding>,
    pub(crate) status: RunStatus,
    pub(crate) finished: DateTime<Utc>,
}

impl Night {
    pub(crate) fn import(&self) -> RunImport<'_> {
        RunImport {
            start: RunStart {
                site: &self.site,
                scenario_file: &self.scenario_file,
                started_at: self.started,
                scenario_digest: Some(&self.scenario_digest),
                policy_digest: Some(&self.policy_digest),
                data_versions: None,
                fail_on: FailOn::DEFAULT,
                fleet_run: None,
                vantage: None,
            },
            declarations: &self.declarations,
            visits: self
                .visits
                .iter()
                .enumerate()
                .map(|(pos, v)| JudgedVisit {
                    position: Some(pos),
                    repetition: 1,
                    obs: &v.obs,
                    third_party_requests: Some(v.third_party),
                    findings: &v.findings,
                    inventory: v.inventory.as_ref(),
                })
                .collect(),
            findings: &self.run_level,
            status: self.status.clone(),
            finished_at: self.finished,
        }
    }
}

pub(crate) fn night_run(
    site: &Site,
    night: u32,
    started: DateTime<Utc>,
    raw: bool,
    rng: &mut Rng,
) -> Night {
    let mut t = started + Duration::milliseconds(400);
    let mut not_observed = Vec::new();
    let mut accept_ok = false;
    let mut active: Vec<String> = Vec::new();
    let mut visits = Vec::new();
    for scenario in SCENARIOS {
        let v = visit(site, night, scenario, t, raw, rng);
        t = v.obs.finished_at + Duration::milliseconds(200);
        if v.obs.status != VisitStatus::Complete {
            not_observed.push(scenario);
        } else if scenario == "accept_all" {
            accept_ok = true;
        }
        if let Some(inv) = &v.inventory {
            active.extend(inv.vendors.iter().map(|a| a.vendor.clone()));
        }
        visits.push(v);
    }
    // Run level: declared vendors nothing contacted, judged on a complete accept_all.
    let mut run_level = Vec::new();
    if accept_ok {
        let ctx = Ctx {
            site,
            scenario: "accept_all",
            start: t,
            page: format!("https://{}/", site.domain),
        };
        for v in site
            .vendors
            .iter()
            .filter(|v| !active.iter().any(|a| a == v.id))
        {
            let domains = v
                .hosts
                .iter()
                .map(|h| parent(h))
                .collect::<Vec<_>>()
                .join(", ");
            let mut e = ctx.evidence(0, "after-accept_all", None, None);
            e.detail = Some(format!("requests observed, none to {domains}"));
            run_level.push(ctx.finding(
                Code::DeclaredVendorUnobserved,
                None,
                v.id,
                Some(v.id),
                format!("Declared vendor {} was never contacted in any scenario, even with consent granted (accept_all); the declaration may be stale.", v.name),
                format!("vendor \"{}\" ({}) declares domains {domains}", v.id, v.name),
                e,
                1,
            ));
        }
    }
    let status = if not_observed.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete(format!("not observed: {}", not_observed.join(", ")))
    };
    Night {
        site: site.name.clone(),
        scenario_file: format!("scenarios/{}.toml", site.name),
        scenario_digest: site.scenario_digest.clone(),
        policy_digest: site.policy_digest(night).to_string(),
        started,
        declarations: site.declarations(night),
        visits,
        run_level,
        status,
        finished: t,
    }
}

/// The nightly batches of a synthetic history: `sites` sites over `days` nights, the
/// first starting at 02:00 UTC `days` nights before `end`; the last `raw_days` nights
/// keep their raw records and steps (the others are as after a purge). The same
/// arguments give the same nights.
pub(crate) struct Synth {
    sites: Vec<Site>,
    rngs: Vec<Rng>,
    first: DateTime<Utc>,
    days: u32,
    raw_days: u32,
}

impl Synth {
    pub(crate) fn new(
        sites: usize,
        days: u32,
        seed: u64,
        end: DateTime<Utc>,
        raw_days: u32,
    ) -> Synth {
        Synth {
            sites: (1..=sites).map(|i| Site::new(i, seed, days)).collect(),
            rngs: (1..=sites)
                .map(|i| Rng::new(seed.wrapping_mul(31).wrapping_add(i as u64)))
                .collect(),
            first: end - Duration::days(i64::from(days)),
            days,
            raw_days,
        }
    }

    /// Every site's run of night `night` (0-based; nights in order).
    pub(crate) fn night(&mut self, night: u32) -> Vec<Night> {
        let raw = night + self.raw_days >= self.days;
        let first = self.first;
        self.sites
            .iter()
            .zip(self.rngs.iter_mut())
            .enumerate()
            .map(|(si, (site, rng))| {
                let started = first
                    + Duration::days(i64::from(night))
                    + Duration::seconds(si as i64 * 90 + i64::from(rng.range(0, 20)));
                night_run(site, night, started, raw, rng)
            })
            .collect()
    }
}
