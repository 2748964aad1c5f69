//! What makes a TC string safe to hand to the decoding libraries: the length and
//! segment checks every string passes, the walk over the fields `lib_tcstring` 0.5.0
//! reads without a bounds check ([`lib_tcstring_preflight`]), and the bound on the
//! vendor ids the ranges expand to ([`MAX_RANGE_IDS`]). Moved from `tcf.rs`, not changed.

use super::{MAX_RANGE_IDS, MAX_TC_STRING_LEN};
use crate::signals::contain::too_long;

/// The checks every TC string passes before a library sees it: at most
/// [`MAX_TC_STRING_LEN`] bytes, dot-separated non-empty segments (at most 4: core,
/// disclosed vendors, allowed vendors, publisher TC) of base64url text. Returns the
/// decoded bytes of each segment.
pub(super) fn check_tc_string(s: &str) -> Result<Vec<Vec<u8>>, String> {
    if s.len() > MAX_TC_STRING_LEN {
        return Err(too_long(s.len(), MAX_TC_STRING_LEN));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return Err(format!(
            "{} segments (a TC string has at most 4: core, disclosed vendors, allowed \
             vendors, publisher TC)",
            parts.len()
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(format!("segment {} is empty", i + 1));
        }
        match base64url(part) {
            Ok(bytes) => out.push(bytes),
            Err(at) => {
                let c = part.get(at..).and_then(|t| t.chars().next()).unwrap_or('?');
                return Err(format!(
                    "segment {} has {c:?} at offset {at}, not base64url",
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Base64url without padding, decoded (trailing bits of the last character dropped), or
/// the byte offset of the first character outside the alphabet.
pub(super) fn base64url(s: &str) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut nbits) = (0u32, 0u32);
    for (i, b) in s.bytes().enumerate() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Err(i),
        };
        acc = (acc << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((acc >> nbits) & 0xff) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    Ok(out)
}

/// Bits of a segment, read most significant first; `None` past the end.
pub(super) struct Bits<'a>(&'a [u8]);

impl Bits<'_> {
    fn len(&self) -> usize {
        self.0.len() * 8
    }
    fn get(&self, start: usize, n: usize) -> Option<u64> {
        if start.checked_add(n)? > self.len() {
            return None;
        }
        let mut v = 0u64;
        for i in start..start + n {
            let byte = self.0.get(i / 8)?;
            v = (v << 1) | u64::from((byte >> (7 - i % 8)) & 1);
        }
        Some(v)
    }
}

/// Would `lib_tcstring` 0.5.0 index past the end of this string's bytes (a panic), or
/// expand more than [`MAX_RANGE_IDS`] vendor ids? It reads some fields without a bounds
/// check (its `parse_from_bytes` indexes `val[..]` directly); this walks the same fields
/// in the same order, with the checks:
///
/// - an optional segment's type (bits 0-2) and, for disclosed / allowed vendors (types 1
///   and 2), `MaxVendorId` and `IsRangeEncoding` (bits 3-19): a segment under 20 bits
///   (base64 of 1-3 characters) panics `tcf_2.rs` `parse_vendor_segment_from_bytes`;
/// - the publisher TC segment (type 3) reads `NumCustomPurposes` (bits 51-56) first: a
///   segment under 57 bits (base64 of up to 10 characters) panics
///   `parse_publisher_tc_from_bytes`;
/// - the core segment's vendor sections: `MaxVendorId` and `IsRangeEncoding` (17 bits)
///   read whenever a section starts before the end (`parse_range_sections_from_bytes`),
///   and each range entry's `IsARange` bit read without a check
///   (`parse_vendor_range_from_bytes`);
/// - a range ending at vendor 65535 overflows `end_vendor_id + 1` (a panic with overflow
///   checks, as in debug builds).
///
/// `Ok` means it is safe to run (it may still return its own error). `s` is the string,
/// `segments` its decoded segments ([`check_tc_string`]).
pub(super) fn lib_tcstring_preflight(s: &str, segments: &[Vec<u8>]) -> Result<(), Unsafe> {
    // Its first check: a string that does not start with `C` (version 2) is an error.
    if !s.starts_with('C') {
        return Ok(());
    }
    let mut budget = MAX_RANGE_IDS;
    let Some((core, optional)) = segments.split_first() else {
        return Ok(());
    };
    let bits = Bits(core);
    // Its own check: a core under 213 bits is an error it returns before anything else.
    if bits.len() < 213 {
        return Ok(());
    }
    let mut start = 213;
    for section in 0..3 {
        if start >= bits.len() {
            break;
        }
        if section < 2 {
            let (Some(max_vendor), Some(is_range)) = (bits.get(start, 16), bits.get(start + 16, 1))
            else {
                return Err(Unsafe::ForLib(format!(
                    "the core segment ends inside a vendor section header (bit {start} of {})",
                    bits.len()
                )));
            };
            if is_range == 0 {
                start += 17 + max_vendor as usize;
                if start > bits.len() {
                    // A bitfield past the end: its checked read, an error.
                    return Ok(());
                }
            } else {
                match vendor_ranges(&bits, start + 17, &mut budget)? {
                    Some(end) => start = end,
                    None => return Ok(()),
                }
            }
        } else {
            // Publisher restrictions: each header is checked, each vendor range is not.
            let Some(count) = bits.get(start, 12) else {
                return Ok(());
            };
            let mut at = start + 12;
            for _ in 0..count {
                if at + 8 > bits.len() {
                    return Ok(());
                }
                match vendor_ranges(&bits, at + 8, &mut budget)? {
                    Some(end) => at = end,
                    None => return Ok(()),
                }
            }
            break;
        }
    }
    for (i, seg) in optional.iter().enumerate() {
        let bits = Bits(seg);
        let n = i + 2;
        match bits.get(0, 3) {
            Some(1 | 2) => {
                let Some(is_range) = bits.get(19, 1) else {
                    return Err(Unsafe::ForLib(format!(
                        "segment {n} (disclosed or allowed vendors) is {} bits, under the 20 \
                         its header needs",
                        bits.len()
                    )));
                };
                let max_vendor = bits.get(3, 16).unwrap_or_default() as usize;
                // A bitfield or a range past the end: its checked read, an error.
                if is_range == 0 && 20 + max_vendor > bits.len()
                    || is_range == 1 && vendor_ranges(&bits, 20, &mut budget)?.is_none()
                {
                    return Ok(());
                }
            }
            Some(3) => {
                let Some(custom) = bits.get(51, 6) else {
                    return Err(Unsafe::ForLib(format!(
                        "segment {n} (publisher TC) is {} bits, under the 57 its header needs",
                        bits.len()
                    )));
                };
                if 57 + 2 * custom as usize > bits.len() {
                    return Ok(());
                }
            }
            // Another type: an error it returns.
            Some(_) => return Ok(()),
            None => {
                return Err(Unsafe::ForLib(format!("segment {n} is under 3 bits")));
            }
        }
    }
    Ok(())
}

/// A `NumEntries` + entries vendor range starting at `start`, as `lib_tcstring` reads it:
/// `Ok(Some(end bit))`, `Ok(None)` where it returns its own error (a checked read past
/// the end), `Err` where it would panic or expand more than the budget.
pub(super) fn vendor_ranges(
    bits: &Bits,
    start: usize,
    budget: &mut usize,
) -> Result<Option<usize>, Unsafe> {
    let Some(entries) = bits.get(start, 12) else {
        return Ok(None);
    };
    let mut at = start + 12;
    for _ in 0..entries {
        let Some(is_range) = bits.get(at, 1) else {
            return Err(Unsafe::ForLib(format!(
                "a vendor range entry starts at the end of a segment (bit {at} of {})",
                bits.len()
            )));
        };
        if is_range == 1 {
            let (Some(first), Some(last)) = (bits.get(at + 1, 16), bits.get(at + 17, 16)) else {
                return Ok(None);
            };
            if last == 65_535 {
                return Err(Unsafe::ForLib(
                    "a vendor range ends at vendor 65535".to_string(),
                ));
            }
            let n = (last + 1).saturating_sub(first) as usize;
            *budget = budget.checked_sub(n).ok_or_else(range_ids_exceeded)?;
            at += 33;
        } else {
            if at + 17 > bits.len() {
                return Ok(None);
            }
            *budget = budget.checked_sub(1).ok_or_else(range_ids_exceeded)?;
            at += 17;
        }
    }
    Ok(Some(at))
}

/// How many vendor ids `iab_gpp` 0.1.2 expands while reading a core segment's publisher
/// restrictions. It reads them as GPP ranges (`Key`, `Type`, a 16-bit `MaxId`, an
/// `IsIntRange` bit, then `NumEntries` + entries or a bitfield), not as TCF's, so its
/// reading differs from `lib_tcstring`'s ([`lib_tcstring_preflight`] counts that one);
/// each entry may expand up to 65,536 ids. The vendor sections before them are read
/// alike by both and counted there. Stops where `iab_gpp` would hit the end.
pub(super) fn iab_gpp_restriction_ids(core: &[u8]) -> usize {
    let bits = Bits(core);
    let mut at = 213;
    for _ in 0..2 {
        let (Some(max_vendor), Some(is_range)) = (bits.get(at, 16), bits.get(at + 16, 1)) else {
            return 0;
        };
        at += 17;
        if is_range == 0 {
            at += max_vendor as usize;
        } else {
            let Some(entries) = bits.get(at, 12) else {
                return 0;
            };
            at += 12;
            for _ in 0..entries {
                at += if bits.get(at, 1) == Some(1) { 33 } else { 17 };
            }
        }
    }
    let mut ids = 0usize;
    let Some(count) = bits.get(at, 12) else {
        return 0;
    };
    at += 12;
    for _ in 0..count {
        let (Some(max_id), Some(is_int_range)) = (bits.get(at + 8, 16), bits.get(at + 24, 1))
        else {
            return ids;
        };
        at += 25;
        if is_int_range == 0 {
            at += max_id as usize;
            continue;
        }
        let Some(entries) = bits.get(at, 12) else {
            return ids;
        };
        at += 12;
        for _ in 0..entries {
            match bits.get(at, 1) {
                Some(1) => {
                    let (Some(first), Some(last)) = (bits.get(at + 1, 16), bits.get(at + 17, 16))
                    else {
                        return ids;
                    };
                    ids += (last + 1).saturating_sub(first) as usize;
                    at += 33;
                }
                Some(_) => {
                    ids += 1;
                    at += 17;
                }
                None => return ids,
            }
        }
    }
    ids
}

pub(super) fn range_ids_exceeded() -> Unsafe {
    Unsafe::ForBoth(format!(
        "its vendor ranges name more than {MAX_RANGE_IDS} vendor ids"
    ))
}

/// What [`lib_tcstring_preflight`] found.
pub(super) enum Unsafe {
    /// `lib_tcstring` would panic: run `iab_gpp` only (its reads are all checked).
    ForLib(String),
    /// Neither may run: the ranges expand past [`MAX_RANGE_IDS`].
    ForBoth(String),
}
