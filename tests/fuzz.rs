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
        if let Some(c) = parse_cookie_line(&line, at, &ValueHasher::unkeyed()) {
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

// ---------------------------------------------------------------------------------------
// Decoders of page-supplied data (issue 25: "decoders never panic"). A page controls the
// TC strings it hands to vendors, its `euconsent-v2` cookie and its `__tcfapi` answers,
// its Google requests' `gcs` / `gcd`, its `/.well-known/gpc.json` and what its CMP
// records. The property: whatever they hold, no panic escapes a decoder, every input
// gives a value (decoded, or undecodable with a reason), and nothing a library does
// reaches stderr. cargo-fuzz would need a nightly toolchain, which this machine lacks:
// this is a seeded, deterministic mutation fuzzer on stable instead.

use consentry::cmp::{interpret_readback, Readback};
use consentry::model::{ConsentState, RequestObs, TargetKind, ValueHasher};
use consentry::signals::gcm::{decode_gcd, decode_gcs, ConsentModeSignal};
use consentry::signals::gpc::{parse_well_known, WellKnownOutcome};
use consentry::signals::tcf::{self, PageProbe, TcfSignal};
use consentry::signals::SignalData;

/// In-test TC strings, so the section runs without `make fixtures`: the fixture CMP's
/// strings (@iabtcf/core 1.5.6) and `lib_tcstring`'s own vectors with every optional
/// segment (disclosed, allowed vendors, publisher TC).
const TC_SEEDS: &[&str] = &[
    "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK.cCAAAEAAAAAA",
    "CQujIwAQujIwAEsAHBENDIFsAP_gAEPgAAYgAeABAEAQBAEAQAeAAAIAgAAA.YAAAAAAAAAAA",
    "CQujIwAQujIwAEsAHBENDIFgAAAAAEPgAAYgAAAAeAAAIAgAAAAA.YAAAAAAAAAAA",
    "CQujIwAQujIwAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA",
    "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA",
    "COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.QFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.YAAAAAAAAAAAAAAAAAA",
];

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Bytes a TC string must not hold, and ones that split it.
const NOT_B64: &[&str] = &[
    "=", "+", "/", " ", "\u{0}", "é", "%", "%2E", ".", "..", "\n", "${", "\u{fffd}", "\u{202e}",
];

/// The golden strings of `make fixtures` when built (tests/tcf_golden.rs), else none.
fn golden_tc_strings() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/build/tcf-golden.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["tc_string"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `base` plus up to `spread - 1` random base64url characters.
fn b64(rng: &mut Rng, base: usize, spread: usize) -> String {
    let n = base + rng.below(spread);
    (0..n).map(|_| B64[rng.below(B64.len())] as char).collect()
}

/// One mutation of a TC string: an optional segment of a chosen type and length, a
/// changed base64 character, a truncation, a byte outside the alphabet, many dots, a
/// huge string, segments spliced from another string.
fn mutate_tc(rng: &mut Rng, seed: &str, other: &str) -> String {
    let core = seed.split('.').next().unwrap_or(seed);
    let mut s = seed.to_string();
    for _ in 0..1 + rng.below(3) {
        s = match rng.below(9) {
            0 => {
                // Optional segment: the first character's top three bits are its type.
                let first = B64[rng.below(B64.len())] as char;
                format!("{core}.{first}{}", b64(rng, 0, 9))
            }
            1 if !s.is_empty() => {
                let mut b = s.into_bytes();
                let i = rng.below(b.len());
                b[i] = B64[rng.below(B64.len())];
                String::from_utf8_lossy(&b).into_owned()
            }
            2 => {
                let at = rng.below(s.len() + 1);
                s.get(..at).unwrap_or(&s).to_string()
            }
            3 => {
                let at = rng.below(s.len() + 1);
                let mut t = s.get(..at).unwrap_or_default().to_string();
                t.push_str(NOT_B64[rng.below(NOT_B64.len())]);
                t.push_str(s.get(at..).unwrap_or_default());
                t
            }
            4 => format!("{s}{}", ".".repeat(1 + rng.below(40))),
            // Huge, over and just under the limit (rarer: each costs a full decode).
            5 => match rng.below(12) {
                0 => s.repeat(1 + 9000 / s.len().max(1)),
                1 => format!("{core}.{}", b64(rng, 8 * 1024, 64)),
                2 => format!("C{}", b64(rng, 8 * 1024 - 64, 64)),
                _ => format!("{s}{}", NOT_B64[rng.below(NOT_B64.len())]),
            },
            6 => {
                let tail: Vec<&str> = other.split('.').skip(1).collect();
                format!("{core}.{}", tail.join("."))
            }
            7 => format!("{s}.{}", b64(rng, 0, 200)),
            _ => format!("{core}{}", b64(rng, 0, 120)),
        };
    }
    s
}

fn request(url: &str) -> RequestObs {
    RequestObs {
        url: url.to_string(),
        method: "GET".into(),
        resource_type: "Image".into(),
        initiator: None,
        frame_id: None,
        target: TargetKind::Page,
        status: Some(200),
        error: None,
        cancelled: false,
        frames: None,
        cause: None,
        time: Utc::now(),
        page: "https://www.fuzz.test/".into(),
        state: ConsentState::initial(),
        http: None,
    }
}

fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// A decoded or undecodable TC signal, never neither; counts contained library panics.
fn check_tcf(t: &TcfSignal, input: &str, panics: &mut u64) {
    match (&t.decoded, &t.error) {
        (Some(d), _) => *panics += u64::from(d.decoder.contains("panicked")),
        (None, Some(e)) => *panics += u64::from(e.contains("panicked")),
        (None, None) => panic!("neither decoded nor an error: {input:?}"),
    }
}

#[test]
fn decoders_never_panic() {
    let started = std::time::Instant::now();
    let mut rng = Rng(0x5eed_dec0_de25_0001);
    let golden = golden_tc_strings();
    let seeds: Vec<String> = TC_SEEDS
        .iter()
        .map(|s| s.to_string())
        .chain(golden.iter().cloned())
        .collect();
    let (mut tc_inputs, mut decoded, mut contained_panics) = (0u64, 0u64, 0u64);
    let state = ConsentState::initial();
    let now = Utc::now();
    let hasher = ValueHasher::keyed(b"fuzz");

    // Every optional-segment length 0..=8 after every seed's core, for each of the 64
    // first characters (so each segment type, 0-7, with every low-bit pattern).
    let mut systematic = Vec::new();
    for seed in &seeds {
        let core = seed.split('.').next().unwrap_or(seed);
        for first in B64 {
            for len in 0..=8 {
                let seg: String = std::iter::once(*first as char)
                    .chain(std::iter::repeat_n('A', len))
                    .take(len)
                    .collect();
                systematic.push(format!("{core}.{seg}"));
            }
        }
    }
    let random = (0..25_000).map(|i| {
        let seed = &seeds[i % seeds.len()];
        let other = &seeds[(i / seeds.len()) % seeds.len()];
        (seed.clone(), other.clone())
    });
    let mut feed = |s: &str, rng: &mut Rng| {
        let sig = TcfSignal::from_string(s, &hasher);
        check_tcf(&sig, s, &mut contained_panics);
        decoded += u64::from(sig.decoded.is_some());
        match rng.below(3) {
            // A vendor request (`gdpr_consent`).
            0 => {
                let url = format!(
                    "https://ads.fuzz.test/p?gdpr=1&gdpr_consent={}",
                    query_value(s)
                );
                if let Some(obs) = tcf::from_request(&request(&url), &hasher) {
                    let SignalData::Tcf(t) = &obs.data else {
                        panic!("not TCF: {s:?}")
                    };
                    check_tcf(t, s, &mut contained_panics);
                }
            }
            // The page API's answer, its cookie and an announcement.
            1 => {
                let probe: PageProbe = serde_json::from_value(serde_json::json!({
                    "api": true, "answered": true, "tcString": s, "cookie": s,
                    "events": [{"tcString": format!("{s}A"), "at": 0.0}]
                }))
                .unwrap_or_default();
                for obs in probe.signals(&hasher, now, "https://p.fuzz.test/", &state, |_| {
                    state.clone()
                }) {
                    let SignalData::Tcf(t) = &obs.data else {
                        panic!("not TCF: {s:?}")
                    };
                    check_tcf(t, s, &mut contained_panics);
                }
            }
            // The CMP record read back after an action.
            _ => {
                let res = serde_json::json!({"tcf": {"present": true,
                    "record": {"tcString": s, "eventStatus": "useractioncomplete"}}});
                let r = interpret_readback(&res, None);
                assert!(
                    matches!(r, Readback::Recorded { .. } | Readback::Unreadable { .. }),
                    "{s:?}: {r:?}"
                );
            }
        }
    };
    for s in &systematic {
        feed(s, &mut rng);
        tc_inputs += 1;
    }
    for (seed, other) in random {
        let s = mutate_tc(&mut rng, &seed, &other);
        feed(&s, &mut rng);
        tc_inputs += 1;
    }
    let tc_time = started.elapsed();

    // Consent Mode: gcs and gcd values, mutated, huge, inside a URL too.
    let gcm_seeds = [
        "G100",
        "G111",
        "G1--",
        "G101",
        "11p1p1p1p5",
        "13p3p3p2p5l1",
        "13r3r3r2r5l1",
        "11l1l1l1l5",
    ];
    let gcm_tokens = [
        "1",
        "0",
        "-",
        "G",
        "G1",
        "p",
        "q",
        "r",
        "l",
        "v",
        "z",
        "é",
        "%",
        "&",
        "=",
        "#",
        "\u{0}",
        "99999999999999999999",
    ];
    let mut gcm_inputs = 0u64;
    for i in 0..50_000 {
        let mut v = gcm_seeds[i % gcm_seeds.len()].to_string();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(v.len() + 1);
            v = match rng.below(4) {
                0 => v.get(..at).unwrap_or(&v).to_string(),
                1 => format!(
                    "{}{}{}",
                    v.get(..at).unwrap_or_default(),
                    gcm_tokens[rng.below(gcm_tokens.len())],
                    v.get(at..).unwrap_or_default()
                ),
                2 if i % 97 == 0 => v.repeat(1 + 5000 / v.len().max(1)),
                _ => format!("{v}{}", gcm_tokens[rng.below(gcm_tokens.len())]),
            };
        }
        let _ = decode_gcs(&v);
        let _ = decode_gcd(&v);
        let url = format!(
            "https://www.google-analytics.com/g/collect?v=2&gcs={0}&gcd={0}",
            query_value(&v)
        );
        if let Some(s) = ConsentModeSignal::from_url(&url) {
            assert!(s.raw.gcs.is_some() && s.raw.gcd.is_some(), "{url}");
            let _ = (s.describe(), s.all_denied(), s.missing_defaults());
        }
        gcm_inputs += 1;
    }

    // GPC: /.well-known/gpc.json bodies.
    let gpc_seeds = [
        r#"{"gpc": true, "lastUpdate": "2026-11-01"}"#,
        r#"{"gpc": false}"#,
        r#"{"gpc": true, "lastUpdate": "2026-11-01T10:00:00Z"}"#,
        "[]",
    ];
    let json_tokens = [
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "true",
        "null",
        "1e999",
        "-0",
        "\\u0000",
        "\\ud800",
        "é",
        "\u{0}",
        "\"lastUpdate\"",
        "\"gpc\"",
        "2026-13-45",
    ];
    let (mut gpc_inputs, mut present) = (0u64, 0u64);
    for i in 0..20_000 {
        let mut b = gpc_seeds[i % gpc_seeds.len()].to_string();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(b.len() + 1);
            let (head, tail) = (b.get(..at).unwrap_or(&b), b.get(at..).unwrap_or_default());
            b = match rng.below(5) {
                0 => head.to_string(),
                1 if i % 101 == 0 => format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
                2 if i % 103 == 0 => {
                    format!("{{\"gpc\": true, \"x\": \"{}\"}}", "a".repeat(17_000))
                }
                _ => format!("{head}{}{tail}", json_tokens[rng.below(json_tokens.len())]),
            };
        }
        let w = parse_well_known("https://www.fuzz.test/.well-known/gpc.json", Some(200), &b);
        match w.outcome {
            WellKnownOutcome::Present { .. } => present += 1,
            WellKnownOutcome::Malformed { error } => {
                assert!(!error.contains("panicked"), "{b:?}: {error}")
            }
            other => panic!("{b:?}: {other:?}"),
        }
        gpc_inputs += 1;
    }

    // CMP records of the other readers (Klaro, cookieconsent), raw cookie text mutated.
    let raws = [
        "{\"google-analytics\":false,\"site-core\":true}",
        "{\"categories\":[\"necessary\",\"analytics\"],\"revision\":0}",
    ];
    let mut record_inputs = 0u64;
    for i in 0..5_000 {
        let raw = mutate(&mut rng, raws[i % 2]);
        let res = if i % 2 == 0 {
            serde_json::json!({"klaro": {"present": true, "record": {"source": "cookie klaro",
                "raw": raw, "services": [{"name": "google-analytics", "optOut": false}]}}})
        } else {
            serde_json::json!({"cookieconsent": {"present": true, "record": {
                "source": "cookie cc_cookie", "raw": raw,
                "categories": {"necessary": {"readOnly": true}, "analytics": {}}}}})
        };
        let _ = interpret_readback(&res, None);
        record_inputs += 1;
    }

    let total = tc_inputs + gcm_inputs + gpc_inputs + record_inputs;
    println!(
        "decoders: {total} inputs, 0 escaped panics ({tc_inputs} TC strings from {} seeds \
         ({} golden), {decoded} decoded, {contained_panics} contained library panics, in {:.1?}; \
         {gcm_inputs} gcs/gcd values; {gpc_inputs} gpc.json bodies ({present} present); \
         {record_inputs} CMP records) in {:.1?}",
        seeds.len(),
        golden.len(),
        tc_time,
        started.elapsed()
    );
    assert!(total >= 100_000, "{total}");
    assert!(decoded > 0 && decoded < tc_inputs, "both paths reached");
    assert!(present > 0 && present < gpc_inputs, "both paths reached");
}
