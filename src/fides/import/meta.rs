//! The `meta.consentry` block `consentry map export` writes under each system: what
//! fideslang has no field for (docs/fideslang.md, "What fideslang cannot say").

use super::{sanitize, Entry, Importer};
use crate::fides::yaml::{Node, Pos};
use crate::policy::{
    default_gpc_opt_out, ConsentMode, CookieRule, HostPattern, LegalBasis, Party, Purpose,
    Retention, TcfDeclaration, Vendor,
};

impl Importer {
    /// A purpose from `meta.consentry.purposes`; fideslang's basis, when it gives one,
    /// wins over the meta block's.
    pub(super) fn meta_purpose(
        &mut self,
        p: &Node,
        basis: Option<LegalBasis>,
        at: Pos,
    ) -> Option<String> {
        let p = self.mapping(p, "a purpose of `meta.consentry`")?;
        let what = "a purpose of `meta.consentry`";
        let id = self.req_string(p, "id", what)?;
        let name = self
            .opt_string(p, "name", what)
            .unwrap_or_else(|| id.clone());
        let meta_basis = self.req_string(p, "basis", what).and_then(|b| {
            let parsed = LegalBasis::parse(&b);
            if parsed.is_none() {
                self.error(
                    p.get("basis").map_or(p.pos, |n| n.pos),
                    format!("unknown legal basis `{b}`"),
                    &format!("consentry's bases are: {}", LegalBasis::ALL.join(", ")),
                );
            }
            parsed
        })?;
        let strictly_necessary = self
            .opt_bool(p, "strictly_necessary", what)
            .unwrap_or(false);
        let tcf_purpose = match self.opt_int(p, "tcf_purpose", what) {
            None => None,
            Some(n) => match u8::try_from(n).ok().filter(|n| (1..=11).contains(n)) {
                Some(n) => Some(n),
                None => {
                    self.error(
                        p.get("tcf_purpose").map_or(p.pos, |n| n.pos),
                        format!("tcf_purpose {n} does not exist"),
                        "IAB TCF 2.2 purposes are numbered 1 to 11",
                    );
                    return None;
                }
            },
        };
        let gpc_opt_out = self
            .opt_bool(p, "gpc_opt_out", what)
            .unwrap_or_else(|| default_gpc_opt_out(tcf_purpose, strictly_necessary));
        let order = p.get("order").and_then(Node::as_int);
        let draft = self.opt_bool(p, "draft", what).unwrap_or(false);
        let basis = match basis {
            Some(b) if b != meta_basis => {
                self.note(
                    &Entry::Purpose(id.clone()),
                    format!(
                        "basis changed in fideslang since the export (was {})",
                        meta_basis.as_str()
                    ),
                );
                b
            }
            _ => meta_basis,
        };
        let purpose = Purpose {
            id: sanitize(&id),
            name,
            basis,
            strictly_necessary,
            tcf_purpose,
            gpc_opt_out,
            draft,
        };
        self.add_purpose(purpose, order, at)
    }

    /// Domains, hosts, pages, Consent Mode, CMP services and TCF from the meta block.
    pub(super) fn meta_vendor(&mut self, m: &Node, v: &mut Vendor, what: &str) {
        let mwhat = format!("`meta.consentry` of {what}");
        for (d, at) in self.strings(m, "domains", &mwhat) {
            if let Some(p) = self.domain(&d, at, "domain") {
                v.domains.push(p);
            }
        }
        for (h, at) in self.strings(m, "hosts", &mwhat) {
            match HostPattern::parse_checked(&h) {
                Ok(p) => v.hosts.push(p),
                Err(why) => self.error(at, format!("invalid host pattern `{h}`: {why}"), ""),
            }
        }
        if m.get("pages").is_some() {
            v.pages = self
                .strings(m, "pages", &mwhat)
                .into_iter()
                .map(|(p, _)| p)
                .collect();
        }
        if let Some(mode) = self.opt_string(m, "consent_mode", &mwhat) {
            match mode.parse::<ConsentMode>() {
                Ok(c) => v.consent_mode = Some(c),
                Err(_) => self.error(
                    m.get("consent_mode").map_or(m.pos, |n| n.pos),
                    format!("unknown consent_mode `{mode}`"),
                    "basic or advanced",
                ),
            }
        }
        v.cmp_services = self
            .strings(m, "cmp_services", &mwhat)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        v.draft = self.opt_bool(m, "draft", &mwhat).unwrap_or(false);
        if let Some(t) = m.get("tcf").filter(|n| !n.is_null()) {
            if let Some(t) = self.mapping(t, &format!("`tcf` of {mwhat}")) {
                v.tcf = Some(self.meta_tcf(t));
            }
        }
        if let Some(tol) = self.opt_string(m, "retention_tolerance", &mwhat) {
            let at = m.get("retention_tolerance").map_or(m.pos, |n| n.pos);
            match crate::toml_check::parse_duration_secs(&tol) {
                None => self.error(at, format!("invalid retention_tolerance `{tol}`"), ""),
                Some(secs) => match self.tolerance {
                    Some((other, first)) if other != secs => {
                        let line = self.line(first);
                        self.error(
                            at,
                            format!("retention_tolerance differs from the one at {line}"),
                            "",
                        );
                    }
                    _ => self.tolerance = Some((secs, at)),
                },
            }
        }
    }

