//! What a run is handed on as, on a real run (the demo shop audited in Chromium):
//! - `--format pdf`: `consentry report latest --format pdf` and `consentry drift --format
//!   pdf` printed by Chromium, read back with Poppler's `pdfinfo` and `pdftotext` (Debian's
//!   poppler-utils, installed by `make setup`): A4 pages, the report's own text, and each
//!   vendor section of the pack kept together (its summary on the page of its declared
//!   purposes). The refusal of a fleet audit needs no browser.
//! - `consentry evidence`: the bundle of the run, signed with an ed25519 key; `--verify`
//!   passes on it, names the file after one byte of the HTML report is flipped, and reports
//!   a signature by another key than the one given.
//!
//! Needs the `demo` feature (the demo site) and Chromium (`--features browser-tests`).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use std::path::Path;
use std::process::Command;

/// `pdfinfo FILE`: its `Pages` and `Page size` lines.
fn pdf_info(file: &Path) -> (usize, String) {
    let out = Command::new("pdfinfo")
        .arg(file)
        .output()
        .expect("pdfinfo (poppler-utils, `make setup`)");
    assert!(out.status.success(), "pdfinfo {}", file.display());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let pages = field("Pages:").parse().expect("a page count");
    (pages, field("Page size:"))
}

/// The text of each page (`pdftotext` separates pages with form feeds), in reading order
/// or, with `layout`, as laid out (columns kept apart by spaces).
fn pdf_pages(file: &Path, layout: bool) -> Vec<String> {
    let out = Command::new("pdftotext")
        .args(layout.then_some("-layout"))
        .arg(file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, `make setup`)");
    assert!(out.status.success(), "pdftotext {}", file.display());
    String::from_utf8_lossy(&out.stdout)
        .split('\u{c}')
        .map(str::to_string)
        .collect()
}

