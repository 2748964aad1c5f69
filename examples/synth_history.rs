//! A synthetic year of nightly audit runs, for the drift benchmark (`make bench-drift`,
//! bench/drift.sh).
//!
//! ```sh
//! cargo run --release --example synth_history -- --db /tmp/year.db --sites 50 --days 365 [--seed 1]
//! cargo run --release --example synth_history -- --db postgres://postgres@127.0.0.1:5432/year
//! ```
//!
//! `--db` is what `consentry --db` takes ([`DbLocation`]): a SQLite file, or a PostgreSQL
//! database (`postgres://…`, `make bench-pg` and bench/pg.sh start a throwaway server).
//!
//! Writes, through the library's own store API (`start_run`, `record_declarations`,
//! `record_judged_visit`, `record_findings`, `finish_run`: the real schema and the real
//! write path, one transaction per visit as an audit does), one run per site and night
//! with four scenarios (`no_action`, `accept_all`, `reject_all`, `object_li`; the last ends
//! with `li_objected = true`). Deterministic from `--seed` (xorshift64*, no `rand`); the
//! same arguments give the same rows (the run ids too, on a new file).
//!
//! Per site: ten declared vendors (five consent-based advertisers, three analytics
//! vendors on legitimate interest, two on contract), the declared map recorded with every
//! run; on about 40% of sites one legitimate-interest vendor moves to consent once
//! mid-year (a declaration change, with a new policy digest from that run on). Per visit:
//! each active vendor's activity (unauthorized and objected counts where the scenario's
//! consent state does not allow it), third-party hosts and cookies (12.6 and 14.7 per
//! observed visit on average with seed 1, more on accept_all; one over its declared retention all year, one whose lifetime grows from 395d to 730d at
//! some date), occasional `loaded-by` items, and the findings that follow from all that
//! (codes and fingerprints as the analysis makes them: `consentry::analysis::fingerprint`),
//! driven by episodes that appear, persist, get resolved and regress: a vendor firing
//! before the choice or after a reject, a legitimate-interest vendor ignoring the objection
//! for a few weeks, an undeclared tracker and its cookie, a vendor that stops appearing
//! (`declared-vendor-unobserved`), a flaky low-severity finding. About 2% of visits are not
//! observed (status incomplete with a failure kind, no inventory, `scenario-not-observed`),
//! so drift sees `unverified` steps.
//!
//! Raw observations (requests, cookie writes, the jar, storage writes, page errors) are
//! NOT written, as after `consentry purge --older-than 14d`: only the last `--raw-days`
//! nights (default 14) carry the visit's raw requests (one per third-party host). Steps,
//! visits, findings, inventory and declarations survive a purge and are all written.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Parser;
use consentry::analysis::{fingerprint, Code, Evidence, Finding};
use consentry::inventory::{Declaration, InventoryItem, ItemKind, VendorActivity, VisitInventory};
use consentry::model::{
    ConsentAction, ConsentState, Failure, FailureKind, RequestObs, RunStatus, StepOutcome,
    StepStatus, TargetKind, VisitObservation, VisitStatus, VisitTimings,
};
use consentry::outcome::FailOn;
use consentry::store::{DbLocation, JudgedVisit, RunImport, RunStart, Store};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Writes a synthetic history of nightly runs into a consentry database")]
struct Args {
    /// Database to write, as `consentry --db` takes it: a SQLite file (created) or a
    /// `postgres://` URL (an existing, empty database). It must not hold runs yet.
    #[arg(long, value_parser = parse_db)]
    db: DbLocation,
    /// Number of sites (named site-01, site-02, ...).
    #[arg(long, default_value_t = 50)]
    sites: usize,
    /// Number of nightly runs per site.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day after the last night (YYYY-MM-DD): runs start at 02:00 UTC on the
    /// `--days` nights before it.
    #[arg(long, default_value = "2026-12-01")]
    end: NaiveDate,
    /// Nights at the end whose visits keep their raw requests (the rest are "purged").
    #[arg(long, default_value_t = 14)]
    raw_days: u32,
    /// Write as a live audit does (one transaction per visit, seven per run) instead of
    /// one `Admin::import_runs` batch per night; for comparing the two.
    #[arg(long)]
    per_visit: bool,
}

/// `--db` as `consentry --db` parses it.
fn parse_db(value: &str) -> Result<DbLocation, String> {
    DbLocation::parse(value.as_ref()).map_err(|e| e.to_string())
}

