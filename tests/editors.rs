//! The JSON Schemas in `schemas/` as an editor uses them: Taplo (the engine of Even Better
//! TOML), pinned in fixtures/package.json and installed by `make fixtures`, checks every
//! scenario file, policy and profile the project ships or tests with through the
//! repository's `.taplo.toml`, and reports a wrong key or value in a file that names its
//! schema with a `#:schema` directive (docs/editors.md).

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn taplo() -> Command {
    let cli = Path::new(ROOT).join("fixtures/node_modules/@taplo/cli/dist/cli.js");
    assert!(
        cli.is_file(),
        "{} is missing: run `make fixtures` (it installs the pinned @taplo/cli)",
        cli.display()
    );
    let mut c = Command::new("node");
    c.arg(cli).current_dir(ROOT).env("RUST_LOG", "error");
    c
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn taplo_accepts_every_bundled_file_through_the_repositorys_taplo_toml() {
    let mut files = Vec::new();
    toml_files(&Path::new(ROOT).join("scenarios"), &mut files);
    toml_files(&Path::new(ROOT).join("tests/fixtures"), &mut files);
    files.retain(|p| !p.starts_with(Path::new(ROOT).join("tests/fixtures/validate")));
    assert!(files.len() >= 40, "{} files", files.len());
    let out = taplo().arg("check").args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "taplo check failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn taplo_names_the_wrong_key_and_value_by_line_through_a_schema_directive() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = Path::new(ROOT).join("schemas");
    let scenario = dir.path().join("shop.toml");
    std::fs::write(
        &scenario,
        format!(
            "#:schema {}\n[site]\nname = \"shop\"\nbase_url = \"https://shop.test/\"\npolicy = \"shop.policy.toml\"\n\n[browser]\nsetle_quiet = \"1s\"\n",
            schemas.join("scenario.schema.json").display()
        ),
    )
    .unwrap();
    let policy = dir.path().join("shop.policy.toml");
    std::fs::write(
        &policy,
        format!(
            "#:schema {}\n[[purpose]]\nid = \"analytics\"\nbasis = \"consnt\"\n",
            schemas.join("policy.schema.json").display()
        ),
    )
    .unwrap();
    for (file, what, line) in [
        (&scenario, "'setle_quiet' was unexpected", 8),
        (&policy, "\"consnt\" is not one of", 4),
    ] {
        let out = taplo().arg("check").arg(file).output().unwrap();
        assert!(!out.status.success(), "{} passed", file.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(what), "{what} not in:\n{err}");
        let at = format!("{}:{line}:", file.display());
        assert!(err.contains(&at), "{at} not in:\n{err}");
        // The loader refuses the same file (the schema is never stricter than it).
        let v = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .arg("validate")
            .arg(file)
            .output()
            .unwrap();
        assert_ne!(
            v.status.code(),
            Some(0),
            "validate accepts {}",
            file.display()
        );
    }
}
