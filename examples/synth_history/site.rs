//! The synthetic sites: their declared vendors, their cookies, and the episodes that
//! drive their findings over the year (see main.rs for what is generated).

use consentry::inventory::Declaration;

/// xorshift64* (Vigna): tiny, deterministic, good enough for test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so nearby seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..hi` (`hi > lo`).
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo)) as u32
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    pub(crate) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            xs.swap(i, j);
        }
    }
    pub(crate) fn hex(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}

/// (id, name, hosts, cookie names)
pub(crate) type CatalogEntry = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

pub(crate) const ADS: &[CatalogEntry] = &[
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

pub(crate) const ANALYTICS: &[CatalogEntry] = &[
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

pub(crate) const CONTRACT: &[CatalogEntry] = &[
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
pub(crate) const UNDECLARED: &[(&str, &str)] = &[
    ("use.typekit.net", ""),
    ("fonts.gstatic.com", ""),
    ("ib.adnxs.com", "uuid2"),
    ("sync.outbrain.com", "obuid"),
    ("tags.tiqcdn.com", "utag_main"),
    ("js.hs-scripts.com", "hubspotutk"),
    ("cdn.segment.com", "ajs_anonymous_id"),
];

pub(crate) const SCENARIOS: [&str; 4] = ["no_action", "accept_all", "reject_all", "object_li"];
pub(crate) const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    Consent,
    Li,
    Contract,
}

pub(crate) struct Vendor {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) hosts: &'static [&'static str],
    pub(crate) basis: Basis,
    /// (purpose, basis, strictly necessary, TCF purpose)
    pub(crate) purposes: Vec<(&'static str, Basis, bool, Option<u8>)>,
    /// (name, domain, lifetime days (None: session), declared retention days)
    pub(crate) cookies: Vec<(String, String, Option<i64>, i64)>,
}

/// A period `[from, to)` (night indexes) during which something happens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) from: u32,
    pub(crate) to: u32,
}

impl Span {
    pub(crate) fn has(&self, d: u32) -> bool {
        d >= self.from && d < self.to
    }
}

pub(crate) fn spans(rng: &mut Rng, days: u32, count: u32, min: u32, max: u32) -> Vec<Span> {
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

pub(crate) struct Site {
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) vendors: Vec<Vendor>,
    pub(crate) scenario_digest: String,
    pub(crate) policy_digests: [String; 2],
    /// (night, vendor index): from that night the vendor's legitimate-interest purpose
    /// is declared on consent instead.
    pub(crate) basis_change: Option<(u32, usize)>,
    /// Consent vendor firing before the choice (no_action, object_li).
    pub(crate) before_choice: Vec<(usize, Span)>,
    /// Consent vendor firing after reject_all.
    pub(crate) after_reject: Vec<(usize, Span)>,
    /// Legitimate-interest vendor ignoring the objection.
    pub(crate) objection_ignored: Vec<(usize, Span)>,
    /// Undeclared third parties (index into UNDECLARED), with the ads vendor whose script
    /// loads them.
    pub(crate) undeclared: Vec<(usize, Span, usize)>,
    /// A consent vendor that stops appearing.
    pub(crate) retired: Option<(usize, Span)>,
    /// Night from which analytics vendor 0's first cookie lives 730d instead of 395d.
    pub(crate) growth_night: u32,
    /// Night from which ads vendor 0's script loads ads vendor 1's last host.
    pub(crate) loader_night: u32,
    /// Vendor showing up on an undeclared page now and then.
    pub(crate) flaky_vendor: usize,
}

pub(crate) fn purpose_rows(
    basis: Basis,
    rng: &mut Rng,
) -> Vec<(&'static str, Basis, bool, Option<u8>)> {
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
pub(crate) fn legal_basis(b: Basis) -> consentry::model::LegalBasis {
    use consentry::model::LegalBasis;
    match b {
        Basis::Consent => LegalBasis::Consent,
        Basis::Li => LegalBasis::LegitimateInterest,
        Basis::Contract => LegalBasis::Contract,
    }
}

pub(crate) fn parent(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

impl Site {
    pub(crate) fn new(index: usize, seed: u64, days: u32) -> Site {
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

    pub(crate) fn basis(&self, v: usize, night: u32) -> Basis {
        match self.basis_change {
            Some((n, cv)) if cv == v && night >= n => Basis::Consent,
            _ => self.vendors[v].basis,
        }
    }

    pub(crate) fn declarations(&self, night: u32) -> Vec<Declaration> {
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

    pub(crate) fn policy_digest(&self, night: u32) -> &str {
        match self.basis_change {
            Some((n, _)) if night >= n => &self.policy_digests[1],
            _ => &self.policy_digests[0],
        }
    }
}
