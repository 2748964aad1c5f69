//! TC-string decoding: golden readings, hostile inputs, the preflight against the library.

use super::*;
use crate::model::{ConsentState, TargetKind};

/// The database key these tests hash TC strings with.
fn key() -> ValueHasher {
    ValueHasher::keyed(b"tcf tests")
}

// Made by @iabtcf/core 1.5.6 (fixtures/gen/tcf-golden.mjs, "partial"); the full golden
// set is checked in tests/tcf_golden.rs against `make fixtures`' output.
const PARTIAL: &str = "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK.cCAAAEAAAAAA";

#[test]
fn decodes_bits_and_segments() {
    let d = decode(PARTIAL).unwrap();
    assert_eq!(d.cmp_id, 300);
    assert_eq!(d.cmp_version, 7);
    assert_eq!(d.purpose_consents, BTreeSet::from([1, 8]));
    assert_eq!(d.purpose_legitimate_interests, BTreeSet::from([7, 9]));
    assert_eq!(d.vendor_consents, BTreeSet::from([20]));
    assert_eq!(d.segments, vec!["core", "publisher_tc"]);
    assert_eq!(
        d.publisher.as_ref().unwrap().consents,
        BTreeSet::from([1, 8])
    );
    assert!(d.forbidden_li().is_empty());
    // iab_gpp 0.1.2 cannot read publisher restrictions: lib_tcstring's reading is kept.
    assert_eq!(d.publisher_restrictions.len(), 1);
    assert_eq!(d.publisher_restrictions[0].restriction, "not_allowed");
    assert_eq!(d.publisher_restrictions[0].vendors, BTreeSet::from([10]));
    assert!(d.decoder.starts_with("lib_tcstring"), "{}", d.decoder);
    assert!(d.bits().contains("consent purposes 1,8"));
}

#[test]
fn probe_events_between_probes_are_kept_in_their_own_phase() {
    use crate::model::ConsentAction;
    let now = Utc::now();
    let earlier = now - chrono::Duration::seconds(2);
    let before = ConsentState::initial();
    let after = before.after(ConsentAction::RejectAll);
    let probe: PageProbe = serde_json::from_value(serde_json::json!({
        "api": true, "answered": true, "success": true, "tcString": PARTIAL,
        "eventStatus": "useractioncomplete",
        "events": [
            {"tcString": "CQujIwAQujIwAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA",
             "eventStatus": "cmpuishown", "at": earlier.timestamp_millis() as f64},
            {"tcString": PARTIAL, "eventStatus": "useractioncomplete",
             "at": now.timestamp_millis() as f64}
        ]
    }))
    .unwrap();
    let cut = now - chrono::Duration::seconds(1);
    let sigs = probe.signals(&key(), now, "https://p.test/", &after, |t| {
        if t < cut {
            before.clone()
        } else {
            after.clone()
        }
    });
    // The interim event (before the action), then the answer; the event equal to the
    // answer is not repeated.
    assert_eq!(sigs.len(), 2, "{sigs:#?}");
    assert_eq!(sigs[0].state.phase(), "before-choice");
    assert!(
        matches!(&sigs[0].source, SignalSource::PageApi { api } if api.contains("addEventListener"))
    );
    assert_eq!(sigs[1].state.phase(), "after-reject_all");
}

/// Core segment of [`PARTIAL`], then an optional segment of 1-4 base64 characters
/// whose first three bits say disclosed vendors (`I`: 001), allowed vendors (`Q`: 010)
/// or publisher TC (`Y`: 011), with whether the decode of commit ea0edd5 panicked on
/// it (measured: `index out of bounds` in `lib_tcstring` 0.5.0's `parse_from_bytes`,
/// exit 101). `I`/`Q` of 2-3 characters and `Y` of 2-4 did; 1 character is a base64
/// error, and `I`/`Q` of 4 characters is an ordinary, empty vendor segment.
fn hostile_strings() -> Vec<(String, bool)> {
    let core = PARTIAL.split('.').next().unwrap_or_default();
    let mut out = Vec::new();
    for kind in ['I', 'Q', 'Y'] {
        for len in 1..=4 {
            let panicked = len >= 2 && (len <= 3 || kind == 'Y');
            out.push((format!("{core}.{kind}{}", "A".repeat(len - 1)), panicked));
        }
    }
    out
}

