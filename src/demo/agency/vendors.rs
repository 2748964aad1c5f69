//! The vendor catalogue: the purposes clients declare, and the vendors (one host, one
//! tag, one pixel each) their sites load. Every client shares these hosts.

/// A legal footing of a declared purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Purpose {
    Analytics,
    Advertising,
    Support,
    Measurement,
    Security,
    Payment,
}

impl Purpose {
    /// id, name, basis, strictly necessary.
    pub(super) fn declaration(self) -> (&'static str, &'static str, &'static str, bool) {
        match self {
            Purpose::Analytics => ("analytics", "Audience analytics", "consent", false),
            Purpose::Advertising => ("advertising", "Personalised advertising", "consent", false),
            Purpose::Support => ("support", "Live chat support", "consent", false),
            Purpose::Measurement => (
                "measurement",
                "Audience measurement",
                "legitimate_interest",
                false,
            ),
            Purpose::Security => (
                "security",
                "Bot and fraud protection",
                "legitimate_interest",
                true,
            ),
            Purpose::Payment => ("payment", "Payment", "contract", false),
        }
    }

    pub(super) fn needs_consent(self) -> bool {
        matches!(
            self,
            Purpose::Analytics | Purpose::Advertising | Purpose::Support
        )
    }
}

/// A vendor of the catalogue: one host serving one tag script, which sends one pixel.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Vendor {
    pub id: &'static str,
    pub name: &'static str,
    pub host: &'static str,
    /// The tag's path on `host`.
    pub script: &'static str,
    /// The pixel the tag requests (a missing file: 204).
    pub pixel: &'static str,
    /// `None`: a vendor no client declares (an undeclared third party).
    pub purpose: Option<Purpose>,
}

impl Vendor {
    pub(super) fn script_url(&self) -> String {
        format!("https://{}{}", self.host, self.script)
    }

    /// The registrable domain (`.test` is no public suffix: the last two labels).
    pub(super) fn domain(&self) -> &'static str {
        let dots: Vec<usize> = self.host.match_indices('.').map(|(i, _)| i).collect();
        match dots.len() {
            0 | 1 => self.host,
            n => &self.host[dots[n - 2] + 1..],
        }
    }
}

const fn vendor(
    id: &'static str,
    name: &'static str,
    host: &'static str,
    script: &'static str,
    pixel: &'static str,
    purpose: Option<Purpose>,
) -> Vendor {
    Vendor {
        id,
        name,
        host,
        script,
        pixel,
        purpose,
    }
}

pub(super) const PULSE: Vendor = vendor(
    "pulse",
    "Pulse Analytics",
    "stats.pulse-analytics.test",
    "/pulse.js",
    "/hit",
    Some(Purpose::Analytics),
);
pub(super) const HEATMAPR: Vendor = vendor(
    "heatmapr",
    "Heatmapr",
    "cdn.heatmapr.test",
    "/hm.js",
    "/rec",
    Some(Purpose::Analytics),
);
pub(super) const ADNETIC: Vendor = vendor(
    "adnetic",
    "Adnetic",
    "px.adnetic.test",
    "/px.js",
    "/ev",
    Some(Purpose::Advertising),
);
pub(super) const RETARGETLY: Vendor = vendor(
    "retargetly",
    "Retargetly",
    "tag.retargetly.test",
    "/rt.js",
    "/imp",
    Some(Purpose::Advertising),
);
pub(super) const SOCIALPIX: Vendor = vendor(
    "socialpix",
    "Socialpix",
    "sdk.socialpix.test",
    "/sp.js",
    "/tr",
    Some(Purpose::Advertising),
);
pub(super) const VIDSTREAM: Vendor = vendor(
    "vidstream",
    "Vidstream ads",
    "player.vidstream.test",
    "/embed.js",
    "/view",
    Some(Purpose::Advertising),
);
pub(super) const CHATTERBOX: Vendor = vendor(
    "chatterbox",
    "Chatterbox live chat",
    "widget.chatterbox.test",
    "/chat.js",
    "/hello",
    Some(Purpose::Support),
);
pub(super) const AUDIENCEMETER: Vendor = vendor(
    "audiencemeter",
    "Audiencemeter",
    "m.audiencemeter.test",
    "/am.js",
    "/m",
    Some(Purpose::Measurement),
);
/// Audiencemeter's tag that also sets its `am_id` cookie (Set-Cookie on its pixel).
pub(super) const AUDIENCEMETER_ID: Vendor = vendor(
    "audiencemeter",
    "Audiencemeter",
    "m.audiencemeter.test",
    "/am-id.js",
    "/mid",
    Some(Purpose::Measurement),
);
pub(super) const BOTGUARD: Vendor = vendor(
    "botguard",
    "Botguard",
    "api.botguard.test",
    "/bg.js",
    "/chk",
    Some(Purpose::Security),
);
pub(super) const PAYBOX: Vendor = vendor(
    "paybox",
    "Paybox",
    "js.paybox.test",
    "/v1.js",
    "/session",
    Some(Purpose::Payment),
);
pub(super) const SNEAKY: Vendor = vendor(
    "sneaky-metrics",
    "Sneaky Metrics",
    "cdn.sneaky-metrics.test",
    "/sm.js",
    "/c",
    None,
);
pub(super) const SHADOWTRACK: Vendor = vendor(
    "shadowtrack",
    "Shadowtrack",
    "t.shadowtrack.test",
    "/st.js",
    "/p",
    None,
);
pub(super) const GROWTHHACK: Vendor = vendor(
    "growthhack",
    "Growthhack",
    "px.growthhack.test",
    "/gh.js",
    "/g",
    None,
);
/// The undeclared tag of the link-only page (found only by following links).
pub(super) const PARTNERHUB: Vendor = vendor(
    "partnerhub",
    "Partnerhub",
    "link.partnerhub.test",
    "/ph.js",
    "/r",
    None,
);
/// The undeclared tag of the robots-disallowed page (must never be found).
pub(super) const HIDDENPIXEL: Vendor = vendor(
    "hiddenpixel",
    "Hiddenpixel",
    "px.hiddenpixel.test",
    "/hp.js",
    "/h",
    None,
);

/// Every vendor host the generator writes (each site uses some of them).
pub(super) const CATALOGUE: [&Vendor; 16] = [
    &PULSE,
    &HEATMAPR,
    &ADNETIC,
    &RETARGETLY,
    &SOCIALPIX,
    &VIDSTREAM,
    &CHATTERBOX,
    &AUDIENCEMETER,
    &AUDIENCEMETER_ID,
    &BOTGUARD,
    &PAYBOX,
    &SNEAKY,
    &SHADOWTRACK,
    &GROWTHHACK,
    &PARTNERHUB,
    &HIDDENPIXEL,
];

pub(super) const CONSENT_VENDORS: [&Vendor; 6] = [
    &PULSE,
    &HEATMAPR,
    &ADNETIC,
    &RETARGETLY,
    &SOCIALPIX,
    &VIDSTREAM,
];
pub(super) const UNDECLARED: [&Vendor; 3] = [&SNEAKY, &SHADOWTRACK, &GROWTHHACK];

/// The cookie `audiencemeter`'s `/mid` pixel sets.
pub(super) const AM_COOKIE: &str = "am_id";
/// The cookie `botguard`'s `/chk` pixel sets (strictly necessary).
pub(super) const BG_COOKIE: &str = "bg_token";
/// A first-party preference cookie every site sets, within its declared retention.
pub(super) const LANG_COOKIE: &str = "lang";
