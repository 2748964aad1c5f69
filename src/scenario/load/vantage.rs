//! `[vantage]`: where the audit looks from (docs/scenarios.md#vantage): a label, a proxy
//! (its credentials from environment variables, which become secrets of the site), a
//! locale and a timezone.

use crate::model::vantage::Vantage;
use crate::scenario::ProxyAuth;
use crate::toml_check::{Checker, Table};
use std::path::Path;
use toml::Spanned;

pub(crate) const VANTAGE_KEYS: &[&str] = &[
    "label",
    "proxy",
    "proxy_user_env",
    "proxy_password_env",
    "locale",
    "timezone",
];

/// Where IANA time zone names are looked up.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A checked `[vantage]`: the vantage, the proxy's credentials, and the secrets they
/// make ((variable name, value)).
pub(super) struct VantageParts {
    pub(super) vantage: Vantage,
    pub(super) proxy_auth: Option<ProxyAuth>,
    pub(super) secrets: Vec<(String, String)>,
}

pub(super) fn check_vantage(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> VantageParts {
    let zoneinfo = Path::new(ZONEINFO);
    let label = ck
        .req_string(t, "label", "\"eu-de\"")
        .and_then(|l| check_label(ck, l));
    let proxy = ck.opt_string(t, "proxy").and_then(|p| check_proxy(ck, &p));
    let user = ck.opt_string(t, "proxy_user_env");
    let password = ck.opt_string(t, "proxy_password_env");
    let mut secrets = Vec::new();
    let proxy_auth = match (user, password) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => {
            ck.error(
                &one.span(),
                "`proxy_user_env` and `proxy_password_env` go together",
                "name both environment variables (the proxy's user and its password), or neither",
            );
            None
        }
        (Some(u), Some(p)) => {
            match &proxy {
                // An invalid proxy was reported at its value already.
                None if t.get("proxy").is_some() => {}
                None => ck.error(
                    &u.span(),
                    "proxy credentials without a `proxy`",
                    "add proxy = \"http://host:port\", or remove proxy_user_env and proxy_password_env",
                ),
                Some((_, Scheme::Socks5)) => ck.error(
                    &u.span(),
                    "Chromium cannot authenticate to a SOCKS proxy",
                    "use an HTTP proxy (proxy = \"http://host:port\") for a proxy that needs credentials",
                ),
                Some(_) => {}
            }
            match (env_value(ck, &u), env_value(ck, &p)) {
                (Some(user), Some(password)) => {
                    secrets.push((u.get_ref().clone(), user.clone()));
                    secrets.push((p.get_ref().clone(), password.clone()));
                    Some(ProxyAuth { user, password })
                }
                _ => None,
            }
        }
    };
    let locale = ck.opt_string(t, "locale").and_then(|l| check_locale(ck, l));
    let timezone = ck
        .opt_string(t, "timezone")
        .and_then(|z| check_timezone(ck, z, zoneinfo));
    let vantage = Vantage {
        label: label.unwrap_or_default(),
        proxy: proxy.map(|(p, _)| p),
        proxy_auth: proxy_auth.is_some(),
        locale,
        timezone,
    };
    VantageParts {
        vantage,
        proxy_auth,
        secrets,
    }
}