    pub(super) fn meta_tcf(&mut self, t: &Node) -> TcfDeclaration {
        let what = "`meta.consentry.tcf`";
        let vendor_id = self
            .opt_int(t, "vendor_id", what)
            .and_then(|n| u32::try_from(n).ok());
        let mut nums = |key: &str, max: i64| -> Vec<u8> {
            let items = self.list(t, key, what);
            let mut out = Vec::new();
            for n in items {
                match n
                    .as_int()
                    .filter(|i| (1..=max).contains(i))
                    .and_then(|i| u8::try_from(i).ok())
                {
                    Some(i) => out.push(i),
                    None => self.error(
                        n.pos,
                        format!("`{key}` of {what}: not a number from 1 to {max}"),
                        "",
                    ),
                }
            }
            out
        };
        TcfDeclaration {
            vendor_id,
            consent_purposes: nums("consent_purposes", 11),
            li_purposes: nums("li_purposes", 11),
            special_purposes: nums("special_purposes", 3),
            features: nums("features", 3),
            special_features: nums("special_features", 2),
            at: Default::default(),
        }
    }

    pub(super) fn meta_cookie(&mut self, c: &Node, vendor: &str) -> Option<CookieRule> {
        let what = "a cookie of `meta.consentry`";
        let c = self.mapping(c, what)?;
        let name = self.req_string(c, "name", what);
        let retention = self.req_string(c, "max_retention", what).and_then(|r| {
            let parsed = Retention::parse(&r);
            if parsed.is_none() {
                self.error(
                    c.get("max_retention").map_or(c.pos, |n| n.pos),
                    format!("invalid retention `{r}`"),
                    crate::toml_check::DURATION_HINT,
                );
            }
            parsed
        });
        let domain = match self.opt_string(c, "domain", what) {
            None => Ok(None),
            Some(d) => {
                let at = c.get("domain").map_or(c.pos, |n| n.pos);
                self.domain(&d, at, "cookie domain").map(Some).ok_or(())
            }
        };
        let party = match self.opt_string(c, "party", what) {
            None => Ok(None),
            Some(p) => p.parse::<Party>().map(Some).map_err(|_| {
                self.error(
                    c.get("party").map_or(c.pos, |n| n.pos),
                    format!("unknown party `{p}`"),
                    "first or third",
                );
            }),
        };
        let basis = match self.opt_string(c, "basis", what) {
            None => Ok(None),
            Some(b) => LegalBasis::parse(&b).map(Some).ok_or_else(|| {
                self.error(
                    c.get("basis").map_or(c.pos, |n| n.pos),
                    format!("unknown legal basis `{b}`"),
                    &format!("consentry's bases are: {}", LegalBasis::ALL.join(", ")),
                );
            }),
        };
        let strictly_necessary = self.opt_bool(c, "strictly_necessary", what);
        let draft = self.opt_bool(c, "draft", what).unwrap_or(false);
        Some(CookieRule {
            name: name?,
            vendor: vendor.to_string(),
            max_retention: retention?,
            domain: domain.ok()?,
            party: party.ok()?,
            basis: basis.ok()?,
            strictly_necessary,
            draft,
        })
    }
}
