//! `consentry evidence RUN`: one archive with what a regulator or a client needs to check
//! a run (docs/evidence.md): the run's reports (HTML, JSON), its screenshots, the scenario,
//! policy and acknowledgements files, and a manifest of every file's SHA-256, optionally
//! signed (ed25519). `consentry evidence --verify FILE` checks one.

use crate::cli::output::{reports_dir, slug, write_report_bytes};
use clap::Args;
use consentry::evidence::{self, BundleFile, SignatureCheck};
use consentry::exit::ExitStatus;
use consentry::pipeline::stored_report;
use consentry::report::{reporter, Format, Grouping};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The run id (see `consentry runs`), or `latest`.
    #[arg(value_name = "RUN", required_unless_present = "verify")]
    pub run: Option<String>,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Write the bundle here [default: <reports>/<site>/evidence-run-<id>.tar.gz, the
    /// reports directory being $CONSENTRY_REPORTS_DIR, else ./reports].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Sign the manifest with this ed25519 private key: a PKCS#8 file (PEM or DER, as
    /// `openssl genpkey -algorithm ed25519` writes it), or `env:NAME` for the PEM text in
    /// an environment variable.
    #[arg(long, value_name = "KEYFILE|env:NAME")]
    pub sign: Option<String>,
    /// Check a bundle instead: every file against the manifest, and the signature.
    /// Exit 0 intact, 1 changed (each changed, missing or added file named) or a bad
    /// signature, 2 not a bundle.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["run", "sign", "output"])]
    pub verify: Option<PathBuf>,
    /// With --verify: the signer's ed25519 public key (a PEM file, `openssl pkey -pubout`,
    /// or the base64 key `evidence` printed); the bundle must then be signed by it.
    #[arg(long, value_name = "PUBKEY", requires = "verify")]
    pub key: Option<String>,
}

pub async fn run(args: EvidenceArgs) -> ExitStatus {
    match &args.verify {
        Some(file) => verify(file, args.key.as_deref()),
        None => bundle(&args).await,
    }
}

/// The text of a key argument: a file's bytes, or `env:NAME`'s value. Errors never
/// quote the key.
fn key_bytes(arg: &str) -> Result<Vec<u8>, String> {
    if let Some(name) = arg.strip_prefix("env:") {
        return std::env::var(name)
            .map(String::into_bytes)
            .map_err(|_| format!("environment variable {name} is not set"));
    }
    std::fs::read(arg).map_err(|e| format!("{arg}: {e}"))
}

fn verify(file: &Path, key: Option<&str>) -> ExitStatus {
    let trusted = match key {
        None => None,
        Some(k) => {
            // A base64 key on the command line, else a file.
            let bytes = if Path::new(k).exists() {
                key_bytes(k)
            } else {
                Ok(k.as_bytes().to_vec())
            };
            match bytes
                .map_err(anyhow::Error::msg)
                .and_then(|b| evidence::parse_public_key(&b))
            {
                Ok(k) => Some(k),
                Err(e) => {
                    consentry::stderr::line(format_args!("error: --key: {e:#}"));
                    return ExitStatus::InvalidInput;
                }
            }
        }
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            consentry::stderr::line(format_args!("error: {}: {e}", file.display()));
            return ExitStatus::InvalidInput;
        }
    };
    let v = match evidence::verify(&bytes, trusted.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            consentry::stderr::line(format_args!("error: {}: {e:#}", file.display()));
            return ExitStatus::InvalidInput;
        }
    };
    let mut out = String::new();
    if let Some(m) = &v.manifest {
        out.push_str(&format!(
            "bundle of run {} of {}, written {} by consentry {}\n",
            m.run.get("id").map(String::as_str).unwrap_or("?"),
            consentry::text::printable(m.run.get("site").map(String::as_str).unwrap_or("?")),
            m.created_at,
            m.consentry
        ));
    }
    for f in &v.changed {
        out.push_str(&format!("CHANGED  {}\n", consentry::text::printable(f)));
    }
    for f in &v.missing {
        out.push_str(&format!("MISSING  {}\n", consentry::text::printable(f)));
    }
    for f in &v.extra {
        out.push_str(&format!(
            "ADDED    {} (not in the manifest)\n",
            consentry::text::printable(f)
        ));
    }
    out.push_str(&format!("{} file(s) intact\n", v.intact));
    out.push_str(&match &v.signature {
        SignatureCheck::Unsigned if trusted.is_some() => {
            "signature: NONE, but --key asks for one\n".to_string()
        }
        SignatureCheck::Unsigned => "signature: none (the bundle is not signed)\n".to_string(),
        SignatureCheck::Valid {
            public_key,
            trusted: true,
        } => format!("signature: valid, by the key given ({public_key})\n"),
        SignatureCheck::Valid { public_key, .. } => format!(
            "signature: valid, by key {public_key} (named in the bundle; give --key to check it is the signer you expect)\n"
        ),
        SignatureCheck::Invalid(why) => format!("signature: INVALID: {why}\n"),
        SignatureCheck::OtherKey { public_key } => {
            format!("signature: by ANOTHER key ({public_key}) than the one given\n")
        }
    });
    let ok = v.ok(trusted.is_some());
    out.push_str(if ok {
        "intact\n"
    } else {
        "NOT INTACT: the bundle differs from what was written\n"
    });
    if let Err(status) = super::output::to_stdout(&out) {
        return status;
    }
    if ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    }
}