/// The database as messages name it (a URL without its password).
fn shown(db: &DbLocation) -> String {
    match db {
        DbLocation::Sqlite(p) => p.display().to_string(),
        DbLocation::Postgres(u) => u.shown().to_string(),
    }
}

/// xorshift64* (Vigna): tiny, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so nearby seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo)) as u32
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            xs.swap(i, j);
        }
    }
    fn hex(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}

/// (id, name, hosts, cookie names)
type CatalogEntry = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const ADS: &[CatalogEntry] = &[
    (
        "meta",
        "Meta Pixel",
        &["connect.facebook.net", "www.facebook.com"],
        &["_fbp", "fr"],
    ),
    (
        "tiktok",
        "TikTok Pixel",
        &["analytics.tiktok.com"],
        &["_ttp", "ttcsid"],
    ),
    (
        "criteo",
        "Criteo",
        &["static.criteo.net", "gum.criteo.com"],
        &["cto_bundle", "uid"],
    ),
    (
        "linkedin",
        "LinkedIn Insight Tag",
        &["snap.licdn.com", "px.ads.linkedin.com"],
        &["li_sugr", "bcookie"],
    ),
    (
        "bing",
        "Microsoft Advertising",
        &["bat.bing.com"],
        &["_uetvid", "_uetsid"],
    ),
    (
        "pinterest",
        "Pinterest Tag",
        &["s.pinimg.com", "ct.pinterest.com"],
        &["_pin_unauth", "_pinterest_ct_ua"],
    ),
    (
        "snap",
        "Snap Pixel",
        &["sc-static.net", "tr.snapchat.com"],
        &["_scid", "sc_at"],
    ),
    (
        "taboola",
        "Taboola",
        &["cdn.taboola.com", "trc.taboola.com"],
        &["t_gid", "taboola_session_id"],
    ),
    (
        "google-ads",
        "Google Ads",
        &["www.googleadservices.com", "googleads.g.doubleclick.net"],
        &["_gcl_au", "IDE"],
    ),
];

const ANALYTICS: &[CatalogEntry] = &[
    (
        "google-analytics",
        "Google Analytics",
        &["www.google-analytics.com", "region1.google-analytics.com"],
        &["_ga", "_gid"],
    ),
    (
        "hotjar",
        "Hotjar",
        &["static.hotjar.com", "script.hotjar.com"],
        &["_hjSessionUser", "_hjSession"],
    ),
    (
        "mixpanel",
        "Mixpanel",
        &["cdn.mxpnl.com", "api-js.mixpanel.com"],
        &["mp_token_mixpanel", "mp_optout"],
    ),
    (
        "optimizely",
        "Optimizely",
        &["cdn.optimizely.com", "logx.optimizely.com"],
        &["optimizelyEndUserId", "optimizelySession"],
    ),
    (
        "amplitude",
        "Amplitude",
        &["cdn.amplitude.com", "api2.amplitude.com"],
        &["AMP_token", "AMP_MKTG"],
    ),
    (
        "matomo",
        "Matomo Cloud",
        &["cdn.matomo.cloud"],
        &["_pk_id", "_pk_ses"],
    ),
];

const CONTRACT: &[CatalogEntry] = &[
    (
        "stripe",
        "Stripe",
        &["js.stripe.com", "m.stripe.network"],
        &["__stripe_mid", "__stripe_sid"],
    ),
    (
        "zendesk",
        "Zendesk",
        &["static.zdassets.com", "ekr.zdassets.com"],
        &["__zlcmid", "_zendesk_shared_session"],
    ),
    (
        "intercom",
        "Intercom",
        &["widget.intercom.io", "api-iam.intercom.io"],
        &["intercom-id", "intercom-session"],
    ),
    (
        "adyen",
        "Adyen",
        &["checkoutshopper-live.adyen.com"],
        &["_uetdbg", "adyen-checkout"],
    ),
];

/// Third parties no site declares (fonts, ad exchanges, tag managers).
const UNDECLARED: &[(&str, &str)] = &[
    ("use.typekit.net", ""),
    ("fonts.gstatic.com", ""),
    ("ib.adnxs.com", "uuid2"),
    ("sync.outbrain.com", "obuid"),
    ("tags.tiqcdn.com", "utag_main"),
    ("js.hs-scripts.com", "hubspotutk"),
    ("cdn.segment.com", "ajs_anonymous_id"),
];

