//! Adding an acknowledgement to a file as text: the new `[[ack]]` block is appended,
//! never the file rewritten (so the team's comments and layout survive), and only when
//! the whole file, with the block, is valid.

use super::load::parse_acks;
use super::Acks;
use crate::diag::{file_error, Diagnostics};
use crate::toml_check::read_source;
use std::io::Write;
use std::path::Path;

/// The fields of a new entry, as given (dates as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAck<'a> {
    pub fingerprint: &'a str,
    pub site: Option<&'a str>,
    pub code: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub reason: &'a str,
    pub owner: &'a str,
    pub acknowledged: &'a str,
    pub expires: &'a str,
}

/// The `[[ack]]` block of `a`, ending with a newline.
pub fn block(a: &NewAck<'_>) -> String {
    let mut out = String::from("[[ack]]\n");
    let mut line = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push_str(&format!("{key} = {}\n", toml_string(v)));
        }
    };
    line("fingerprint", Some(a.fingerprint));
    line("site", a.site);
    line("code", a.code);
    line("subject", a.subject);
    line("reason", Some(a.reason));
    line("owner", Some(a.owner));
    line("acknowledged", Some(a.acknowledged));
    line("expires", Some(a.expires));
    out
}

use crate::toml_check::toml_string;

/// The text to append to `existing` so that `block` starts on a line of its own,
/// after a blank line.
fn separated(existing: &str, block: &str) -> String {
    let sep = if existing.is_empty() || existing.ends_with("\n\n") {
        ""
    } else if existing.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    format!("{sep}{block}")
}

/// Append `block` to the acknowledgements file at `path` (created when missing), after
/// validating the whole file as it would then be. When it would be invalid, the file is
/// left untouched and the diagnostics returned. Returns the file's acknowledgements,
/// the new one last.
pub fn append(path: &Path, block: &str) -> Result<Acks, Diagnostics> {
    let existing = if std::fs::symlink_metadata(path).is_ok() {
        read_source(path).map_err(|d| Diagnostics(vec![d]))?
    } else {
        String::new()
    };
    let addition = separated(&existing, block);
    let whole = format!("{existing}{addition}");
    let (acks, diags) = parse_acks(path, &whole);
    let Some(acks) = acks else {
        return Err(diags);
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Diagnostics(vec![file_error(
                path,
                format!(
                    "cannot write {}: directory {} does not exist",
                    path.display(),
                    dir.display()
                ),
                Some("give the acknowledgements file with --file".into()),
            )]));
        }
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(addition.as_bytes()).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        return Err(Diagnostics(vec![file_error(
            path,
            format!("cannot write {}: {e}", path.display()),
            Some("check the path and its permissions".into()),
        )]));
    }
    Ok(acks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(expires: &'a str) -> NewAck<'a> {
        NewAck {
            fingerprint: "v1-0123456789abcdef",
            site: Some("demo-shop"),
            code: Some("undeclared-cookie"),
            subject: Some("promo\"x"),
            reason: "line one\nline \\two",
            owner: "dpo@example.com",
            acknowledged: "2026-12-01",
            expires,
        }
    }

    #[test]
    fn the_block_is_valid_toml_that_reads_back() {
        let b = block(&entry("2027-03-31"));
        assert!(b.contains("subject = \"promo\\\"x\"\n"), "{b}");
        let (acks, d) = parse_acks(Path::new("a.toml"), &b);
        let acks = acks.unwrap_or_else(|| panic!("{d}\n{b}"));
        let a = &acks.entries[0];
        assert_eq!(a.reason, "line one\nline \\two");
        assert_eq!(a.subject.as_deref(), Some("promo\"x"));
        assert_eq!(a.site.as_deref(), Some("demo-shop"));
        assert_eq!(toml_string("\u{1}é"), "\"\\u0001é\"");
    }

    #[test]
    fn appending_keeps_the_file_and_refuses_what_would_be_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acks.toml");
        let mine = "# accepted findings, reviewed quarterly\n[[ack]] # keep\nfingerprint = \"v1-fedcba9876543210\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2027-01-01\"";
        std::fs::write(&path, mine).unwrap();
        let acks = append(&path, &block(&entry("2027-03-31"))).unwrap();
        assert_eq!(acks.entries.len(), 2);
        assert_eq!(acks.entries[1].location, format!("{}:8", path.display()));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("{mine}\n\n[[ack]]\n")), "{text}");

        // The same fingerprint and site again, and an expiry before today: refused,
        // with every problem, and the file is unchanged.
        let d = append(&path, &block(&entry("2026-11-30"))).unwrap_err();
        let messages: Vec<&str> = d.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{d}");
        assert!(messages[0].starts_with("duplicate acknowledgement"), "{d}");
        assert!(messages[1].contains("is before `acknowledged`"), "{d}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        // A new file is created.
        let fresh = dir.path().join("new.toml");
        append(&fresh, &block(&entry("2027-03-31"))).unwrap();
        assert!(std::fs::read_to_string(&fresh)
            .unwrap()
            .starts_with("[[ack]]\n"));
        let d = append(
            &dir.path().join("no/such/dir.toml"),
            &block(&entry("2027-03-31")),
        )
        .unwrap_err();
        assert!(d.0[0].message.contains("does not exist"), "{d}");
    }
}
