use super::*;

fn files() -> Vec<BundleFile> {
    vec![
        BundleFile {
            path: "report.html".into(),
            what: "the run report, HTML".into(),
            bytes: b"<html>report</html>".to_vec(),
        },
        BundleFile {
            path: "screenshots/01.png".into(),
            what: "a screenshot".into(),
            bytes: vec![0x89, b'P', b'N', b'G', 1, 2, 3],
        },
    ]
}

fn run() -> BTreeMap<String, String> {
    BTreeMap::from([("id".to_string(), "7".to_string())])
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

fn key() -> SigningKey {
    let der = SigningKey::generate_pkcs8().expect("a key");
    parse_signing_key(&der).expect("its own key parses")
}

/// Rewrites one file of a bundle (the same archive otherwise), as someone editing it would.
fn tamper(bundle: &[u8], path: &str, edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut out = tar::Builder::new(gz);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if name.ends_with(&format!("/{path}")) {
            edit(&mut bytes);
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        out.append_data(&mut header, &name, bytes.as_slice())
            .expect("append");
    }
    out.into_inner().expect("tar").finish().expect("gz")
}

#[test]
fn a_fresh_bundle_verifies_and_lists_every_file() {
    let (bytes, manifest) = write_bundle("b", run(), files(), vec![], now(), None).expect("bundle");
    assert_eq!(manifest.files.len(), 2);
    assert_eq!(manifest.files[0].sha256, sha256_hex(b"<html>report</html>"));
    let v = verify(&bytes, None).expect("verify");
    assert_eq!(v.intact, 2);
    assert!(v.ok(false), "{v:?}");
    assert_eq!(v.signature, SignatureCheck::Unsigned);
    // A trusted key demands a signature.
    assert!(!v.ok(true));
}

#[test]
fn one_flipped_byte_names_the_file() {
    let (bytes, _) = write_bundle("b", run(), files(), vec![], now(), None).expect("bundle");
    let bad = tamper(&bytes, "report.html", |b| b[3] ^= 1);
    let v = verify(&bad, None).expect("verify");
    assert_eq!(v.changed, ["report.html"]);
    assert_eq!(v.intact, 1);
    assert!(!v.ok(false));
}

#[test]
fn a_signed_bundle_checks_against_its_key_and_catches_a_forged_manifest() {
    let k = key();
    let (bytes, _) = write_bundle("b", run(), files(), vec![], now(), Some(&k)).expect("bundle");
    let v = verify(&bytes, Some(k.public_key())).expect("verify");
    assert!(
        matches!(v.signature, SignatureCheck::Valid { trusted: true, .. }),
        "{v:?}"
    );
    assert!(v.ok(true));
    // Someone edits a file and fixes the manifest's digest to match: the signature says so.
    let html = b"<html>edited</html>".to_vec();
    let forged = tamper(&bytes, "report.html", |b| *b = html.clone());
    let forged = tamper(&forged, MANIFEST, |m| {
        let text = String::from_utf8_lossy(m)
            .replace(&sha256_hex(b"<html>report</html>"), &sha256_hex(&html))
            .replace("\"bytes\": 19", &format!("\"bytes\": {}", html.len()));
        *m = text.into_bytes();
    });
    let v = verify(&forged, None).expect("verify");
    assert!(v.changed.is_empty(), "{v:?}");
    assert!(matches!(v.signature, SignatureCheck::Invalid(_)), "{v:?}");
    assert!(!v.ok(false));
    // Another key's valid signature is not the trusted one.
    let other = key();
    let v = verify(&bytes, Some(other.public_key())).expect("verify");
    assert!(
        matches!(v.signature, SignatureCheck::OtherKey { .. }),
        "{v:?}"
    );
    assert!(!v.ok(true));
}

#[test]
fn missing_and_extra_files_are_named() {
    let (bytes, _) = write_bundle("b", run(), files(), vec![], now(), None).expect("bundle");
    // Drop the screenshot, add a file of our own.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut out = tar::Builder::new(gz);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut b = Vec::new();
        entry.read_to_end(&mut b).expect("read");
        if name.ends_with(".png") {
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(b.len() as u64);
        out.append_data(&mut h, &name, b.as_slice())
            .expect("append");
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    out.append_data(&mut h, "b/extra.txt", &b"hi"[..])
        .expect("append");
    let bad = out.into_inner().expect("tar").finish().expect("gz");
    let v = verify(&bad, None).expect("verify");
    assert_eq!(v.missing, ["screenshots/01.png"]);
    assert_eq!(v.extra, ["extra.txt"]);
}

#[test]
fn what_is_not_a_bundle_is_an_error() {
    assert!(verify(b"not gzip", None).is_err());
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut out = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    out.append_data(&mut h, "b/x.txt", &b"hi"[..])
        .expect("append");
    let no_manifest = out.into_inner().expect("tar").finish().expect("gz");
    let e = verify(&no_manifest, None).expect_err("no manifest");
    assert!(
        e.to_string().contains("not a consentry evidence bundle"),
        "{e}"
    );
}

#[test]
fn unsafe_paths_are_refused_when_writing() {
    for bad in ["../x", "/etc/passwd", "a//b", "manifest.json", ""] {
        let f = vec![BundleFile {
            path: bad.into(),
            what: String::new(),
            bytes: vec![],
        }];
        assert!(
            write_bundle("b", run(), f, vec![], now(), None).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn keys_parse_from_pem_der_and_base64() {
    let der = SigningKey::generate_pkcs8().expect("key");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let pem_text = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
    let k = parse_signing_key(pem_text.as_bytes()).expect("PEM");
    let k2 = parse_signing_key(&der).expect("DER");
    assert_eq!(k.public_key(), k2.public_key());
    assert!(parse_signing_key(b"hello").is_err());
    // Public: raw base64, and SubjectPublicKeyInfo PEM.
    assert_eq!(
        parse_public_key(k.public_key_base64().as_bytes()).expect("b64"),
        k.public_key()
    );
    let mut spki = SPKI_PREFIX_FOR_TESTS.to_vec();
    spki.extend_from_slice(k.public_key());
    let pem_pub = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&spki)
    );
    assert_eq!(
        parse_public_key(pem_pub.as_bytes()).expect("SPKI"),
        k.public_key()
    );
    assert!(parse_public_key(b"AAAA").is_err());
}

const SPKI_PREFIX_FOR_TESTS: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
