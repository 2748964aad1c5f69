//! The page writer: each site's files in the file server's layout (`sites/<host>/...`,
//! docs/fixtures.md), and the vendor hosts every site shares.

use std::fmt::Write as _;
use std::path::Path;

use super::gzip;
use super::plan::{Broken, Cmp, Page, PageKind, Plant, SitePlan, Sitemaps};
use super::vendors::{
    Purpose, Vendor, AM_COOKIE, AUDIENCEMETER, AUDIENCEMETER_ID, BG_COOKIE, BOTGUARD, CATALOGUE,
    HIDDENPIXEL, LANG_COOKIE, PARTNERHUB, PAYBOX,
};
use super::write;

/// The cookie a hand-written banner keeps the choice in.
pub(super) const BANNER_COOKIE: &str = "cookie_choice";
/// Lifetimes the pages ask for, in seconds.
const LANG_MAX_AGE: u32 = 30 * 86_400;
const CHOICE_MAX_AGE: u32 = 180 * 86_400;
const UNDECLARED_MAX_AGE: u32 = 86_400;
/// A retention plant's cookie asks for 180 days (its rule says 30).
pub(super) const RETENTION_ASKED_DAYS: u32 = 180;

/// Every vendor host's tag and pixel sidecars.
pub(super) fn write_vendors(sites: &Path) -> anyhow::Result<()> {
    for v in CATALOGUE {
        let js = format!(
            "// Agency fixture vendor: {} ({}). One pixel.\nnew Image().src = 'https://{}{}?site=' + encodeURIComponent(location.hostname) + '&page=' + encodeURIComponent(location.pathname);\n",
            v.name,
            v.purpose.map_or("undeclared", |p| p.declaration().0),
            v.host,
            v.pixel
        );
        write(&sites.join(v.host).join(&v.script[1..]), js.as_bytes())?;
    }
    // The two pixels that set cookies (third-party cookies must be SameSite=None; Secure).
    let cookie = |name: &str, max_age: u32| {
        format!("Set-Cookie: {name}=1; Max-Age={max_age}; Path=/; Secure; SameSite=None\n")
    };
    write(
        &sites
            .join(AUDIENCEMETER_ID.host)
            .join(format!("{}.headers", &AUDIENCEMETER_ID.pixel[1..])),
        cookie(AM_COOKIE, 30 * 86_400).as_bytes(),
    )?;
    write(
        &sites
            .join(BOTGUARD.host)
            .join(format!("{}.headers", &BOTGUARD.pixel[1..])),
        cookie(BG_COOKIE, 3_600).as_bytes(),
    )?;
    Ok(())
}

/// One site's files.
pub(super) fn write_site(sites: &Path, site: &SitePlan) -> anyhow::Result<()> {
    let root = sites.join(&site.host);
    if let Some(broken) = site.broken {
        // The pages exist; the host's sidecar keeps anyone from seeing them.
        let sidecar = match broken {
            Broken::Hang => "# Accepts, reads the request, never answers.\nStatus: hang\n",
            Broken::Error500 => "# Every path answers 500.\nStatus: 500\n",
            Broken::RedirectLoop => {
                "# Every path redirects to /: a loop.\nStatus: 302\nLocation: /\n"
            }
        };
        write(
            &sites.join(format!("{}.headers", site.host)),
            sidecar.as_bytes(),
        )?;
        write(
            &root.join("index.html"),
            page(site, &site.pages[0]).as_bytes(),
        )?;
        return write_cmp_files(&root, site);
    }
    for p in &site.pages {
        write(&page_file(&root, &p.path), page(site, p).as_bytes())?;
    }
    write_cmp_files(&root, site)?;
    write_robots_and_sitemaps(&root, site)
}

fn page_file(root: &Path, path: &str) -> std::path::PathBuf {
    let mut file = root.to_path_buf();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        file.push(seg);
    }
    file.join("index.html")
}

/// The LI vendor's tag: the cookie-setting one when the site plants it.
fn li_tag(site: &SitePlan) -> &'static Vendor {
    if site.plants.contains(&Plant::LiCookie) {
        &AUDIENCEMETER_ID
    } else {
        &AUDIENCEMETER
    }
}

