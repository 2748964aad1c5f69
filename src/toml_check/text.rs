//! Words for diagnostics: "did you mean", and `${VAR}` interpolation.

use super::Env;

/// "did you mean `x`?" when a candidate is close, else the list of candidates.
pub fn suggest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str> + Clone,
    what: &str,
) -> String {
    match did_you_mean(word, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let all: Vec<&str> = candidates.collect();
            if all.is_empty() {
                format!("there are no {what}")
            } else {
                format!("{what}: {}", all.join(", "))
            }
        }
    }
}

/// The closest candidate within a small edit distance (case-insensitive; Levenshtein, in
/// characters; the first of equally close candidates).
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .map(|c| (strsim::levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Substitute `${VAR}` and `${VAR:-default}` (the default is used when VAR is unset
/// or empty). A `$` not followed by `{` is literal, and `$${` is a literal `${`.
/// Errors are (message, hint).
/// Is `name` an environment variable name: letters, digits and `_`, not starting with a
/// digit (the one rule of `${VAR}`, `[site] secrets` and `[vantage]`'s credential names).
pub fn is_var_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn interpolate(s: &str, env: Env<'_>) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        if let Some(before) = rest[..start].strip_suffix('$') {
            // `$${` is a literal `${` (for JavaScript template literals).
            out.push_str(before);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err((
                "unterminated `${` in string".to_string(),
                "write ${VAR} or ${VAR:-default}".to_string(),
            ));
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if !is_var_name(name) {
            return Err((
                format!("invalid environment variable name `{name}` in `${{{inner}}}`"),
                "names use letters, digits and `_`, not starting with a digit: ${VAR} or ${VAR:-default}".to_string(),
            ));
        }
        match (
            env(name).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err((
                    format!("environment variable `{name}` is not set"),
                    format!("set {name}, give a default as in ${{{name}:-value}}, or write $${{ for a literal ${{"),
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("bse_url", ["name", "base_url"].into_iter()),
            Some("base_url")
        );
        assert_eq!(
            did_you_mean("wait-for", ["click", "wait_for"].into_iter()),
            Some("wait_for")
        );
        assert_eq!(did_you_mean("zzz", ["id", "name"].into_iter()), None);
        // Distances count characters, not bytes; ties go to the first candidate.
        assert_eq!(
            did_you_mean("ÉTAT", ["etat", "état"].into_iter()),
            Some("état")
        );
        assert_eq!(did_you_mean("ab", ["ac", "ad"].into_iter()), Some("ac"));
        // Within a third of the candidate's length (at least 1): 3 edits of 9 is close.
        assert_eq!(
            did_you_mean("wait_fxxx", ["wait_for_x"].into_iter()),
            Some("wait_for_x")
        );
        assert_eq!(did_you_mean("wxxx_for", ["wait_for"].into_iter()), None);
    }

    #[test]
    fn interpolation() {
        let env = |k: &str| match k {
            "PORT" => Some("9000".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(interpolate("a${PORT}b", &env).unwrap(), "a9000b");
        assert_eq!(interpolate("${NOPE:-8443}", &env).unwrap(), "8443");
        assert_eq!(interpolate("${EMPTY:-x}|${EMPTY}", &env).unwrap(), "x|");
        assert_eq!(interpolate("$5 and $HOME", &env).unwrap(), "$5 and $HOME");
        assert_eq!(interpolate("`$${x}` ${PORT}", &env).unwrap(), "`${x}` 9000");
        assert!(interpolate("${NOPE}", &env)
            .unwrap_err()
            .0
            .contains("`NOPE` is not set"));
        assert!(interpolate("${PORT", &env).is_err());
        assert!(interpolate("${1X}", &env).is_err());
        assert!(interpolate("${}", &env).is_err());
    }
}