async fn bundle(args: &EvidenceArgs) -> ExitStatus {
    let key = match args.sign.as_deref().map(|k| {
        key_bytes(k)
            .map_err(anyhow::Error::msg)
            .and_then(|b| evidence::parse_signing_key(&b))
    }) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            consentry::stderr::line(format_args!("error: --sign: {e:#}"));
            return ExitStatus::InvalidInput;
        }
    };
    let (path, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let run_arg = args.run.as_deref().unwrap_or("latest");
    let id = match super::report::resolve_run(&store, &path, run_arg).await {
        Ok(id) => id,
        Err(status) => return status,
    };
    let record = store.history().run(id).await;
    let report = stored_report(&store, id, None).await;
    let hars = consentry::pipeline::stored_hars(&store, id, |_| true).await;
    store.close().await;
    let (record, mut report) = match (record, report) {
        (Ok(Some(rec)), Ok(Some(rep))) => (rec, rep),
        (Ok(None), _) | (_, Ok(None)) => {
            consentry::stderr::line(format_args!(
                "error: {path}: no run {id} (see `consentry runs`)"
            ));
            return ExitStatus::InvalidInput;
        }
        (Err(e), _) | (_, Err(e)) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };

    let mut files = Vec::new();
    let mut notes = Vec::new();
    // Screenshots: into screenshots/, and the reports link them there.
    for visit in &mut report.visits {
        for shot in &mut visit.screenshots {
            let Some(src) = shot.path.clone() else {
                continue;
            };
            let name = Path::new(&src)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let inside = format!("screenshots/{name}");
            match std::fs::read(&src) {
                Ok(bytes)
                    if !name.is_empty() && !files.iter().any(|f: &BundleFile| f.path == inside) =>
                {
                    files.push(BundleFile {
                        path: inside.clone(),
                        what: format!("screenshot: {} {}", visit.scenario, shot.label()),
                        bytes,
                    });
                    shot.path = Some(inside);
                }
                Ok(_) => {}
                Err(e) => {
                    notes.push(format!("screenshot {src} could not be read ({e}); the report names it, the bundle lacks it"));
                }
            }
        }
    }
    let html = reporter(Format::Html).render_with(&report, Grouping::Problems);
    let json = reporter(Format::Json).render_with(&report, Grouping::Problems);
    files.insert(
        0,
        BundleFile {
            path: "report.html".into(),
            what: "the run report, HTML (opens offline; screenshots under screenshots/)".into(),
            bytes: html.into_bytes(),
        },
    );
    files.insert(
        1,
        BundleFile {
            path: "report.json".into(),
            what: "the run report, JSON (docs/findings.md; every finding, its evidence and fingerprint)".into(),
            bytes: json.into_bytes(),
        },
    );
    match hars {
        Ok(consentry::pipeline::HarOutcome::Hars(hars)) => {
            let names = consentry::pipeline::har_file_names(&hars, "har/");
            for (h, name) in hars.into_iter().zip(names) {
                files.push(BundleFile {
                    path: name,
                    what: format!(
                        "HAR 1.2 of the visit of {}{} ({} requests; cookie values hashed, credentials stripped, secrets redacted; docs/reports.md#har)",
                        h.scenario,
                        match h.repetition {
                            1 => String::new(),
                            n => format!(", repetition {n}"),
                        },
                        h.entries
                    ),
                    bytes: h.text.into_bytes(),
                });
            }
        }
        Ok(consentry::pipeline::HarOutcome::Purged { .. }) => notes.push(format!(
            "the requests of run {id} are no longer stored (`consentry purge` removed its raw records): the bundle has no HAR"
        )),
        Ok(consentry::pipeline::HarOutcome::NoRun) => {}
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    }
    inputs(&record, &mut files, &mut notes);

    let mut run = BTreeMap::new();
    run.insert("id".to_string(), id.to_string());
    run.insert("site".to_string(), record.site.clone());
    run.insert("status".to_string(), record.status.as_str().to_string());
    run.insert("started_at".to_string(), record.started_at.to_rfc3339());
    if let Some(f) = record.finished_at {
        run.insert("finished_at".to_string(), f.to_rfc3339());
    }
    run.insert("scenario_file".to_string(), record.scenario_file.clone());
    run.insert("vantage".to_string(), record.vantage.describe());
    for (k, v) in [
        ("scenario_digest", &record.scenario_digest),
        ("policy_digest", &record.policy_digest),
        ("data_versions", &record.data_versions),
    ] {
        if let Some(v) = v {
            run.insert(k.to_string(), v.clone());
        }
    }
    let root = evidence::root_dir(&slug(&record.site), id);
    let (bytes, manifest) =
        match evidence::write_bundle(&root, run, files, notes, chrono::Utc::now(), key.as_ref()) {
            Ok(b) => b,
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e:#}"));
                return ExitStatus::Error;
            }
        };
    let target = args.output.clone().unwrap_or_else(|| {
        reports_dir()
            .join(slug(&record.site))
            .join(format!("evidence-run-{id}.tar.gz"))
    });
    if let Err(e) = write_report_bytes(&target, &bytes) {
        consentry::stderr::line(format_args!(
            "error: cannot write {}: {e}",
            target.display()
        ));
        return ExitStatus::Error;
    }
    for n in &manifest.notes {
        consentry::stderr::line(format_args!("warning: {}", consentry::text::printable(n)));
    }
    consentry::stderr::line(format_args!(
        "evidence bundle of run {id} written to {}: {} file(s){}",
        target.display(),
        manifest.files.len(),
        match &key {
            Some(k) => format!(", signed by ed25519 key {}", k.public_key_base64()),
            None => ", not signed".to_string(),
        }
    ));
    // stdout: the bundle's digest, as sha256sum prints it, to keep beside the bundle.
    match super::output::line_to_stdout(&format!(
        "{}  {}",
        evidence::sha256_hex(&bytes),
        target.display()
    )) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