fn page(site: &SitePlan, page: &Page) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}: {}</title>\n<link rel=\"icon\" href=\"data:,\">\n",
        site.title(),
        page.title
    );
    h.push_str(&cmp_head(site));
    // Ungated tags on every page.
    let mut ungated: Vec<&Vendor> = Vec::new();
    if site.li_vendor && (site.cmp != Cmp::Klaro || site.plants.contains(&Plant::UngatedLiVendor)) {
        ungated.push(li_tag(site));
    }
    if site.botguard {
        ungated.push(&BOTGUARD);
    }
    for plant in &site.plants {
        if let Plant::UngatedConsentVendor(v) = plant {
            h.push_str("<!-- PLANTED: a consent vendor loaded on every page, not gated. -->\n");
            ungated.push(v);
        }
    }
    for v in ungated {
        let _ = writeln!(h, "<script src=\"{}\"></script>", v.script_url());
    }
    let _ = writeln!(
        h,
        "<script>document.cookie = '{LANG_COOKIE}=en; max-age={LANG_MAX_AGE}; path=/';</script>"
    );
    h.push_str("</head><body>\n");
    let _ = writeln!(h, "<h1>{}</h1>", page.title);
    h.push_str("<nav><a href=\"/\">Home</a> · <a href=\"/blog/\">Journal</a> · <a href=\"/about\">About</a> · <a href=\"/contact\">Contact</a> · <a href=\"/checkout\">Checkout</a></nav>\n");
    h.push_str(&main(site, page));
    h.push_str(&page_plants(site, page));
    h.push_str(&cmp_body(site));
    h.push_str("</body></html>\n");
    h
}

fn main(site: &SitePlan, page: &Page) -> String {
    let mut m = String::from("<main>\n");
    let link = |m: &mut String, path: &str, text: &str| {
        let _ = writeln!(m, "<a href=\"{path}\">{text}</a>");
    };
    match &page.kind {
        PageKind::Home => {
            for p in &site.pages {
                if matches!(p.kind, PageKind::Category { .. }) {
                    link(&mut m, &p.path, &p.title);
                }
            }
            m.push_str("<footer>\n");
            for p in &site.pages {
                if matches!(p.kind, PageKind::Promo | PageKind::Private) {
                    link(&mut m, &p.path, &p.title);
                }
            }
            m.push_str("</footer>\n");
        }
        PageKind::Category { products } => {
            for id in products {
                link(&mut m, &format!("/product/{id}"), &format!("Product {id}"));
            }
        }
        PageKind::Product { id, category } => {
            let _ = writeln!(m, "<p>Item {id}, from our {category} range.</p>");
            link(
                &mut m,
                &format!("/category/{category}/"),
                "Back to the category",
            );
        }
        PageKind::BlogIndex => {
            for p in &site.pages {
                if p.kind == PageKind::Article {
                    link(&mut m, &p.path, &p.title);
                }
            }
        }
        PageKind::Checkout => {
            m.push_str("<p>Pay securely.</p>\n");
            let _ = writeln!(m, "<script src=\"{}\"></script>", PAYBOX.script_url());
        }
        PageKind::Article
        | PageKind::About
        | PageKind::Contact
        | PageKind::Promo
        | PageKind::Private => m.push_str("<p>Lorem ipsum.</p>\n"),
    }
    m.push_str("</main>\n");
    m
}