/// Decoded or undecodable with the reason, never dropped; a string that used to panic
/// `lib_tcstring` says it was not run on it.
fn assert_recorded(sig: &TcfSignal, s: &str, panicked: bool) {
    assert_eq!(sig.string_len, s.len(), "{s}");
    assert_eq!(sig.string_hash, key().hash(s), "{s}");
    let said = match (&sig.decoded, &sig.error) {
        (Some(d), _) => d.decoder.clone(),
        (None, Some(e)) => {
            assert!(e.starts_with("undecodable TC string"), "{s}: {e}");
            e.clone()
        }
        (None, None) => panic!("{s}: neither decoded nor an error"),
    };
    if panicked {
        assert!(
            said.contains("lib_tcstring 0.5.0 not run: segment 2"),
            "{s}: {said}"
        );
    }
}

#[test]
fn short_optional_segments_do_not_panic_the_decoder() {
    for (s, panicked) in hostile_strings() {
        assert_recorded(&TcfSignal::from_string(&s, &key()), &s, panicked);
    }
    // Lengths 2-4 of the publisher TC segment: `lib_tcstring` is not run, for a reason.
    let core = PARTIAL.split('.').next().unwrap_or_default();
    let e = match decode(&format!("{core}.YAA")) {
        Ok(d) => d.decoder,
        Err(e) => e,
    };
    assert!(
        e.contains("lib_tcstring 0.5.0 not run: segment 2 (publisher TC) is 16 bits"),
        "{e}"
    );
}

#[test]
fn hostile_request_parameter_is_a_signal_not_a_panic() {
    for (s, panicked) in hostile_strings() {
        let sig = from_request(
            &request(&format!("https://ads.test/p?gdpr=1&gdpr_consent={s}")),
            &key(),
        )
        .expect("a TCF signal");
        let super::super::SignalData::Tcf(t) = sig.data else {
            panic!("not TCF")
        };
        assert_eq!(t.gdpr_applies, Some(true));
        assert_recorded(&t, &s, panicked);
    }
}

#[test]
fn hostile_page_api_answer_cookie_and_events_are_signals_not_a_panic() {
    let now = Utc::now();
    for (s, panicked) in hostile_strings() {
        let probe: PageProbe = serde_json::from_value(serde_json::json!({
            "api": true, "answered": true, "success": true, "tcString": s,
            "eventStatus": "tcloaded", "cookie": s, "cookieDomain": "p.test",
            "events": [{"tcString": format!("{s}A"), "eventStatus": "cmpuishown",
                        "at": now.timestamp_millis() as f64}]
        }))
        .expect("probe JSON");
        let state = ConsentState::initial();
        let sigs = probe.signals(&key(), now, "https://p.test/", &state, |_| state.clone());
        assert_eq!(sigs.len(), 3, "{s}: {sigs:#?}");
        for sig in &sigs {
            let super::super::SignalData::Tcf(t) = &sig.data else {
                panic!("not TCF")
            };
            match &sig.source {
                // The announcement carries one more character (`…A`).
                SignalSource::PageApi { api } if api.contains("addEventListener") => {
                    assert_recorded(t, &format!("{s}A"), false)
                }
                _ => assert_recorded(t, &s, panicked),
            }
        }
    }
}