const SCENARIOS: [&str; 4] = ["no_action", "accept_all", "reject_all", "object_li"];
const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    Consent,
    Li,
    Contract,
}

struct Vendor {
    id: &'static str,
    name: &'static str,
    hosts: &'static [&'static str],
    basis: Basis,
    /// (purpose, basis, strictly necessary, TCF purpose)
    purposes: Vec<(&'static str, Basis, bool, Option<u8>)>,
    /// (name, domain, lifetime days (None: session), declared retention days)
    cookies: Vec<(String, String, Option<i64>, i64)>,
}

/// A period `[from, to)` (night indexes) during which something happens.
#[derive(Debug, Clone, Copy)]
struct Span {
    from: u32,
    to: u32,
}

impl Span {
    fn has(&self, d: u32) -> bool {
        d >= self.from && d < self.to
    }
}

fn spans(rng: &mut Rng, days: u32, count: u32, min: u32, max: u32) -> Vec<Span> {
    (0..count)
        .map(|_| {
            let len = rng.range(min, max);
            let from = rng.range(0, days.max(2));
            Span {
                from,
                to: from + len,
            }
        })
        .collect()
}

struct Site {
    name: String,
    domain: String,
    vendors: Vec<Vendor>,
    scenario_digest: String,
    policy_digests: [String; 2],
    /// (night, vendor index): from that night the vendor's legitimate-interest purpose
    /// is declared on consent instead.
    basis_change: Option<(u32, usize)>,
    /// Consent vendor firing before the choice (no_action, object_li).
    before_choice: Vec<(usize, Span)>,
    /// Consent vendor firing after reject_all.
    after_reject: Vec<(usize, Span)>,
    /// Legitimate-interest vendor ignoring the objection.
    objection_ignored: Vec<(usize, Span)>,
    /// Undeclared third parties (index into UNDECLARED), with the ads vendor whose script
    /// loads them.
    undeclared: Vec<(usize, Span, usize)>,
    /// A consent vendor that stops appearing.
    retired: Option<(usize, Span)>,
    /// Night from which analytics vendor 0's first cookie lives 730d instead of 395d.
    growth_night: u32,
    /// Night from which ads vendor 0's script loads ads vendor 1's last host.
    loader_night: u32,
    /// Vendor showing up on an undeclared page now and then.
    flaky_vendor: usize,
}

fn purpose_rows(basis: Basis, rng: &mut Rng) -> Vec<(&'static str, Basis, bool, Option<u8>)> {
    match basis {
        Basis::Consent => {
            let mut p = vec![("advertising", Basis::Consent, false, Some(4))];
            if rng.chance(0.5) {
                p.push(("ad_measurement", Basis::Consent, false, Some(7)));
            }
            p
        }
        Basis::Li => {
            let mut p = vec![("analytics", Basis::Li, false, Some(8))];
            if rng.chance(0.5) {
                p.push(("product_improvement", Basis::Li, false, Some(10)));
            }
            p
        }
        Basis::Contract => vec![("payment_and_support", Basis::Contract, true, None)],
    }
}

/// The declared legal basis of the synthetic map (this generator never declares a legal
/// obligation).
fn legal_basis(b: Basis) -> consentry::model::LegalBasis {
    use consentry::model::LegalBasis;
    match b {
        Basis::Consent => LegalBasis::Consent,
        Basis::Li => LegalBasis::LegitimateInterest,
        Basis::Contract => LegalBasis::Contract,
    }
}

