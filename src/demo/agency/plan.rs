//! The site plan: which clients the agency has, their CMP, vendors, pages and planted
//! violations, drawn from the seed. Everything the page, client and expectation writers
//! produce is read from this plan, so the expectations are the plan's, never a run's.

use super::rng::Rng;
use super::vendors::{Vendor, CHATTERBOX, CONSENT_VENDORS, UNDECLARED};

/// The scenarios every client runs (its `[run]` list and the fleet's).
pub(super) const SCENARIOS: [&str; 3] = ["no_action", "accept_all", "reject_all"];

/// How a site asks for consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    /// Klaro 0.7.22 (`/_fixtures/klaro/klaro.js`), accept and reject through autoconsent.
    Klaro,
    /// vanilla-cookieconsent 3.1.0 (`/_fixtures/cookieconsent/`), through autoconsent.
    CookieConsent,
    /// consentry's TCF v2.2 CMP (`/_fixtures/tcf-cmp.js`), through its selectors.
    Tcf,
    /// A hand-written banner, through selectors.
    Banner(BannerStyle),
}

impl Cmp {
    pub(super) fn name(self) -> &'static str {
        match self {
            Cmp::Klaro => "klaro",
            Cmp::CookieConsent => "cookieconsent",
            Cmp::Tcf => "tcf",
            Cmp::Banner(_) => "banner",
        }
    }
}

/// The selectors of a hand-written banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BannerStyle {
    pub banner: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
}

const BANNER_STYLES: [BannerStyle; 3] = [
    BannerStyle {
        banner: "cookie-bar",
        accept: "cb-yes",
        reject: "cb-no",
    },
    BannerStyle {
        banner: "consent-box",
        accept: "consent-accept",
        reject: "consent-decline",
    },
    BannerStyle {
        banner: "gdpr",
        accept: "gdpr-ok",
        reject: "gdpr-refuse",
    },
];

/// A site that never lets itself be observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Broken {
    /// Accepts the connection, reads the request, never answers.
    Hang,
    /// Answers 500 for everything.
    Error500,
    /// Redirects every path to `/`.
    RedirectLoop,
}

impl Broken {
    pub(super) fn name(self) -> &'static str {
        match self {
            Broken::Hang => "hang",
            Broken::Error500 => "error-500",
            Broken::RedirectLoop => "redirect-loop",
        }
    }
}