/// The page-specific plants of `page` (a plant on a product page is on every product page).
fn page_plants(site: &SitePlan, page: &Page) -> String {
    let here = |p: &str| {
        p == page.path
            || (matches!(page.kind, PageKind::Product { .. }) && p.starts_with("/product/"))
    };
    let mut s = String::new();
    for plant in &site.plants {
        match plant {
            Plant::ConsentVendorOnPage(v, p) if here(p) => {
                let _ = writeln!(
                    s,
                    "<!-- PLANTED: a consent vendor on this page, not gated. -->\n<script src=\"{}\"></script>",
                    v.script_url()
                );
            }
            Plant::UndeclaredThirdParty(v, p) if here(p) => {
                let _ = writeln!(
                    s,
                    "<!-- PLANTED: an undeclared third party. -->\n<script src=\"{}\"></script>",
                    v.script_url()
                );
            }
            Plant::UndeclaredCookie(name, p) if here(p) => {
                let _ = writeln!(
                    s,
                    "<!-- PLANTED: an undeclared cookie. -->\n<script>document.cookie = '{name}=1; max-age={UNDECLARED_MAX_AGE}; path=/';</script>"
                );
            }
            Plant::RetentionExceeded(name, p) if here(p) => {
                let _ = writeln!(
                    s,
                    "<!-- PLANTED: kept longer than declared. -->\n<script>document.cookie = '{name}=1; max-age={}; path=/';</script>",
                    RETENTION_ASKED_DAYS * 86_400
                );
            }
            Plant::OutsideDeclaredPages(p) if here(p) => {
                let _ = writeln!(
                    s,
                    "<!-- PLANTED: the payment vendor outside its declared pages. -->\n<script src=\"{}\"></script>",
                    PAYBOX.script_url()
                );
            }
            _ => {}
        }
    }
    if site.link_only_plant.as_deref() == Some(page.path.as_str()) {
        let _ = writeln!(
            s,
            "<!-- PLANTED: an undeclared third party on a page only links reach. -->\n<script src=\"{}\"></script>",
            PARTNERHUB.script_url()
        );
    }
    if site.disallowed_plant.as_deref() == Some(page.path.as_str()) {
        let _ = writeln!(
            s,
            "<!-- PLANTED: an undeclared third party on a page robots.txt disallows (never audited). -->\n<script src=\"{}\"></script>",
            HIDDENPIXEL.script_url()
        );
    }
    s
}

/// The CMP's scripts (and its gated tags) in the head.
fn cmp_head(site: &SitePlan) -> String {
    let mut h = String::new();
    match site.cmp {
        Cmp::Klaro => {
            h.push_str("<script src=\"/klaro-config.js\"></script>\n<script defer src=\"/_fixtures/klaro/klaro.js\"></script>\n");
            for v in klaro_services(site)
                .into_iter()
                .filter(|v| !(v.id == AUDIENCEMETER.id && site.plants.contains(&Plant::UngatedLiVendor)))
            {
                let _ = writeln!(
                    h,
                    "<script type=\"text/plain\" data-type=\"text/javascript\" data-name=\"{}\" data-src=\"{}\"></script>",
                    v.id,
                    v.script_url()
                );
            }
        }
        Cmp::CookieConsent => {
            h.push_str("<link rel=\"stylesheet\" href=\"/_fixtures/cookieconsent/cookieconsent.css\">\n<script src=\"/_fixtures/cookieconsent/cookieconsent.umd.js\"></script>\n<script src=\"/cc-config.js\"></script>\n");
            for v in &site.gated {
                let category = match v.purpose {
                    Some(Purpose::Advertising) => "marketing",
                    _ => "analytics",
                };
                let _ = writeln!(
                    h,
                    "<script type=\"text/plain\" data-category=\"{category}\" src=\"{}\"></script>",
                    v.script_url()
                );
            }
        }
        Cmp::Tcf => h.push_str("<script>window.TCF_FIXTURE = {};</script>\n<script src=\"/_fixtures/tcf-cmp.js\"></script>\n<script src=\"/tcf-loader.js\"></script>\n"),
        Cmp::Banner(_) => {}
    }
    h
}

/// Klaro's services: the consent vendors, and the LI vendor as an opt-out service (also
/// when the site plants its tag ungated: Klaro's Reject all then records the objection
/// the tag ignores).
fn klaro_services(site: &SitePlan) -> Vec<&'static Vendor> {
    let mut v = site.gated.clone();
    if site.li_vendor {
        v.push(li_tag(site));
    }
    v
}