fn parent(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

impl Site {
    fn new(index: usize, seed: u64, days: u32) -> Site {
        let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let name = format!("site-{index:02}");
        let domain = format!("shop{index:02}.example");
        let pick = |rng: &mut Rng, from: &[CatalogEntry], n: usize| {
            let mut all: Vec<CatalogEntry> = from.to_vec();
            rng.shuffle(&mut all);
            all.truncate(n);
            all
        };
        let mut vendors = Vec::new();
        for (group, n, basis) in [
            (ADS, 5, Basis::Consent),
            (ANALYTICS, 3, Basis::Li),
            (CONTRACT, 2, Basis::Contract),
        ] {
            for (id, vname, hosts, cookies) in pick(&mut rng, group, n) {
                let purposes = purpose_rows(basis, &mut rng);
                let cookies = cookies
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        // First cookie first-party (set by the vendor's script on the shop's
                        // domain), the second on the vendor's own domain.
                        let dom = if i == 0 {
                            domain.clone()
                        } else {
                            parent(hosts[hosts.len() - 1])
                        };
                        let (life, declared) = match (basis, i) {
                            (Basis::Consent, 0) => (Some(390), 395),
                            (Basis::Consent, _) => (Some(*rng.pick(&[90, 180, 365])), 395),
                            (Basis::Li, 0) => (Some(395), 395),
                            (Basis::Li, _) => (None, 0),
                            (Basis::Contract, _) => (Some(365), 365),
                        };
                        (c.to_string(), dom, life, declared)
                    })
                    .collect();
                vendors.push(Vendor {
                    id,
                    name: vname,
                    hosts,
                    basis,
                    purposes,
                    cookies,
                });
            }
        }
        // One advertiser's second cookie lives longer than declared, all year.
        vendors[2].cookies[1].2 = Some(400);
        vendors[2].cookies[1].3 = 365;
        let d = days.max(8);
        let basis_change = rng
            .chance(0.4)
            .then(|| (rng.range(d / 4, 3 * d / 4), 5 + rng.range(0, 3) as usize));
        let n = rng.range(1, 3);
        let before_choice = spans(&mut rng, d, n, 10, 60)
            .into_iter()
            .map(|s| (rng.range(0, 5) as usize, s))
            .collect();
        // The same vendor twice: resolved, then regressed.
        let ar = rng.range(0, 5) as usize;
        let after_reject = spans(&mut rng, d, 2, 5, 40)
            .into_iter()
            .map(|s| (ar, s))
            .collect();
        let n = rng.range(1, 3);
        let objection_ignored = spans(&mut rng, d, n, 14, 35)
            .into_iter()
            .map(|s| (5 + rng.range(0, 3) as usize, s))
            .collect();
        let mut undeclared = vec![(
            rng.range(0, 2) as usize,
            Span {
                from: 0,
                to: u32::MAX,
            },
            0,
        )];
        let n = rng.range(1, 3);
        for s in spans(&mut rng, d, n, 20, 200) {
            undeclared.push((
                rng.range(2, UNDECLARED.len() as u32) as usize,
                s,
                rng.range(0, 5) as usize,
            ));
        }
        let retired = rng
            .chance(0.3)
            .then(|| (rng.range(0, 5) as usize, spans(&mut rng, d, 1, 20, 120)[0]));
        Site {
            scenario_digest: rng.hex(),
            policy_digests: [rng.hex(), rng.hex()],
            basis_change,
            before_choice,
            after_reject,
            objection_ignored,
            undeclared,
            retired,
            growth_night: rng.range(d / 3, d),
            loader_night: rng.range(0, d),
            flaky_vendor: rng.range(0, 5) as usize,
            name,
            domain,
            vendors,
        }
    }

    fn basis(&self, v: usize, night: u32) -> Basis {
        match self.basis_change {
            Some((n, cv)) if cv == v && night >= n => Basis::Consent,
            _ => self.vendors[v].basis,
        }
    }

    fn declarations(&self, night: u32) -> Vec<Declaration> {
        let mut out = Vec::new();
        for (i, v) in self.vendors.iter().enumerate() {
            let changed = self.basis(i, night) != v.basis;
            for (p, b, sn, tcf) in &v.purposes {
                let b = if changed && *b == Basis::Li {
                    Basis::Consent
                } else {
                    *b
                };
                out.push(Declaration {
                    vendor: v.id.to_string(),
                    vendor_name: v.name.to_string(),
                    purpose: p.to_string(),
                    basis: legal_basis(b),
                    strictly_necessary: *sn,
                    tcf_purpose: *tcf,
                });
            }
        }
        out
    }

    fn policy_digest(&self, night: u32) -> &str {
        match self.basis_change {
            Some((n, _)) if night >= n => &self.policy_digests[1],
            _ => &self.policy_digests[0],
        }
    }
}

/// A cookie of a visit's inventory: (vendor, lifetime secs, declared retention secs).
type CookieSeen = (Option<String>, Option<i64>, Option<i64>);

/// What one visit produced.
struct Visit {
    obs: VisitObservation,
    findings: Vec<Finding>,
    inventory: Option<VisitInventory>,
    third_party: usize,
}

struct Ctx<'a> {
    site: &'a Site,
    scenario: &'static str,
    start: DateTime<Utc>,
    page: String,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn finding(
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
            fingerprint: fingerprint(code, &self.site.name, scenario, subject),
        }
    }

    fn evidence(
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
        }
    }
}

