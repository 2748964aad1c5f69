//! `[browser]`: Chromium options and the timeouts, within documented limits.

use crate::scenario::{BrowserOptions, ThirdPartyCookies};
use crate::toml_check::{Checker, Table, Val};
use std::time::Duration;
use toml::Spanned;

pub(crate) const BROWSER_KEYS: &[&str] = &[
    "args",
    "third_party_cookies",
    "user_agent",
    "page_load_timeout",
    "step_timeout",
    "settle_quiet",
    "settle_timeout",
    "window_size",
];

/// The longest timeout accepted (`page_load_timeout`, `step_timeout`, `settle_*`,
/// a step's `timeout`): 10 minutes. WebDriver refuses longer page-load timeouts, and a
/// longer wait is a mistake in an audit.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) fn check_browser(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> BrowserOptions {
    let d = BrowserOptions::default();
    let third_party_cookies = ck.opt_string(t, "third_party_cookies").and_then(|s| {
        ck.one_of(
            &s,
            "third_party_cookies value",
            <ThirdPartyCookies as strum::VariantNames>::VARIANTS,
        )
        .and_then(|v| v.parse::<ThirdPartyCookies>().ok())
    });
    let settle_quiet = ck.opt_duration(t, "settle_quiet", MAX_TIMEOUT);
    let settle_timeout = ck.opt_duration(t, "settle_timeout", MAX_TIMEOUT);
    let (quiet, timeout) = (
        settle_quiet.unwrap_or(d.settle_quiet),
        settle_timeout.unwrap_or(d.settle_timeout),
    );
    if quiet > timeout {
        let at = t
            .get("settle_quiet")
            .or(t.get("settle_timeout"))
            .map(|v| v.span())
            .unwrap_or_else(|| t.span.clone());
        ck.error(
            &at,
            format!(
                "`settle_quiet` ({}) is longer than `settle_timeout` ({}): the network could never be seen idle",
                humantime::format_duration(quiet),
                humantime::format_duration(timeout)
            ),
            "settle_quiet is the quiet window, settle_timeout the most time spent waiting for it: make settle_quiet the shorter",
        );
    }
    BrowserOptions {
        args: ck
            .opt_strings(t, "args")
            .unwrap_or_default()
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        third_party_cookies: third_party_cookies.unwrap_or(d.third_party_cookies),
        user_agent: ck.opt_string(t, "user_agent").map(Spanned::into_inner),
        page_load_timeout: ck
            .opt_duration(t, "page_load_timeout", MAX_TIMEOUT)
            .unwrap_or(d.page_load_timeout),
        step_timeout: ck
            .opt_duration(t, "step_timeout", MAX_TIMEOUT)
            .unwrap_or(d.step_timeout),
        settle_quiet: quiet,
        settle_timeout: timeout,
        window_size: t
            .get("window_size")
            .and_then(|v| window_size(ck, v))
            .unwrap_or(d.window_size),
        vantage: d.vantage,
        proxy_auth: None,
    }
}

fn window_size(ck: &mut Checker<'_>, v: &Val<'_>) -> Option<(u32, u32)> {
    let hint = "write window_size = [width, height] in pixels, as in [1280, 900]";
    let items = ck.array(v, "`window_size` in [browser]")?;
    let what = "each element of `window_size` in [browser]";
    let dims: Vec<Option<u32>> = items
        .iter()
        .map(|i| {
            let n = ck.integer(i, what)?;
            let dim = u32::try_from(*n.get_ref())
                .ok()
                .filter(|d| (1..=100_000).contains(d));
            if dim.is_none() {
                ck.error(
                    &n.span(),
                    format!("window dimension {} is out of range", n.get_ref()),
                    hint,
                );
            }
            dim
        })
        .collect();
    match dims[..] {
        [Some(w), Some(h)] => Some((w, h)),
        [_, _] => None,
        _ => {
            ck.error(
                &v.span(),
                "`window_size` must have exactly two numbers",
                hint,
            );
            None
        }
    }
}