#[test]
fn hostile_cmp_record_is_unreadable_not_a_panic() {
    use crate::cmp::{interpret_readback, Readback};
    for (s, panicked) in hostile_strings() {
        let res = serde_json::json!({"tcf": {"present": true, "record": {
            "source": "__tcfapi getTCData", "tcString": s, "eventStatus": "useractioncomplete"}}});
        match interpret_readback(&res, None) {
            Readback::Recorded { record } => assert_eq!(record.reader, "tcf"),
            Readback::Unreadable { reader, error } => {
                assert_eq!(reader, "tcf");
                assert!(error.starts_with("undecodable TC string"), "{s}: {error}");
                assert!(
                    !panicked || error.contains("lib_tcstring 0.5.0 not run"),
                    "{error}"
                );
            }
            other => panic!("{s}: {other:?}"),
        }
    }
}

/// Base64url of bits (`"0110..."`), padded with zero bits to a whole character.
fn encode_bits(bits: &str) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    bits.as_bytes()
        .chunks(6)
        .map(|c| {
            let v = c
                .iter()
                .chain(std::iter::repeat(&b'0'))
                .take(6)
                .fold(0usize, |v, b| (v << 1) | usize::from(*b == b'1'));
            B64[v] as char
        })
        .collect()
}

fn field(v: u64, width: usize) -> String {
    format!("{v:0width$b}")
}

#[test]
fn limits_and_checks_come_before_the_libraries() {
    let core = PARTIAL.split('.').next().unwrap_or_default();
    let long = format!("{core}.{}", "A".repeat(MAX_TC_STRING_LEN));
    let e = decode(&long).unwrap_err();
    assert_eq!(
        e,
        format!(
            "undecodable TC string: too long ({} bytes, the limit is 8192)",
            long.len()
        )
    );
    let sig = TcfSignal::from_string(&long, &key());
    assert_eq!((sig.string_len, sig.error), (long.len(), Some(e)));
    assert!(decode(&format!("{core}....."))
        .unwrap_err()
        .contains("6 segments"));
    assert!(decode(&format!("{core}..YAAA"))
        .unwrap_err()
        .contains("segment 2 is empty"));
    let e = decode(&format!("{core}.YA+A")).unwrap_err();
    assert!(
        e.contains("segment 2 has '+' at offset 2, not base64url"),
        "{e}"
    );
    // At the limit is decoded as usual (here: a string too long to mean anything).
    let at_limit = format!("{core}.{}", "Y".repeat(MAX_TC_STRING_LEN - core.len() - 1));
    assert!(!decode(&at_limit).is_err_and(|e| e.contains("too long")));

    // Vendor ranges that would expand to millions of ids: neither library runs.
    let mut bits = "000010".to_string(); // version 2: `C`
    bits.push_str(&"0".repeat(207));
    bits.push_str(&field(65_534, 16)); // MaxVendorId
    bits.push('1'); // IsRangeEncoding
    bits.push_str(&field(5, 12)); // NumEntries
    for _ in 0..5 {
        bits.push('1');
        bits.push_str(&field(1, 16));
        bits.push_str(&field(65_534, 16));
    }
    let e = decode(&encode_bits(&bits)).unwrap_err();
    assert!(e.contains("more than 262144 vendor ids"), "{e}");

    // The same through `iab_gpp`'s reading of publisher restrictions (lib_tcstring
    // reads no range there): `iab_gpp` is not run, and says so.
    let mut bits = "000010".to_string();
    bits.push_str(&"0".repeat(207));
    bits.push_str(&"0".repeat(34)); // two empty vendor bitfields
    bits.push_str(&field(1, 12)); // one restriction
    bits.push_str(&field(1, 6)); // purpose 1
    bits.push_str("00"); // not allowed
    bits.push_str(&field(0, 16)); // iab_gpp: MaxId; lib_tcstring: NumEntries 0, ...
    bits.push('1'); // iab_gpp: IsIntRange
    bits.push_str(&field(5, 12));
    for _ in 0..5 {
        bits.push('1');
        bits.push_str(&field(1, 16));
        bits.push_str(&field(65_534, 16));
    }
    bits.push_str(&"0".repeat(16)); // padding, so the last entry is whole bytes
    let s = encode_bits(&bits);
    assert_eq!(iab_gpp_restriction_ids(&base64url(&s).unwrap()), 5 * 65_534);
    match decode(&s) {
        Ok(d) => assert!(
            d.decoder.contains("iab_gpp 0.1.2 not run: its reading"),
            "{}",
            d.decoder
        ),
        Err(e) => assert!(e.contains("iab_gpp 0.1.2 not run: its reading"), "{e}"),
    }
}