fn final_state(scenario: &str) -> ConsentState {
    let s = ConsentState::initial();
    match scenario {
        "accept_all" => s.after(ConsentAction::AcceptAll),
        "reject_all" => s.after(ConsentAction::RejectAll),
        "object_li" => s.after(ConsentAction::ObjectLi),
        _ => s,
    }
}

fn steps(scenario: &str) -> Vec<&'static str> {
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

fn visit(
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
        steps,
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
                time: start + Duration::milliseconds(900 + obs.requests.len() as i64 * 37),
                page: ctx.page.clone(),
                state: state.clone(),
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
struct Night {
    site: String,
    scenario_file: String,
    scenario_digest: String,
    policy_digest: String,
    started: DateTime<Utc>,
    declarations: Vec<Declaration>,
    visits: Vec<Visit>,
    run_level: Vec<Finding>,
    status: RunStatus,
    finished: DateTime<Utc>,
}

impl Night {
    fn import(&self) -> RunImport<'_> {
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
            },
            declarations: &self.declarations,
            visits: self
                .visits
                .iter()
                .enumerate()
                .map(|(pos, v)| JudgedVisit {
                    position: Some(pos),
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

fn night_run(site: &Site, night: u32, started: DateTime<Utc>, raw: bool, rng: &mut Rng) -> Night {
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let t0 = Instant::now();
    let shown = shown(&args.db);
    let store = Store::open(args.db.clone())
        .await
        .with_context(|| format!("open {shown}"))?;
    anyhow::ensure!(
        store.history().sites().await?.is_empty(),
        "{shown} already holds runs; give a new file or an empty database"
    );
    let sites: Vec<Site> = (1..=args.sites)
        .map(|i| Site::new(i, args.seed, args.days))
        .collect();
    let mut rngs: Vec<Rng> = (1..=args.sites)
        .map(|i| Rng::new(args.seed.wrapping_mul(31).wrapping_add(i as u64)))
        .collect();
    let first = args.end.and_hms_opt(2, 0, 0).context("end date")?.and_utc()
        - Duration::days(i64::from(args.days));
    let (mut runs, mut visits, mut findings) = (0u64, 0u64, 0u64);
    for night in 0..args.days {
        let raw = night + args.raw_days >= args.days;
        let nightly: Vec<Night> = sites
            .iter()
            .zip(rngs.iter_mut())
            .enumerate()
            .map(|(si, (site, rng))| {
                let started = first
                    + Duration::days(i64::from(night))
                    + Duration::seconds(si as i64 * 90 + i64::from(rng.range(0, 20)));
                night_run(site, night, started, raw, rng)
            })
            .collect();
        for n in &nightly {
            visits += n.visits.len() as u64;
            findings += n.run_level.len() as u64
                + n.visits
                    .iter()
                    .map(|v| v.findings.len() as u64)
                    .sum::<u64>();
        }
        runs += nightly.len() as u64;
        let imports: Vec<RunImport> = nightly.iter().map(|n| n.import()).collect();
        if args.per_visit {
            for r in &imports {
                let run = store.writer().start_run(&r.start).await?;
                store
                    .writer()
                    .record_declarations(run, r.declarations)
                    .await?;
                for v in &r.visits {
                    store.writer().record_judged_visit(run, v).await?;
                }
                if !r.findings.is_empty() {
                    store.writer().record_findings(run, r.findings).await?;
                }
                store
                    .writer()
                    .finish_run(run, &r.status, r.finished_at)
                    .await?;
            }
        } else {
            store.admin().import_runs(&imports).await?;
        }
        if (night + 1) % 30 == 0 || night + 1 == args.days {
            eprintln!(
                "night {}/{}: {runs} runs, {visits} visits, {findings} findings, {:.1}s",
                night + 1,
                args.days,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    store.close().await;
    let secs = t0.elapsed().as_secs_f64();
    // A SQLite file's size here; a PostgreSQL database's is `pg_database_size`, which
    // bench/drift.sh asks the server with psql (the example runs no SQL of its own).
    let size = match args.db.sqlite_path() {
        Some(p) => format!(
            "; {shown} is {:.1} MiB",
            std::fs::metadata(p)?.len() as f64 / (1024.0 * 1024.0)
        ),
        None => String::new(),
    };
    println!(
        "synth_history: {} sites x {} nights: {runs} runs, {visits} visits, {findings} findings in {secs:.1}s{size}",
        args.sites, args.days,
    );
    Ok(())
}
