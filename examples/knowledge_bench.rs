//! What the vendor and cookie knowledge bases cost (docs/knowledge.md): loading them at
//! start, and attributing one request and one cookie with them, against attribution
//! without them. Release build: `make bench-knowledge` (bench/RESULTS-knowledge.md).
//!
//!   knowledge_bench [KNOWLEDGE_DIR] [SCENARIO_FILE]
//!
//! Defaults: `fixtures/build/knowledge` (`make fixtures`) and `scenarios/demo-shop.toml`
//! (its site and declared map). Prints Markdown.

use consentry::attribution::Attributor;
use consentry::knowledge::{self, KnowledgeBase};
use consentry::model::purpose::PhaseConsent;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Hosts a shop's visit contacts: declared, known-undeclared (pattern, exact, subdomain)
/// and unknown; and cookie names: exact, prefix and unknown.
const HOSTS: &[&str] = &[
    "www.googletagmanager.com",
    "www.google-analytics.com",
    "connect.facebook.net",
    "analytics.tiktok.com",
    "bat.bing.com",
    "adservice.google.com",
    "eu.adservice.google.com",
    "static.hotjar.com",
    "cdn.unknown-vendor.example",
    "a.b.c.deep.example.co.uk",
];
const COOKIES: &[&str] = &[
    "_ga",
    "_ga_ABC123",
    "_fbp",
    "_uetsid",
    "ab_test_variant",
    "x",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| knowledge::DEFAULT_DIR.to_string()),
    );
    let scenario = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "scenarios/demo-shop.toml".to_string()),
    );
    if !knowledge::is_knowledge_dir(&dir) {
        eprintln!(
            "knowledge_bench: no knowledge files in {} (run `make fixtures`)",
            dir.display()
        );
        std::process::exit(1);
    }
    let spec = match consentry::scenario::load::load_audit_file(&scenario) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("knowledge_bench: {}: {d:?}", scenario.display());
            std::process::exit(1);
        }
    };

    // Start-up: read both files and build the indexes, as an audit does once.
    let loads = 20;
    let mut times = Vec::with_capacity(loads);
    let mut base = KnowledgeBase::empty();
    for _ in 0..loads {
        let t = Instant::now();
        let loaded = knowledge::load::load_dir(&dir);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        if !loaded.notices.is_empty() {
            eprintln!("knowledge_bench: {:?}", loaded.notices);
            std::process::exit(1);
        }
        base = loaded.base;
    }
    times.sort_by(f64::total_cmp);
    let versions = base.versions().unwrap_or_default();
    let base = Arc::new(base);

    let with = Attributor::new(&spec.site, &spec.policy).with_knowledge(base.clone());
    let without = Attributor::new(&spec.site, &spec.policy);
    let state = PhaseConsent::initial();
    let urls: Vec<String> = HOSTS
        .iter()
        .map(|h| format!("https://{h}/collect?v=2&tid=G-XXXX&cid=123.456"))
        .collect();
    let rounds = 20_000;
    let per_request = |a: &Attributor| {
        let t = Instant::now();
        for _ in 0..rounds {
            for u in &urls {
                black_box(a.url(black_box(u), &state));
            }
        }
        t.elapsed().as_secs_f64() * 1e6 / (rounds * urls.len()) as f64
    };
    let per_cookie = |a: &Attributor| {
        let t = Instant::now();
        for _ in 0..rounds {
            for c in COOKIES {
                black_box(a.cookie(black_box(c), ".demo-shop.test", &state));
            }
        }
        t.elapsed().as_secs_f64() * 1e6 / (rounds * COOKIES.len()) as f64
    };
    // Warm up, then measure each twice and keep the better.
    per_request(&with);
    let req_with = per_request(&with).min(per_request(&with));
    let req_without = per_request(&without).min(per_request(&without));
    let cookie_with = per_cookie(&with).min(per_cookie(&with));
    let cookie_without = per_cookie(&without).min(per_cookie(&without));
    let named = HOSTS.iter().filter(|h| base.host(h).is_some()).count();

    println!("| measure | value |");
    println!("|---|---|");
    println!("| knowledge | {versions} |");
    println!(
        "| load both sets and build the indexes (median of {loads}) | {:.1} ms (min {:.1}, max {:.1}) |",
        times[loads / 2],
        times[0],
        times[loads - 1]
    );
    println!("| attribute one request, with knowledge | {req_with:.2} µs |");
    println!("| attribute one request, without knowledge | {req_without:.2} µs |");
    println!("| attribute one cookie, with knowledge | {cookie_with:.2} µs |");
    println!("| attribute one cookie, without knowledge | {cookie_without:.2} µs |");
    println!(
        "| sample | {} request URLs ({named} of their hosts known), {} cookie names, {rounds} rounds |",
        urls.len(),
        COOKIES.len()
    );
}