fn check_label(ck: &mut Checker<'_>, l: Spanned<String>) -> Option<String> {
    let s = l.get_ref();
    let valid = (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !valid {
        ck.error(
            &l.span(),
            format!("invalid vantage label {s:?}"),
            "a label is 1 to 64 letters, digits, `-` and `_`, as in \"eu-de\"",
        );
        return None;
    }
    Some(l.into_inner())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Socks5,
}

/// `http://host:port` or `socks5://host:port`, normalised, without credentials.
fn check_proxy(ck: &mut Checker<'_>, p: &Spanned<String>) -> Option<(String, Scheme)> {
    let hint = "write proxy = \"http://host:port\" or \"socks5://host:port\"; credentials go in proxy_user_env and proxy_password_env";
    let url = match url::Url::parse(p.get_ref()) {
        Ok(u) => u,
        Err(e) => {
            ck.error(
                &p.span(),
                format!("invalid proxy {:?}: {e}", p.get_ref()),
                hint,
            );
            return None;
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        // Never quote it: the value holds a credential.
        ck.error(
            &p.span(),
            "the proxy URL holds credentials",
            "name the environment variables that hold them in proxy_user_env and proxy_password_env, never in the file",
        );
        return None;
    }
    let scheme = match url.scheme() {
        "http" => Scheme::Http,
        "socks5" => Scheme::Socks5,
        other => {
            ck.error(
                &p.span(),
                format!("unsupported proxy scheme `{other}`"),
                hint,
            );
            return None;
        }
    };
    let host = url.host_str().filter(|h| !h.is_empty());
    let (Some(host), Some(port)) = (host, url.port_or_known_default()) else {
        ck.error(
            &p.span(),
            format!("proxy {:?} needs a host and a port", p.get_ref()),
            hint,
        );
        return None;
    };
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        ck.error(
            &p.span(),
            format!("proxy {:?} has a path, query or fragment", p.get_ref()),
            hint,
        );
        return None;
    }
    Some((format!("{}://{host}:{port}", url.scheme()), scheme))
}

/// The value of the environment variable `name` (a valid, set name whose value is long
/// enough to be redacted, [`crate::secrets::MIN_SECRET_LEN`]). The message never holds
/// the value.
fn env_value(ck: &mut Checker<'_>, name: &Spanned<String>) -> Option<String> {
    let n = name.get_ref();
    if !crate::toml_check::is_var_name(n) {
        ck.error(
            &name.span(),
            format!("{n:?} is not an environment variable name"),
            "use letters, digits and `_`, not starting with a digit (e.g. \"PROXY_USER\")",
        );
        return None;
    }
    match ck.env().and_then(|e| e(n)) {
        None => {
            ck.error(
                &name.span(),
                format!("proxy credential {n} is not set in the environment"),
                "set it before the audit",
            );
            None
        }
        Some(v) if v.chars().count() < crate::secrets::MIN_SECRET_LEN => {
            ck.error(
                &name.span(),
                format!(
                    "the value of {n} is shorter than {} characters and cannot be redacted safely",
                    crate::secrets::MIN_SECRET_LEN
                ),
                "proxy credentials are secrets: use a longer value",
            );
            None
        }
        Some(v) => Some(v),
    }
}

/// A BCP 47 language tag as Chromium takes it: a 2 or 3 letter language, then subtags of
/// 1 to 8 letters or digits (`de-DE`, `en`, `zh-Hant-TW`, `es-419`).
fn check_locale(ck: &mut Checker<'_>, l: Spanned<String>) -> Option<String> {
    let s = l.get_ref();
    let mut parts = s.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !(lang_ok && rest_ok) {
        ck.error(
            &l.span(),
            format!("invalid locale {s:?}"),
            "write a BCP 47 language tag, as in \"de-DE\", \"fr\" or \"pt-BR\"",
        );
        return None;
    }
    Some(l.into_inner())
}

/// An IANA time zone this system knows (a file under /usr/share/zoneinfo).
fn check_timezone(ck: &mut Checker<'_>, z: Spanned<String>, zoneinfo: &Path) -> Option<String> {
    let s = z.get_ref();
    let shaped = !s.is_empty()
        && !s.starts_with('/')
        && s.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if !shaped {
        ck.error(
            &z.span(),
            format!("invalid timezone {s:?}"),
            "write an IANA time zone name, as in \"Europe/Berlin\" or \"America/New_York\"",
        );
        return None;
    }
    if !zoneinfo.is_dir() {
        ck.warning(
            &z.span(),
            format!(
                "timezone {s:?} cannot be checked: {} is missing",
                zoneinfo.display()
            ),
            "install the tzdata package to have time zone names checked",
        );
        return Some(z.into_inner());
    }
    if !zoneinfo.join(s).is_file() {
        ck.error(
            &z.span(),
            format!("unknown timezone {s:?}"),
            "write an IANA time zone name, as in \"Europe/Berlin\" or \"America/New_York\" (see /usr/share/zoneinfo)",
        );
        return None;
    }
    Some(z.into_inner())
}
