//! Screenshots of the consent banner before and after each consent action: run evidence
//! (docs/reports.md, "Screenshots").
//!
//! The engine takes them ([`crate::engine`], `engine/shots.rs`) and hands the PNG bytes
//! over in [`crate::model::VisitObservation::screenshots`]; the pipeline writes them
//! under the reports directory ([`save_visit`]) once the run has an id, the store keeps
//! their paths (table `visit_screenshots`), and the reporters show them. A screenshot
//! that cannot be taken or written is a warning of the visit, never a failed scenario.

use crate::model::{ConsentAction, VisitObservation};
use std::path::{Component, Path, PathBuf};

pub use crate::model::screenshot::*;

/// Width and height of a PNG (its signature and IHDR chunk checked), else why not.
pub fn png_size(png: &[u8]) -> Result<(u32, u32), String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.get(..8) != Some(SIGNATURE) {
        return Err("not a PNG (bad signature)".into());
    }
    if png.get(12..16) != Some(b"IHDR") {
        return Err("not a PNG (no IHDR chunk first)".into());
    }
    let be = |at: usize| -> Option<u32> {
        let b: [u8; 4] = png.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    match (be(16), be(20)) {
        (Some(w), Some(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err("not a PNG (truncated or empty IHDR)".into()),
    }
}

/// The directory a run's screenshots go to: `<reports>/<site slug>/run-<id>/`, beside the
/// run's report files (`<reports>/<site slug>/run-<id>.html`), so a report written there
/// links them as `run-<id>/<file>`. Made absolute against the current directory.
pub fn run_dir(reports: &Path, site: &str, run: i64) -> PathBuf {
    absolute(
        &reports
            .join(crate::text::slug(site))
            .join(format!("run-{run}")),
    )
}

/// `02-accept-all-step3-accept_all-before.png`: the visit's place in the run order, the
/// scenario id (letters, digits, `-` and `_` kept, anything else `-`), the step number
/// (1-based, as in the report), the action and when.
pub fn file_name(position: usize, scenario: &str, shot: &Screenshot) -> String {
    let id: String = scenario
        .chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{:02}-{id}-step{}-{}-{}.png",
        position + 1,
        shot.step + 1,
        shot.action.as_str(),
        shot.when.as_str()
    )
}

/// Write the visit's screenshots into `dir` (created if needed), set each one's `path`
/// and drop its bytes. One that cannot be written becomes a warning of the visit and is
/// dropped (a screenshot is stored only with its file). Never overwrites a file: a name
/// already taken (a database deleted and started again reuses run ids) gets `-2`, `-3`...
/// (the stored path is the one written).
pub fn save_visit(obs: &mut VisitObservation, dir: &Path, position: usize) {
    if obs.screenshots.is_empty() {
        return;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        obs.warnings.push(format!(
            "{} screenshot(s) not kept: cannot create {}: {e}",
            obs.screenshots.len(),
            dir.display()
        ));
        obs.screenshots.clear();
        return;
    }
    let shots = std::mem::take(&mut obs.screenshots);
    for mut shot in shots {
        let name = file_name(position, &obs.scenario, &shot);
        let mut path = dir.join(&name);
        let mut res = write_new(&path, &shot.png);
        let stem = name.trim_end_matches(".png");
        for n in 2..=100 {
            if !matches!(&res, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists) {
                break;
            }
            path = dir.join(format!("{stem}-{n}.png"));
            res = write_new(&path, &shot.png);
        }
        match res {
            Ok(()) => {
                shot.path = Some(path.display().to_string());
                shot.png = Vec::new();
                obs.screenshots.push(shot);
            }
            Err(e) => obs.warnings.push(format!(
                "screenshot {} not kept: cannot write {}: {e}",
                shot.label(),
                path.display()
            )),
        }
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Show the report's screenshot paths relative to the directory of `file`, the file the
/// report is written to, so the HTML's `<img>` and the Markdown's links work wherever the
/// reports directory is moved, copied or served from, as long as it moves whole.
pub fn paths_relative_to(report: &mut crate::outcome::AuditReport, file: &Path) {
    let file = absolute(file);
    let Some(base) = file.parent() else {
        return;
    };
    for v in &mut report.visits {
        for s in &mut v.screenshots {
            if let Some(p) = &s.path {
                s.path = Some(relative_to(Path::new(p), base).display().to_string());
            }
        }
    }
}

/// `path` made absolute against the current directory, `.` and `..` resolved lexically
/// (no symlink is followed and nothing needs to exist).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` as seen from directory `base` (both made [`absolute`]): `run-3/x.png`,
/// `../demo/run-3/x.png`. Lexical: no file needs to exist.
pub fn relative_to(target: &Path, base: &Path) -> PathBuf {
    let (t, b) = (absolute(target), absolute(base));
    let tc: Vec<Component> = t.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = tc.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in tc.iter().skip(common) {
        out.push(c.as_os_str());
    }
    out
}

/// One consent action's screenshots: its step, its action, and the shots taken.
pub struct ShotPair<'a> {
    pub step: usize,
    pub action: ConsentAction,
    pub before: Option<&'a Screenshot>,
    pub after: Option<&'a Screenshot>,
}

/// A visit's screenshots by consent action, in step order (those without a file left out).
pub fn pairs(shots: &[Screenshot]) -> Vec<ShotPair<'_>> {
    let mut out: Vec<ShotPair> = Vec::new();
    for s in shots.iter().filter(|s| s.path.is_some()) {
        let i = match out.iter().position(|p| p.step == s.step) {
            Some(i) => i,
            None => {
                out.push(ShotPair {
                    step: s.step,
                    action: s.action,
                    before: None,
                    after: None,
                });
                out.len() - 1
            }
        };
        if let Some(p) = out.get_mut(i) {
            match s.when {
                ShotWhen::Before => p.before = p.before.or(Some(s)),
                ShotWhen::After => p.after = p.after.or(Some(s)),
            }
        }
    }
    out.sort_by_key(|p| p.step);
    out
}

/// The terminal's one line: `8 screenshot(s) of 4 consent action(s) in DIR`, or `None`
/// when the report has none.
pub fn summary_line(report: &crate::outcome::AuditReport) -> Option<String> {
    let shots: Vec<&Screenshot> = report
        .visits
        .iter()
        .flat_map(|v| &v.screenshots)
        .filter(|s| s.path.is_some())
        .collect();
    if shots.is_empty() {
        return None;
    }
    let actions: usize = report
        .visits
        .iter()
        .map(|v| pairs(&v.screenshots).len())
        .sum();
    let mut dirs: Vec<String> = shots
        .iter()
        .filter_map(|s| s.path.as_deref())
        .map(|p| {
            Path::new(p)
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let place = match dirs.as_slice() {
        [one] if one.is_empty() => "beside the report".to_string(),
        [one] => format!("in {one}/"),
        many => format!("in {} directories", many.len()),
    };
    Some(format!(
        "{} screenshot(s) of {actions} consent action(s) {place}",
        shots.len()
    ))
}

/// A file path as a URL reference (`src` / `href`): `/` kept, every byte outside
/// `A-Z a-z 0-9 - . _ ~ /` percent-encoded, so spaces, `#`, `?`, `:` and `%` in a
/// directory name cannot change what it points at (no scheme, no query, no fragment),
/// and a leading `//` collapsed to `/` (never a network reference). Not HTML-escaped
/// (the result needs none).
pub fn url_ref(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let trimmed = path.trim_start_matches('/');
    let path = if trimmed.len() < path.len() {
        out.push('/');
        trimmed
    } else {
        path
    };
    const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    out.extend(percent_encoding::utf8_percent_encode(path, ENCODED));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0]);
        v
    }

    #[test]
    fn png_sizes() {
        assert_eq!(png_size(&png(1280, 900)), Ok((1280, 900)));
        assert!(png_size(b"GIF89a").is_err());
        assert!(png_size(&png(1280, 900)[..18]).is_err());
        assert!(png_size(&png(0, 900)).is_err());
    }

    #[test]
    fn relative_paths() {
        let r = |t: &str, b: &str| relative_to(Path::new(t), Path::new(b));
        assert_eq!(
            r("/r/demo/run-3/a.png", "/r/demo"),
            PathBuf::from("run-3/a.png")
        );
        assert_eq!(
            r("/r/demo/run-3/a.png", "/tmp/out"),
            PathBuf::from("../../r/demo/run-3/a.png")
        );
        assert_eq!(r("/r/a/../b/x.png", "/r/./b"), PathBuf::from("x.png"));
    }

    #[test]
    fn saving_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shot = |png: &[u8]| Screenshot {
            step: 0,
            action: ConsentAction::RejectAll,
            when: ShotWhen::After,
            time: Utc::now(),
            page: "https://x.test/".into(),
            width: 1,
            height: 1,
            bytes: png.len() as u64,
            capture_ms: 1,
            action_failed: false,
            path: None,
            png: png.to_vec(),
        };
        let obs = |png: &[u8]| VisitObservation {
            scenario: "reject_all".into(),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            status: crate::model::VisitStatus::Complete,
            steps: Vec::new(),
            requests: Vec::new(),
            cookie_writes: Vec::new(),
            cookies: Vec::new(),
            storage_writes: Vec::new(),
            page_errors: Vec::new(),
            signals: Vec::new(),
            cmp: Vec::new(),
            screenshots: vec![shot(png)],
            final_state: crate::model::ConsentState::initial(),
            warnings: Vec::new(),
            timings: Default::default(),
            login: None,
        };
        let (mut first, mut second) = (obs(b"old"), obs(b"new"));
        save_visit(&mut first, dir.path(), 0);
        save_visit(&mut second, dir.path(), 0);
        let path = |o: &VisitObservation| o.screenshots[0].path.clone().expect("saved");
        assert!(path(&first).ends_with("01-reject_all-step1-reject_all-after.png"));
        assert!(path(&second).ends_with("01-reject_all-step1-reject_all-after-2.png"));
        assert_eq!(std::fs::read(path(&first)).expect("read"), b"old");
        assert_eq!(std::fs::read(path(&second)).expect("read"), b"new");
        assert!(
            second.screenshots[0].png.is_empty(),
            "bytes dropped once written"
        );
        assert!(second.warnings.is_empty());
        // A directory that cannot be created: a warning, no screenshot.
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").expect("write");
        let mut third = obs(b"x");
        save_visit(&mut third, &file.join("sub"), 0);
        assert!(third.screenshots.is_empty());
        assert!(
            third.warnings[0].contains("not kept"),
            "{:?}",
            third.warnings
        );
    }

    #[test]
    fn names_and_refs_are_safe() {
        let shot = Screenshot {
            step: 2,
            action: ConsentAction::AcceptAll,
            when: ShotWhen::Before,
            time: Utc::now(),
            page: "https://x.test/".into(),
            width: 1,
            height: 1,
            bytes: 1,
            capture_ms: 1,
            action_failed: false,
            path: None,
            png: Vec::new(),
        };
        assert_eq!(
            file_name(0, "../accept all", &shot),
            "01----accept-all-step3-accept_all-before.png"
        );
        assert!(!file_name(0, "../x", &shot).contains('/'));
        assert_eq!(url_ref("run 3/a#b?.png"), "run%203/a%23b%3F.png");
        assert_eq!(url_ref("/r/é.png"), "/r/%C3%A9.png");
        assert_eq!(url_ref("//evil.test/x.png"), "/evil.test/x.png");
        assert_eq!(url_ref("javascript:alert(1)"), "javascript%3Aalert%281%29");
    }

    /// Every ASCII character (after the first, so a leading `/` does not count): kept when
    /// it is `A-Z a-z 0-9 - . _ ~ /`, else `%XX` in upper-case hex; other bytes always
    /// encoded.
    #[test]
    fn url_ref_encodes_exactly_outside_the_unreserved_set_and_slash() {
        for b in 1u8..=0x7f {
            let c = b as char;
            let got = url_ref(&format!("a{c}"));
            let kept = c.is_ascii_alphanumeric() || "-._~/".contains(c);
            let want = if kept {
                format!("a{c}")
            } else {
                format!("a%{b:02X}")
            };
            assert_eq!(got, want, "byte {b:#04x}");
        }
        assert_eq!(url_ref("a\u{7f}\u{80}ÿ"), "a%7F%C2%80%C3%BF");
    }
}
