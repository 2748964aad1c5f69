//! Text from pages and files, made safe to show. Page text (cookie names, URLs, JS error
//! messages, chromedriver's messages quoting page HTML) and file strings reach terminals,
//! CI logs and Markdown renderers: control characters could clear a screen or set a
//! window title, a newline could forge a diagnostic line, and bidirectional controls
//! (U+202E ...) could make a report say something else than it holds. Everything shown
//! to a person goes through [`printable`]; the JSON report keeps the exact values.

use std::borrow::Cow;

/// Is `c` a bidirectional formatting control (Trojan-Source style reordering)?
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of text with every control character (C0, DEL, C1, newlines included) and
/// every bidi control replaced by a visible `\u{..}` escape (`\n`, `\r`, `\t` for those).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`], then cut to at most `max` characters, the cut marked with `...`. A
/// stored page string that was clipped (it ends with a [`clip_mark`]) keeps its mark
/// whole, so every report says that it was clipped, how long it was and its hash.
pub fn printable_clipped(s: &str, max: usize) -> String {
    if let Some((kept, mark)) = split_clip_mark(s) {
        let room = max.saturating_sub(mark.chars().count());
        if room >= 8 {
            let kept: String = printable(kept).chars().take(room).collect();
            return format!("{kept}{mark}");
        }
    }
    let p = printable(s);
    if p.chars().count() <= max {
        return p.into_owned();
    }
    let keep = max.saturating_sub(3);
    let mut out: String = p.chars().take(keep).collect();
    out.push_str("...");
    out
}

/// Longest page-supplied string stored whole (URLs of requests, pages, frames and
/// sources, storage keys and origins, cookie attributes, error messages, ...): 8 KiB. A
/// longer one is stored as its first bytes and a [`clip_mark`], at most this long in all
/// (docs/storage.md, "Bounded page strings").
pub const PAGE_STRING_MAX: usize = 8 * 1024;

/// How a clip mark starts: right after the kept text (an ellipsis, as every clip of
/// consentry's, so a secret cut there is still recognised and redacted).
const CLIP_MARK_START: &str = "…[clipped: ";

/// The end of a clipped page string: its whole length in bytes and the keyed hash of the
/// whole (`…[clipped: 1900000 bytes, hash 0123456789abcdef]`).
pub fn clip_mark(len: usize, hash: &str) -> String {
    format!("{CLIP_MARK_START}{len} bytes, hash {hash}]")
}

/// A clipped page string's kept text and its [`clip_mark`]; `None` for any other text.
pub fn split_clip_mark(s: &str) -> Option<(&str, &str)> {
    let at = s.rfind(CLIP_MARK_START)?;
    let (kept, mark) = s.split_at(at);
    let body = mark.strip_prefix(CLIP_MARK_START)?.strip_suffix(']')?;
    let (len, hash) = body.split_once(" bytes, hash ")?;
    let well_formed = !len.is_empty()
        && len.bytes().all(|b| b.is_ascii_digit())
        && !hash.is_empty()
        && hash.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then_some((kept, mark))
}

/// Does `s` start with an ISO 8601 calendar date whose year is four unsigned digits
/// (`YYYY-MM-DD`)? chrono's `%Y` and RFC 3339 readers also take signed and longer years
/// (`+12345-01-01`, `-0001-01-01`), which no date given to consentry means; every date
/// read from input (`--since`, `--until`, acknowledgement dates, `gpc.json`'s
/// `lastUpdate`) is checked with this first.
pub fn starts_with_iso_date(s: &str) -> bool {
    let digits = |r: std::ops::Range<usize>| {
        s.as_bytes()
            .get(r)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && s.as_bytes().get(4) == Some(&b'-')
        && digits(5..7)
        && s.as_bytes().get(7) == Some(&b'-')
        && digits(8..10)
}

/// Longest page-provided text kept inside a piece of evidence or a message.
pub const EVIDENCE_TEXT_MAX: usize = 200;

/// Clip page-provided text (a raw header value, a script's string) for evidence.
pub fn clip_for_evidence(s: &str) -> String {
    if s.chars().count() <= EVIDENCE_TEXT_MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(EVIDENCE_TEXT_MAX).collect();
    out.push('…');
    out
}

/// A site name as a file-name slug: `Shop & Co. (FR)` -> `shop-co-fr`; never empty, at
/// most 60 characters, never `.`/`..`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "site".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            printable("x\nfile:1:1: error: forged"),
            "x\\nfile:1:1: error: forged"
        );
        assert_eq!(printable("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(printable("é ✓"), "é ✓");
    }

    #[test]
    fn clips_after_escaping() {
        assert_eq!(printable_clipped("abcdef", 10), "abcdef");
        assert_eq!(printable_clipped("abcdefghijkl", 8), "abcde...");
        assert!(printable_clipped(&"\u{1b}".repeat(100), 20).chars().count() <= 20);
    }
}

/// The first `n` bytes of `bytes` (all of them when fewer) in lower-case hex: the one
/// spelling of every digest consentry writes (file digests, set keys, bundle manifests).
pub fn hex_prefix(bytes: &[u8], n: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(n.min(bytes.len()) * 2);
    for b in bytes.iter().take(n) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn hex_prefix_spells_lower_case_and_stops_at_n() {
        assert_eq!(super::hex_prefix(&[0x00, 0xab, 0xff], 2), "00ab");
        assert_eq!(super::hex_prefix(&[0x0f], 8), "0f");
        assert_eq!(super::hex_prefix(&[], 4), "");
    }
}