/// `consentry ARGS --db DB`: exit code and stderr.
fn run(db: &Path, args: &[&str]) -> (i32, String) {
    let out = consentry()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run consentry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_run_prints_as_pdf_and_bundles_as_verifiable_evidence() {
    let (audit, dir, db) = common::fixture::audit_demo(&["--no-screenshots"]).await;
    let codes: Vec<String> = audit.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect();
    assert!(!codes.is_empty());

    // The run report: the same verdict as the audit (exit code), on A4 pages.
    let run_pdf = dir.path().join("out/run.pdf");
    let (code, err) = run(
        &db,
        &[
            "report",
            "latest",
            "--format",
            "pdf",
            "--output",
            run_pdf.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(code, audit.code, "{err}");
    assert!(err.contains("report written to"), "{err}");
    let bytes = std::fs::read(&run_pdf).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let (pages, size) = pdf_info(&run_pdf);
    assert!(pages >= 2, "{pages} page(s)");
    assert!(size.contains("(A4)"), "{size}");
    let text = pdf_pages(&run_pdf, false).concat();
    assert!(text.contains("Consent audit: demo-shop"), "{text}");
    assert!(text.contains("Vendors by scenario"), "{text}");
    // Codes wrap in narrow cells and headings print them in capitals.
    let flat: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    for code in &codes {
        assert!(flat.contains(code.as_str()), "{code} not printed");
    }
    // The page printed was a hidden file beside the PDF, and it is gone.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .expect("out dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["run.pdf"]);

    // The drift pack: each vendor section's summary on the page of its declared
    // purposes (the print style keeps a vendor section together).
    let drift_pdf = dir.path().join("drift.pdf");
    let (code, err) = run(
        &db,
        &[
            "drift",
            "--format",
            "pdf",
            "--output",
            drift_pdf.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let pages = pdf_pages(&drift_pdf, true);
    assert!(pages[0].contains("LIA review pack"), "{}", pages[0]);
    let sections: usize = pages
        .iter()
        .map(|p| p.matches("DECLARED PURPOSES").count())
        .sum();
    assert!(sections >= 5, "{sections} vendor sections");
    for (n, page) in pages.iter().enumerate() {
        // A section's summary opens with `Findings now` and a run of spaces (the pack's
        // overview has `Findings now:`).
        assert_eq!(
            page.matches("Findings now  ").count(),
            page.matches("DECLARED PURPOSES").count(),
            "page {}: a vendor section split from its summary:\n{page}",
            n + 1
        );
    }

    evidence_of(&db, dir.path(), &audit.json);
}

/// `consentry evidence latest --sign KEY`, then `--verify` on it, on a copy with one byte
/// of report.html flipped, and with another key.
fn evidence_of(db: &Path, dir: &Path, audit: &serde_json::Value) {
    use base64::Engine as _;
    let pem = |der: &[u8]| {
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    };
    let key = dir.join("key.pem");
    let der = consentry::evidence::SigningKey::generate_pkcs8().expect("key");
    std::fs::write(&key, pem(&der)).expect("key file");
    let public = consentry::evidence::parse_signing_key(&der)
        .expect("key")
        .public_key_base64();
    let bundle = dir.join("bundle.tar.gz");
    let out = consentry()
        .args(["evidence", "latest", "--sign"])
        .arg(&key)
        .arg("--output")
        .arg(&bundle)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run consentry");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&public), "{err}");
    // stdout: the bundle's digest, as sha256sum prints it.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bytes = std::fs::read(&bundle).expect("bundle");
    assert_eq!(
        stdout.split_whitespace().next(),
        Some(consentry::evidence::sha256_hex(&bytes).as_str())
    );
    // What it holds: the reports, the audited files exactly as audited.
    let v = consentry::evidence::verify(&bytes, None).expect("a bundle");
    let m = v.manifest.expect("manifest");
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    for want in [
        "report.html",
        "report.json",
        "inputs/demo-shop.toml",
        "inputs/demo-shop.policy.toml",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    let scenario = m.files.iter().find(|f| f.path == "inputs/demo-shop.toml");
    assert!(
        scenario.is_some_and(|f| f.what.contains("exactly as audited")),
        "{:?}",
        m.files
    );
    assert_eq!(
        m.run.get("id"),
        audit["run_id"].as_i64().map(|i| i.to_string()).as_ref()
    );
    // Where the run looked from: the demo has no [vantage].
    assert!(
        m.run
            .get("vantage")
            .is_some_and(|v| v.starts_with("default")),
        "{:?}",
        m.run
    );

    let verify = |file: &Path, key: Option<&str>| {
        let mut cmd = consentry();
        cmd.args(["evidence", "--verify"]).arg(file);
        if let Some(k) = key {
            cmd.args(["--key", k]);
        }
        let out = cmd.output().expect("run consentry");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = verify(&bundle, Some(&public));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("signature: valid, by the key given"),
        "{text}"
    );

    // One byte of the HTML report flipped: named, exit 1.
    let flipped = dir.join("flipped.tar.gz");
    std::fs::write(&flipped, rewrite(&bytes, "report.html")).expect("write");
    let (code, text) = verify(&flipped, Some(&public));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("CHANGED  report.html"), "{text}");
    assert!(!text.contains("CHANGED  report.json"), "{text}");

    // Checked against another key: the signature is not the expected signer's.
    let other = consentry::evidence::SigningKey::generate_pkcs8().expect("key");
    let other = consentry::evidence::parse_signing_key(&other)
        .expect("key")
        .public_key_base64();
    let (code, text) = verify(&bundle, Some(&other));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("ANOTHER key"), "{text}");
}

/// The bundle with one byte of `name` flipped (every other file as it was).
fn rewrite(bundle: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut out = tar::Builder::new(gz);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        if path.ends_with(&format!("/{name}")) {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        out.append_data(&mut header, &path, bytes.as_slice())
            .expect("append");
    }
    out.into_inner().expect("tar").finish().expect("gz")
}

#[test]
fn a_pdf_is_one_document_per_file() {
    let dir = tempfile::tempdir().expect("tmp");
    // A fleet's summary has no PDF form: refused before any browser starts.
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    for f in [&a, &b] {
        std::fs::write(f, "").expect("write");
    }
    let out = consentry()
        .args(["audit", "--format", "pdf"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("run consentry");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--format pdf prints one report"), "{err}");
}
