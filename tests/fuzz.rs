//! Property-style fuzzing without extra crates: a seeded xorshift generator mutates the
//! bundled example files and cookie lines (byte flips, splices of TOML and cookie
//! syntax, truncations, huge numbers) and feeds every loader and parser that takes
//! outside input. The property: no panic, and every rejected input is a diagnostic with
//! a position inside the file. Executions are printed (`cargo test --test fuzz -- --nocapture`)
//! and recorded in docs/reliability.md. Deterministic: the same seeds every run.

use chrono::{TimeZone, Utc};
use consentry::capture::cookies::{parse_cookie_date, parse_cookie_line};
use consentry::policy::load::parse_policy;
use consentry::scenario::load::parse_audit_file;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "{",
    "}",
    ",",
    "\n",
    "#",
    "\\",
    "${",
    "$${",
    "}",
    "\u{0}",
    "\u{1b}",
    "\u{202e}",
    "é",
    "999999999999999999999",
    "-1",
    "0",
    "true",
    "1e400",
    "\"\"\"",
    "'''",
    "[site]",
    "[cmp]",
    "[browser]",
    "[[scenario]]",
    "[[vendor]]",
    "[[purpose]]",
    "[[cookie]]",
    "[settings]",
    "steps = [",
    "{ click = \"",
    "consent = \"",
    "records = [",
    "13months",
    "0s",
    "99999999999h",
    "tcf_purpose = 4",
    "basis = \"",
    "domains = [\"com\"]",
    "hosts = [\"a/b\"]",
    "pages = [\"*\"]",
    "port",
    ":0",
    ":1",
    "https://",
    "http://[::1]:",
    "\u{fffd}",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<u8> = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] ^= 1 << rng.below(8);
            }
            1 if !s.is_empty() => {
                let end = (at + rng.below(40)).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 => s.truncate(at),
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                s.splice(at..at, t.iter().copied());
            }
        }
    }
    // Loaders take text (files are checked for UTF-8 first, with a position).
    String::from_utf8_lossy(&s).into_owned()
}

fn position_is_inside(src: &str, line: usize, col: usize) -> bool {
    let lines = src.split('\n').count().max(1);
    line >= 1 && line <= lines + 1 && col >= 1
}

#[test]
fn scenario_and_policy_loaders_never_panic() {
    let root = env!("CARGO_MANIFEST_DIR");
    let scenario = std::fs::read_to_string(format!("{root}/scenarios/demo-shop.toml")).unwrap();
    let policy =
        std::fs::read_to_string(format!("{root}/scenarios/demo-shop.policy.toml")).unwrap();
    let env = |_: &str| None;
    let mut rng = Rng(0x5eed_c0ff_ee00_0001);
    let mut executions = 0u64;
    let mut rejected = 0u64;
    for _ in 0..3_000 {
        let s = mutate(&mut rng, &scenario);
        let (_, diags) = parse_audit_file(Path::new("fuzz.toml"), &s, &env);
        for d in &diags.0 {
            assert!(
                d.file != Path::new("fuzz.toml") || position_is_inside(&s, d.line, d.col),
                "diagnostic outside the file: {d}\n--- input ---\n{s}"
            );
        }
        rejected += u64::from(diags.has_errors());
        let p = mutate(&mut rng, &policy);
        let (_, diags) = parse_policy(Path::new("fuzz.policy.toml"), &p);
        for d in &diags.0 {
            assert!(
                position_is_inside(&p, d.line, d.col),
                "{d}\n--- input ---\n{p}"
            );
        }
        rejected += u64::from(diags.has_errors());
        executions += 2;
    }
    println!("loaders: {executions} executions, {rejected} rejected with diagnostics, 0 crashes");
    assert!(rejected > 0, "the mutations must reach the error paths");
}

#[test]
fn cookie_parsers_never_panic_and_lifetimes_stay_sane() {
    let seeds = [
        "_ga=GA1.2.3; Max-Age=63072000; Path=/; Domain=.example.com; Secure",
        "id=abc; Expires=Wed, 21 Oct 2026 07:28:00 GMT; SameSite=None",
        "x=1; expires=Thu, 01-Jan-70 00:00:01 GMT",
        "y=2; Max-Age=9223372036854775807",
        "z; Expires=Sun, 31 Dec 99999 23:59:59 GMT",
    ];
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
    let mut rng = Rng(0x5eed_c0ff_ee00_0002);
    let mut executions = 0u64;
    for _ in 0..20_000 {
        let seed = seeds[rng.below(seeds.len())];
        let line = mutate(&mut rng, seed);
        if let Some(c) = parse_cookie_line(&line, at) {
            if let Some(l) = c.requested_lifetime_secs {
                assert!(
                    l <= consentry::capture::cookies::MAX_LIFETIME_SECS,
                    "{line:?} -> {l}"
                );
            }
        }
        let _ = parse_cookie_date(&line);
        executions += 2;
    }
    println!("cookie parsers: {executions} executions, 0 crashes");
}

/// The acknowledgements loader: no panic, every diagnostic inside the file, and an
/// accepted file only holds well-formed entries.
#[test]
fn acknowledgements_loader_never_panics() {
    let seed = "# accepted\n[[ack]]\nfingerprint = \"v1-0123456789abcdef\"\nsite = \"demo-shop\"\ncode = \"undeclared-cookie\"\nsubject = \"promo\"\nreason = \"Stripe fraud cookie\"\nowner = \"dpo@example.com\"\nacknowledged = \"2026-12-01\"\nexpires = \"2027-03-31\"\n\n[[ack]]\nfingerprint = \"v1-fedcba9876543210\"\nreason = \"r\"\nowner = \"o\"\nacknowledged = 2026-12-01T10:00:00Z\nexpires = 2027-01-01\n";
    let mut rng = Rng(0x5eed_ac4e_0000_0001);
    let (mut executions, mut rejected) = (0u64, 0u64);
    for _ in 0..3_000 {
        let s = mutate(&mut rng, seed);
        let (acks, diags) = consentry::ack::load::parse_acks(Path::new("acks.toml"), &s);
        for d in &diags.0 {
            assert!(
                position_is_inside(&s, d.line, d.col),
                "{d}\n--- input ---\n{s}"
            );
        }
        match acks {
            Some(acks) => {
                for a in &acks.entries {
                    assert!(consentry::ack::load::is_fingerprint(&a.fingerprint), "{s}");
                    assert!(!a.reason.trim().is_empty() && !a.owner.trim().is_empty());
                    assert!(a.acknowledged.is_none_or(|from| from <= a.expires), "{s}");
                }
            }
            None => rejected += 1,
        }
        executions += 1;
    }
    println!("acknowledgements: {executions} executions, {rejected} rejected with diagnostics, 0 crashes");
    assert!(rejected > 0 && rejected < executions, "both paths reached");
}