/// The preflight against `lib_tcstring` itself, on mutated strings: wherever it says
/// "safe", the library does not panic (sound); and it refuses no more than it must
/// (every refusal is a real panic, except where the library's stricter base64 decoder
/// returns an error first).
#[test]
fn preflight_is_exactly_the_panics_of_lib_tcstring() {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let seeds = [
        PARTIAL,
        "CQujIwAQujIwAEsAHBENDIFsAP_gAEPgAAYgAeABAEAQBAEAQAeAAAIAgAAA.YAAAAAAAAAAA",
        "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA",
        "COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.YAAAAAAAAAAAAAAAAAA",
    ];
    let mut x: u64 = 0x5eed_2500_0000_0001;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut safe, mut refused, mut refused_and_panicked) = (0, 0, 0);
    for i in 0..20_000 {
        let mut s = seeds[i % seeds.len()].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % (s.len() + 1);
            match next() % 3 {
                0 => s.truncate(at.max(1)),
                1 if at < s.len() => s[at] = B64[(next() as usize) % 64],
                _ => s.insert(
                    at,
                    if next() % 4 == 0 {
                        b'.'
                    } else {
                        B64[(next() as usize) % 64]
                    },
                ),
            }
        }
        let s = String::from_utf8_lossy(&s).into_owned();
        let Ok(segments) = check_tc_string(&s) else {
            continue;
        };
        let ran = contained(LIB_TCSTRING, || decode_lib_tcstring(&s));
        match lib_tcstring_preflight(&s, &segments) {
            Ok(()) => {
                safe += 1;
                assert!(ran.is_ok(), "{s}: said safe, but {ran:?}");
            }
            Err(Unsafe::ForLib(why)) => {
                refused += 1;
                if ran.is_err() {
                    refused_and_panicked += 1;
                } else {
                    assert!(
                        matches!(&ran, Ok(Err(e)) if e.contains("Base64")),
                        "{s}: refused ({why}) but {ran:?}"
                    );
                }
            }
            Err(Unsafe::ForBoth(_)) => {}
        }
    }
    println!(
        "preflight: {safe} safe (none panicked), {refused} refused, \
         {refused_and_panicked} of them panics when run"
    );
    assert!(
        safe > 1000 && refused_and_panicked > 100,
        "{safe} safe, {refused} refused"
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for s in ["", "x", "CPX", "!!!!", "CQujIwAQ", "${GDPR}"] {
        let sig = TcfSignal::from_string(s, &key());
        assert!(sig.decoded.is_none(), "{s}");
        assert!(sig.error.is_some(), "{s}");
    }
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
        page: "https://www.tcf-shop.test/".into(),
        state: ConsentState::initial(),
        http: None,
    }
}

#[test]
fn request_parameter_is_decoded_and_macros_skipped() {
    let req = request;
    let s = from_request(
        &req(&format!("https://ads.test/p?gdpr=1&gdpr_consent={PARTIAL}")),
        &key(),
    )
    .unwrap();
    let super::super::SignalData::Tcf(t) = s.data else {
        panic!("not TCF")
    };
    assert_eq!(t.gdpr_applies, Some(true));
    assert_eq!(t.decoded.unwrap().vendor_consents, BTreeSet::from([20]));
    assert!(from_request(
        &req("https://ads.test/p?gdpr_consent=${GDPR_CONSENT_755}"),
        &key()
    )
    .is_none());
    assert!(from_request(&req("https://ads.test/p?x=1"), &key()).is_none());
}
