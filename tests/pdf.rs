//! `--format pdf` on a real run: the demo shop audited in Chromium, then `consentry report
//! latest --format pdf` and `consentry drift --format pdf` printed by Chromium, read back
//! with Poppler's `pdfinfo` and `pdftotext` (Debian's poppler-utils, installed by `make
//! setup`): A4 pages, the report's own text, and each vendor section of the pack kept
//! together (its summary on the page of its declared purposes). The refusals (a fleet
//! audit, several packs on one stream) need no browser.
//!
//! Needs the `demo` feature (the demo site) and Chromium (`--features browser-tests`).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use consentry::demo::DemoServer;
use std::path::Path;
use std::process::Command;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo-shop.toml");

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
async fn the_demo_run_and_its_pack_print_as_a4_pdfs() {
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("audit.db");
    let port = server.port();
    let db2 = db.clone();
    let audit = tokio::task::spawn_blocking(move || {
        common::audit(SCENARIOS, port, &db2, &["--no-screenshots"])
    })
    .await
    .expect("audit");
    server.shutdown().await;
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
