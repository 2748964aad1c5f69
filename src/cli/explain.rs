//! `consentry explain CODE`: the documented contract of a finding code (what it means,
//! its severity, its evidence, how to fix or acknowledge it), printed from docs/findings.md
//! (built into the binary): the same text the SARIF report gives as each rule's help
//! ([`consentry::report::ci::code_doc`]). An unknown code is exit 2, naming the close ones.

use clap::Args;
use consentry::analysis::finding::Code;
use consentry::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A finding code, as a report names it (`undeclared-fourth-party`).
    #[arg(value_name = "CODE")]
    pub code: String,
}

pub fn run(args: ExplainArgs) -> ExitStatus {
    let asked = args.code.trim().to_ascii_lowercase();
    let Some(code) = Code::parse(&asked) else {
        let close = close_codes(&asked);
        let (what, list) = if close.is_empty() {
            ("the codes are", Code::all().map(Code::as_str).collect())
        } else {
            ("close codes", close)
        };
        consentry::stderr::line(format_args!(
            "error: unknown finding code {:?}; {what}:\n  {}",
            args.code,
            list.join("\n  ")
        ));
        return ExitStatus::InvalidInput;
    };
    match crate::cli::output::to_stdout(&explain(code)) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

/// The page `explain` prints: the code, its one-line summary, its family, and its
/// docs/findings.md section.
pub fn explain(code: Code) -> String {
    let family = consentry::analysis::code_families()
        .into_iter()
        .find(|(_, c)| *c == code)
        .map_or("-", |(f, _)| f);
    format!(
        "{code}: {}\nfamily: {family} · default severity: {}\n\n{}\n\nFull contract: docs/findings.md#{code}\n",
        code.summary(),
        code.severity(),
        consentry::report::ci::code_doc(code)
    )
}

/// The codes close to `asked`: within a few edits, or sharing a word of it, closest first
/// (at most 5).
fn close_codes(asked: &str) -> Vec<&'static str> {
    let words: Vec<&str> = asked
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 3)
        .collect();
    let mut scored: Vec<(usize, usize, &'static str)> = Code::all()
        .map(Code::as_str)
        .filter_map(|name| {
            let distance = edit_distance(asked, name);
            let shared = words
                .iter()
                .filter(|w| name.split('-').any(|p| p == **w))
                .count();
            let near = distance <= (asked.len() / 3).max(3);
            (near || shared > 0 || (asked.len() >= 4 && name.contains(asked))).then_some((
                usize::MAX - shared,
                distance,
                name,
            ))
        })
        .collect();
    scored.sort_by_key(|(s, d, _)| (*d, *s));
    scored.into_iter().take(5).map(|(_, _, n)| n).collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_are_found_by_edits_and_words() {
        assert_eq!(
            close_codes("undeclared-third-pary").first(),
            Some(&"undeclared-third-party")
        );
        assert!(close_codes("fourth").contains(&"undeclared-fourth-party"));
        assert!(close_codes("zzzzzzzzzzzzzzzzzzzzzzzz").is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn every_code_explains_itself_from_the_contract() {
        for code in Code::all() {
            let page = explain(code);
            assert!(page.starts_with(&format!("{code}: {}", code.summary())));
            assert!(page.contains(consentry::report::ci::code_doc(code)));
            assert!(page.contains("**Severity:**"), "{code}");
        }
    }
}