/// The banner markup (TCF and hand-written banners) at the end of the body.
fn cmp_body(site: &SitePlan) -> String {
    match site.cmp {
        Cmp::Tcf => "<div id=\"tcf-banner\" hidden>\n<p>We and our partners store and access information on your device.</p>\n<button id=\"tcf-accept\">Accept all</button>\n<button id=\"tcf-reject\">Reject all</button>\n<button id=\"tcf-manage\">Manage options</button>\n<div id=\"tcf-layer2\" hidden><button id=\"tcf-object-all\">Object all</button><button id=\"tcf-save\">Save and exit</button></div>\n</div>\n".into(),
        Cmp::Banner(style) => format!(
            "<div id=\"{}\" hidden>\n<p>We use cookies for analytics and advertising, with your consent.</p>\n<button id=\"{}\">Accept all</button>\n<button id=\"{}\">Reject all</button>\n</div>\n<script src=\"/consent.js\"></script>\n",
            style.banner, style.accept, style.reject
        ),
        Cmp::Klaro | Cmp::CookieConsent => String::new(),
    }
}

fn js_list(vendors: &[&Vendor]) -> String {
    let urls: Vec<String> = vendors
        .iter()
        .map(|v| format!("'{}'", v.script_url()))
        .collect();
    format!("[{}]", urls.join(", "))
}

/// The CMP's site-specific files.
fn write_cmp_files(root: &Path, site: &SitePlan) -> anyhow::Result<()> {
    match site.cmp {
        Cmp::Klaro => {
            let mut services = String::new();
            for v in klaro_services(site) {
                let Some(purpose) = v.purpose else { continue };
                let opt_out = if purpose.needs_consent() {
                    ""
                } else {
                    ", optOut: true"
                };
                let _ = writeln!(
                    services,
                    "    {{ name: '{}', title: '{}', purposes: ['{}']{opt_out} }},",
                    v.id,
                    v.name,
                    purpose.declaration().0
                );
            }
            let js = format!(
                "// Klaro 0.7.22 configuration (agency fixture). Consent services are off until\n// accepted; optOut services (legitimate interest) run until declined.\nvar klaroConfig = {{\n  version: 1,\n  elementID: 'klaro',\n  storageMethod: 'cookie',\n  storageName: 'klaro',\n  cookieExpiresAfterDays: 180,\n  default: false,\n  mustConsent: false,\n  acceptAll: true,\n  hideDeclineAll: false,\n  lang: 'en',\n  translations: {{ en: {{ privacyPolicyUrl: '/about', consentNotice: {{ description: 'We use services for analytics, advertising and audience measurement.' }}, purposes: {{ analytics: 'Analytics', advertising: 'Advertising', support: 'Support', measurement: 'Audience measurement' }} }} }},\n  services: [\n{services}  ],\n}};\n"
            );
            write(&root.join("klaro-config.js"), js.as_bytes())
        }
        Cmp::CookieConsent => write(&root.join("cc-config.js"), CC_CONFIG.as_bytes()),
        Cmp::Tcf => {
            let js = format!(
                "// The shop's TCF-aware loader (agency fixture): the consent vendors load once the\n// CMP's TC string grants purpose 1 and vendor 10.\n(function () {{\n  var GATED = {};\n  var done = false;\n  window.__tcfapi('addEventListener', 2, function (d, ok) {{\n    if (done || !ok || !d || !d.tcString || d.eventStatus === 'cmpuishown') return;\n    if (d.purpose.consents[1] && d.vendor.consents[10]) {{\n      done = true;\n      GATED.forEach(function (src) {{ var s = document.createElement('script'); s.src = src; document.head.appendChild(s); }});\n    }}\n  }});\n}})();\n",
                js_list(&site.gated)
            );
            write(&root.join("tcf-loader.js"), js.as_bytes())
        }
        Cmp::Banner(style) => {
            let js = format!(
                "// A hand-written banner (agency fixture): the choice in the cookie {BANNER_COOKIE},\n// the consent vendors loaded only after yes.\n(function () {{\n  var GATED = {};\n  var m = document.cookie.match(/(?:^|; ){BANNER_COOKIE}=([^;]*)/);\n  var load = function () {{ GATED.forEach(function (src) {{ var s = document.createElement('script'); s.src = src; document.head.appendChild(s); }}); }};\n  var banner = document.getElementById('{}');\n  var decide = function (v) {{\n    document.cookie = '{BANNER_COOKIE}=' + v + '; max-age={CHOICE_MAX_AGE}; path=/; SameSite=Lax';\n    banner.hidden = true;\n    if (v === 'yes') load();\n  }};\n  if (m && m[1] === 'yes') load();\n  if (!m) {{\n    banner.hidden = false;\n    document.getElementById('{}').addEventListener('click', function () {{ decide('yes'); }});\n    document.getElementById('{}').addEventListener('click', function () {{ decide('no'); }});\n  }}\n}})();\n",
                js_list(&site.gated),
                style.banner,
                style.accept,
                style.reject
            );
            write(&root.join("consent.js"), js.as_bytes())
        }
    }
}