/// A violation planted on a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plant {
    /// A declared consent vendor's tag on every page, not gated by the CMP.
    UngatedConsentVendor(&'static Vendor),
    /// A declared consent vendor's tag on one page (not the first), not gated.
    ConsentVendorOnPage(&'static Vendor, String),
    /// An undeclared vendor's tag on one page.
    UndeclaredThirdParty(&'static Vendor, String),
    /// A first-party cookie no rule declares, set on one page.
    UndeclaredCookie(&'static str, String),
    /// A declared first-party cookie set for longer than declared, on one page.
    RetentionExceeded(&'static str, String),
    /// The payment vendor (declared on `/checkout`) loaded on another page too.
    OutsideDeclaredPages(String),
    /// The legitimate-interest vendor sets its cookie before any choice, on every page
    /// (not on Klaro sites: Klaro releases even its opt-out services only after a choice).
    LiCookie,
    /// Klaro only (instead of [`Plant::LiCookie`]): the legitimate-interest vendor, an
    /// opt-out service, loaded ungated: it keeps measuring after Reject all recorded the
    /// objection.
    UngatedLiVendor,
    /// A consent vendor declared in the policy that the site never loads.
    UnobservedVendor(&'static Vendor),
}

/// One page of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Page {
    pub path: String,
    pub title: String,
    pub kind: PageKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PageKind {
    Home,
    Category {
        products: Vec<u32>,
    },
    Product {
        id: u32,
        category: String,
    },
    BlogIndex,
    Article,
    About,
    Contact,
    Checkout,
    /// Linked from the home page only; absent from the sitemaps.
    Promo,
    /// Disallowed by robots.txt (linked from the home page).
    Private,
}

/// How a site publishes its sitemap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sitemaps {
    /// `/sitemap.xml`, named in robots.txt.
    Plain,
    /// `/sitemap.xml` only (robots.txt names no sitemap).
    Unlisted,
    /// robots.txt names `/sitemap_index.xml` with two plain children.
    Index,
    /// robots.txt names `/sitemap_index.xml`; the products' child is gzipped.
    IndexGzip,
}

impl Sitemaps {
    pub(super) fn name(self) -> &'static str {
        match self {
            Sitemaps::Plain => "plain",
            Sitemaps::Unlisted => "plain, not in robots.txt",
            Sitemaps::Index => "index",
            Sitemaps::IndexGzip => "index with a gzipped child",
        }
    }
}

/// One client site.
#[derive(Debug, Clone)]
pub(super) struct SitePlan {
    /// The client's name (`north-bakery`), also the file names under `clients/`.
    pub name: String,
    /// `www.<name>.test`.
    pub host: String,
    pub cmp: Cmp,
    pub broken: Option<Broken>,
    /// Listed inline in the fleet file (else by its scenario file).
    pub inline: bool,
    /// Consent vendors the CMP releases after accept.
    pub gated: Vec<&'static Vendor>,
    /// The legitimate-interest vendor (Klaro: an opt-out service; elsewhere ungated).
    pub li_vendor: bool,
    /// The strictly necessary bot protection on every page.
    pub botguard: bool,
    pub pages: Vec<Page>,
    pub sitemaps: Sitemaps,
    pub plants: Vec<Plant>,
    /// The link-only page's plant (found only by following links), if this site has it.
    pub link_only_plant: Option<String>,
    /// The robots-disallowed page's plant (must never be found), if this site has it.
    pub disallowed_plant: Option<String>,
}

impl SitePlan {
    /// The pages a single-site audit lists: the home page first, then one of each
    /// template the site's vendors and plants need (`/checkout` loads the payment vendor).
    pub(super) fn audit_pages(&self) -> Vec<String> {
        if self.broken.is_some() {
            return vec!["/".into()];
        }
        let mut pages = vec!["/".to_string()];
        let mut add = |p: &str| {
            if !pages.iter().any(|q| q == p) {
                pages.push(p.to_string());
            }
        };
        if let Some(p) = self
            .pages
            .iter()
            .find(|p| matches!(p.kind, PageKind::Product { .. }))
        {
            add(&p.path);
        }
        for plant in &self.plants {
            if let Some(page) = plant.page() {
                add(page);
            }
        }
        add("/checkout");
        pages
    }

    pub(super) fn title(&self) -> String {
        self.name
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Plant {
    /// The page a page-specific plant sits on (`None`: every page, or none).
    pub(super) fn page(&self) -> Option<&str> {
        match self {
            Plant::ConsentVendorOnPage(_, p)
            | Plant::UndeclaredThirdParty(_, p)
            | Plant::UndeclaredCookie(_, p)
            | Plant::RetentionExceeded(_, p)
            | Plant::OutsideDeclaredPages(p) => Some(p),
            Plant::UngatedConsentVendor(_)
            | Plant::LiCookie
            | Plant::UngatedLiVendor
            | Plant::UnobservedVendor(_) => None,
        }
    }
}

const TOWNS: [&str; 12] = [
    "north", "harbour", "old-town", "river", "hill", "market", "bridge", "mill", "castle",
    "station", "garden", "lake",
];
const TRADES: [&str; 16] = [
    "bakery", "florist", "cycles", "books", "tailor", "optician", "records", "toys", "cheese",
    "coffee", "tea", "wine", "pets", "shoes", "lamps", "pottery",
];
const CATEGORIES: [&str; 8] = [
    "new",
    "classics",
    "gifts",
    "sale",
    "seasonal",
    "essentials",
    "kits",
    "local",
];
const WORDS: [&str; 16] = [
    "autumn", "guide", "care", "tips", "story", "behind", "scenes", "workshop", "choose", "best",
    "winter", "makers", "visit", "notes", "recipe", "history",
];
const COOKIE_NAMES: [&str; 4] = ["ab_variant", "last_seen", "promo_seen", "ref_src"];
const RETENTION_COOKIES: [&str; 3] = ["recently_viewed", "wishlist", "basket_hint"];

/// The fleet's plan: `sites` clients, three of them broken, drawn from `seed`.
pub(super) fn plan(seed: u64, sites: usize) -> Vec<SitePlan> {
    let mut rng = Rng::new(seed);
    let names = names(&mut rng, sites);
    let mut broken_at: Vec<usize> = (0..sites).collect();
    rng.shuffle(&mut broken_at);
    let broken = [Broken::Hang, Broken::Error500, Broken::RedirectLoop];
    let broken_of = |i: usize| {
        broken_at[..3]
            .iter()
            .position(|&b| b == i)
            .map(|k| broken[k])
    };
    let healthy: Vec<usize> = (0..sites).filter(|&i| broken_of(i).is_none()).collect();
    let link_only_site = healthy[rng.below(healthy.len())];
    let disallowed_site = healthy[rng.below(healthy.len())];
    let mut inline: Vec<usize> = healthy.clone();
    rng.shuffle(&mut inline);
    inline.truncate(3);
    let cmp_offset = rng.below(4);

    let mut plans = Vec::with_capacity(sites);
    let mut healthy_index = 0;
    for (i, name) in names.into_iter().enumerate() {
        let host = format!("www.{name}.test");
        if let Some(b) = broken_of(i) {
            let style = BANNER_STYLES[rng.below(BANNER_STYLES.len())];
            plans.push(SitePlan {
                name,
                host,
                cmp: Cmp::Banner(style),
                broken: Some(b),
                inline: false,
                gated: Vec::new(),
                li_vendor: false,
                botguard: false,
                pages: vec![Page {
                    path: "/".into(),
                    title: "Home".into(),
                    kind: PageKind::Home,
                }],
                sitemaps: Sitemaps::Plain,
                plants: Vec::new(),
                link_only_plant: None,
                disallowed_plant: None,
            });
            continue;
        }
        let cmp = match (healthy_index + cmp_offset) % 4 {
            0 => Cmp::Klaro,
            1 => Cmp::CookieConsent,
            2 => Cmp::Tcf,
            _ => Cmp::Banner(BANNER_STYLES[rng.below(BANNER_STYLES.len())]),
        };
        let mut site = healthy_site(&mut rng, name, host, cmp, healthy_index);
        site.inline = inline.contains(&i);
        if i == link_only_site {
            let promo = site
                .pages
                .iter()
                .find(|p| p.kind == PageKind::Promo)
                .map(|p| p.path.clone());
            site.link_only_plant = promo;
        }
        if i == disallowed_site {
            site.disallowed_plant = Some("/private/".into());
        }
        plans.push(site);
        healthy_index += 1;
    }
    plans
}

/// `count` distinct `town-trade` names.
fn names(rng: &mut Rng, count: usize) -> Vec<String> {
    let mut all: Vec<String> = TOWNS
        .iter()
        .flat_map(|t| TRADES.iter().map(move |r| format!("{t}-{r}")))
        .collect();
    rng.shuffle(&mut all);
    all.truncate(count);
    all
}

fn healthy_site(rng: &mut Rng, name: String, host: String, cmp: Cmp, index: usize) -> SitePlan {
    let pages = pages(rng);
    let mut consent: Vec<&'static Vendor> = CONSENT_VENDORS.to_vec();
    rng.shuffle(&mut consent);
    let gated_count = 1 + rng.below(3);
    let gated: Vec<&'static Vendor> = consent.drain(..gated_count).collect();
    let li_vendor = rng.below(2) == 0;
    let botguard = rng.below(2) == 0;

    // Two or three plants; the kind of the first rotates with the site's index so every
    // kind appears in a fleet of 20.
    let unique_pages = ["/about", "/contact"];
    let mut kinds: Vec<usize> = (0..8).collect();
    rng.shuffle(&mut kinds);
    kinds.retain(|&k| k != index % 8);
    kinds.insert(0, index % 8);
    let wanted = 2 + rng.below(2);
    let mut plants: Vec<Plant> = Vec::new();
    let mut used_pages: Vec<&str> = Vec::new();
    let mut li_plant = false;
    for kind in kinds {
        if plants.len() == wanted {
            break;
        }
        let free_page = unique_pages
            .iter()
            .copied()
            .find(|p| !used_pages.contains(p));
        let plant = match kind {
            0 => consent.pop().map(Plant::UngatedConsentVendor),
            1 => match (consent.pop(), free_page) {
                (Some(v), Some(p)) => {
                    used_pages.push(p);
                    Some(Plant::ConsentVendorOnPage(v, p.into()))
                }
                _ => None,
            },
            2 => {
                let v = UNDECLARED[rng.below(UNDECLARED.len())];
                // On the product template (every product page) or on the home page.
                let page = if rng.below(2) == 0 {
                    "/".to_string()
                } else {
                    first_product(&pages)
                };
                Some(Plant::UndeclaredThirdParty(v, page))
            }
            3 => Some(Plant::UndeclaredCookie(
                COOKIE_NAMES[rng.below(COOKIE_NAMES.len())],
                "/".into(),
            )),
            4 => free_page.map(|p| {
                used_pages.push(p);
                Plant::RetentionExceeded(
                    RETENTION_COOKIES[rng.below(RETENTION_COOKIES.len())],
                    p.into(),
                )
            }),
            5 => free_page.map(|p| {
                used_pages.push(p);
                Plant::OutsideDeclaredPages(p.into())
            }),
            6 if !li_plant => {
                li_plant = true;
                // Klaro holds its opt-out services until a choice is made, so on Klaro
                // the LI plant is the tag that ignores the objection.
                if cmp == Cmp::Klaro {
                    Some(Plant::UngatedLiVendor)
                } else {
                    Some(Plant::LiCookie)
                }
            }
            7 => Some(Plant::UnobservedVendor(&CHATTERBOX)),
            _ => None,
        };
        plants.extend(plant);
    }
    // The LI plants need the LI vendor.
    let li_vendor = li_vendor || li_plant;
    let sitemaps = [
        Sitemaps::Plain,
        Sitemaps::Unlisted,
        Sitemaps::Index,
        Sitemaps::IndexGzip,
    ][rng.below(4)];
    SitePlan {
        name,
        host,
        cmp,
        broken: None,
        inline: false,
        gated,
        li_vendor,
        botguard,
        pages,
        sitemaps,
        plants,
        link_only_plant: None,
        disallowed_plant: None,
    }
}

fn first_product(pages: &[Page]) -> String {
    pages
        .iter()
        .find(|p| matches!(p.kind, PageKind::Product { .. }))
        .map(|p| p.path.clone())
        .unwrap_or_else(|| "/".into())
}

/// A site's pages: home, 2-4 categories, 12-30 products, a journal of 3-8 articles,
/// about, contact, checkout, one or two link-only promotions and a private page.
fn pages(rng: &mut Rng) -> Vec<Page> {
    let mut pages = vec![Page {
        path: "/".into(),
        title: "Home".into(),
        kind: PageKind::Home,
    }];
    let mut cats: Vec<&str> = CATEGORIES.to_vec();
    rng.shuffle(&mut cats);
    cats.truncate(2 + rng.below(3));
    let products = 12 + rng.below(19);
    let first_id = 100 + rng.below(800) as u32;
    let step = 1 + rng.below(7) as u32;
    let ids: Vec<u32> = (0..products as u32).map(|k| first_id + k * step).collect();
    for (c, cat) in cats.iter().enumerate() {
        let mine: Vec<u32> = ids
            .iter()
            .enumerate()
            .filter(|(k, _)| k % cats.len() == c)
            .map(|(_, id)| *id)
            .collect();
        pages.push(Page {
            path: format!("/category/{cat}/"),
            title: format!("Category: {cat}"),
            kind: PageKind::Category { products: mine },
        });
    }
    for (k, id) in ids.iter().enumerate() {
        pages.push(Page {
            path: format!("/product/{id}"),
            title: format!("Product {id}"),
            kind: PageKind::Product {
                id: *id,
                category: cats[k % cats.len()].to_string(),
            },
        });
    }
    pages.push(Page {
        path: "/blog/".into(),
        title: "Journal".into(),
        kind: PageKind::BlogIndex,
    });
    let mut slugs: Vec<String> = Vec::new();
    let articles = 3 + rng.below(6);
    while slugs.len() < articles {
        let slug = format!(
            "{}-{}-{}",
            WORDS[rng.below(WORDS.len())],
            WORDS[rng.below(WORDS.len())],
            WORDS[rng.below(WORDS.len())]
        );
        if !slugs.contains(&slug) {
            slugs.push(slug);
        }
    }
    for slug in slugs {
        pages.push(Page {
            title: format!("Journal: {}", slug.replace('-', " ")),
            path: format!("/blog/{slug}"),
            kind: PageKind::Article,
        });
    }
    for (path, title, kind) in [
        ("/about", "About us", PageKind::About),
        ("/contact", "Contact", PageKind::Contact),
        ("/checkout", "Checkout", PageKind::Checkout),
    ] {
        pages.push(Page {
            path: path.into(),
            title: title.into(),
            kind,
        });
    }
    for k in 0..1 + rng.below(2) {
        pages.push(Page {
            path: format!("/promo/{}-offer", ["spring", "summer"][k]),
            title: "Special offer".into(),
            kind: PageKind::Promo,
        });
    }
    pages.push(Page {
        path: "/private/".into(),
        title: "Staff only".into(),
        kind: PageKind::Private,
    });
    pages
}