/// The scenario, policy and acknowledgements files, as they are on disk now, each checked
/// against the digest the run stored: a file that changed since the audit goes in as it
/// is now, with a note saying so (the audited bytes are not kept anywhere else).
fn inputs(
    record: &consentry::store::RunRecord,
    files: &mut Vec<BundleFile>,
    notes: &mut Vec<String>,
) {
    let scenario = PathBuf::from(&record.scenario_file);
    fn add(
        path: &Path,
        what: &str,
        audited: Option<&str>,
        files: &mut Vec<BundleFile>,
        notes: &mut Vec<String>,
    ) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        match std::fs::read(path) {
            Ok(bytes) => {
                let now = consentry::toml_check::source::digest(&bytes);
                let what = match audited {
                    Some(d) if d == now => format!("{what}, exactly as audited (digest {d})"),
                    Some(d) => {
                        notes.push(format!(
                            "{} changed since the audit (digest {now}, audited {d}): the bundle holds it as it is now",
                            path.display()
                        ));
                        format!("{what}, CHANGED since the audit (audited digest {d})")
                    }
                    None => what.to_string(),
                };
                files.push(BundleFile {
                    path: format!("inputs/{name}"),
                    what,
                    bytes,
                });
            }
            Err(e) => notes.push(format!(
                "{} could not be read ({e}); the bundle lacks {what}",
                path.display()
            )),
        }
    }
    add(
        &scenario,
        "the scenario file",
        record.scenario_digest.as_deref(),
        files,
        notes,
    );
    let env = |name: &str| std::env::var(name).ok();
    match consentry::scenario::load::load_audit_file_with_env(&scenario, &env) {
        Ok(spec) if spec.policy.path != scenario => add(
            &spec.policy.path,
            "the policy file (the declared map)",
            record.policy_digest.as_deref(),
            files,
            notes,
        ),
        Ok(_) => {}
        Err(_) => notes.push(format!(
            "{} does not load now, so its policy file could not be found; the bundle lacks the policy file",
            scenario.display()
        )),
    }
    let acks = scenario.with_file_name("acks.toml");
    if acks.exists() {
        add(
            &acks,
            "the acknowledgements file as it is now (report.json holds the acknowledgements as they stood in the run)",
            None,
            files,
            notes,
        );
    }
}