const CC_CONFIG: &str = "// vanilla-cookieconsent 3.1.0 configuration (agency fixture): categories necessary,\n// analytics, marketing; tagged scripts are released once their category is accepted.\nwindow.addEventListener('load', function () {\n  CookieConsent.run({\n    hideFromBots: false,\n    cookie: { name: 'cc_cookie', expiresAfterDays: 180 },\n    categories: { necessary: { enabled: true, readOnly: true }, analytics: {}, marketing: {} },\n    language: { default: 'en', translations: { en: {\n      consentModal: { title: 'We use cookies', description: 'Analytics and marketing run only with your consent.', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Manage preferences' },\n      preferencesModal: { title: 'Cookie preferences', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', savePreferencesBtn: 'Save preferences', sections: [\n        { title: 'Necessary', linkedCategory: 'necessary' },\n        { title: 'Analytics', linkedCategory: 'analytics' },\n        { title: 'Marketing', linkedCategory: 'marketing' } ] } } } },\n  });\n});\n";

/// robots.txt (disallowing `/private/`) and the sitemaps, by the site's sitemap kind. The
/// promotions (reachable by links only) and the private page are in no sitemap.
fn write_robots_and_sitemaps(root: &Path, site: &SitePlan) -> anyhow::Result<()> {
    let base = format!("https://{}", site.host);
    let listed: Vec<&Page> = site
        .pages
        .iter()
        .filter(|p| !matches!(p.kind, PageKind::Promo | PageKind::Private))
        .collect();
    let (products, others): (Vec<&Page>, Vec<&Page>) = listed
        .iter()
        .partition(|p| matches!(p.kind, PageKind::Product { .. }));
    let mut robots = String::from("User-agent: *\nDisallow: /private/\n");
    match site.sitemaps {
        Sitemaps::Plain | Sitemaps::Unlisted => {
            if site.sitemaps == Sitemaps::Plain {
                let _ = writeln!(robots, "Sitemap: {base}/sitemap.xml");
            }
            write(&root.join("sitemap.xml"), urlset(&base, &listed).as_bytes())?;
        }
        Sitemaps::Index | Sitemaps::IndexGzip => {
            let _ = writeln!(robots, "Sitemap: {base}/sitemap_index.xml");
            let products_file = if site.sitemaps == Sitemaps::IndexGzip {
                "sitemap-products.xml.gz"
            } else {
                "sitemap-products.xml"
            };
            let index = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n<sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>\n<sitemap><loc>{base}/{products_file}</loc></sitemap>\n</sitemapindex>\n"
            );
            write(&root.join("sitemap_index.xml"), index.as_bytes())?;
            write(
                &root.join("sitemap-pages.xml"),
                urlset(&base, &others).as_bytes(),
            )?;
            let products = urlset(&base, &products);
            let bytes = if site.sitemaps == Sitemaps::IndexGzip {
                gzip::stored(products.as_bytes())
            } else {
                products.into_bytes()
            };
            write(&root.join(products_file), &bytes)?;
        }
    }
    write(&root.join("robots.txt"), robots.as_bytes())
}

fn urlset(base: &str, pages: &[&Page]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for p in pages {
        let _ = writeln!(s, "<url><loc>{base}{}</loc></url>", p.path);
    }
    s.push_str("</urlset>\n");
    s
}
