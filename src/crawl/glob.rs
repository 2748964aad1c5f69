//! The one wildcard matcher of page discovery: `*` matches any run of characters
//! (`/` included), and a pattern may end with `$` (robots.txt's end anchor). Used by
//! robots.txt rules (a prefix match) and by the `include` / `exclude` patterns of the
//! crawl settings (a whole match). Linear in practice and never recursive, so a hostile
//! robots.txt line with many `*` cannot blow the stack.

/// Does `pattern` match the start of `text` (robots.txt semantics: a rule matches a
/// path it is a prefix of; `*` is any run; a final `$` anchors the end)?
pub fn matches_prefix(pattern: &str, text: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    wildcard(pattern.as_bytes(), text.as_bytes(), anchored)
}

/// Does `pattern` match the whole of `text` (`*` is any run, everything else literal)?
pub fn matches_whole(pattern: &str, text: &str) -> bool {
    wildcard(pattern.as_bytes(), text.as_bytes(), true)
}

/// The classic greedy wildcard match with one backtrack point (the last `*`), which is
/// correct for patterns whose only metacharacter is `*`. `anchored`: the pattern must
/// consume all of `text`; else a match of a prefix of `text` is enough.
fn wildcard(p: &[u8], t: &[u8], anchored: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi == p.len() && (!anchored || ti == t.len()) {
            return true;
        }
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < p.len() && ti < t.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp + 1;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matches_with_stars_and_anchor() {
        assert!(matches_prefix("/", "/anything"));
        assert!(matches_prefix("/fish", "/fish.html"));
        assert!(!matches_prefix("/fish", "/Fish.asp"));
        assert!(matches_prefix("/*.php", "/folder/filename.php?x"));
        assert!(matches_prefix("/*.php$", "/filename.php"));
        assert!(!matches_prefix("/*.php$", "/filename.php?parameters"));
        assert!(!matches_prefix("/*.php$", "/filename.php5"));
        assert!(matches_prefix("/fish*.php", "/fishheads/catfish.php?p"));
        assert!(matches_prefix("*", ""));
        assert!(!matches_prefix("/a", ""));
    }

    #[test]
    fn whole_matches() {
        assert!(matches_whole("/blog/*", "/blog/2024/x"));
        assert!(!matches_whole("/blog/*", "/blogs/x"));
        assert!(matches_whole("*?preview=*", "/p?preview=1"));
        assert!(matches_whole("/a*b*c", "/axxbyyc"));
        assert!(!matches_whole("/a*b*c", "/axxbyycd"));
        assert!(matches_whole("/exact", "/exact"));
        assert!(!matches_whole("/exact", "/exact/"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let p = format!("/{}x", "*a".repeat(200));
        let t = format!("/{}", "a".repeat(5000));
        assert!(!matches_prefix(&p, &t));
    }
}
