//! IAB Global Privacy Platform (GPP) strings and US Privacy (USP) strings: what they say
//! (decoded by `crate::signals::gpp`, never here). Like a TC string, a GPP or USP string is
//! kept only as a keyed hash next to what it decoded to.

use super::tcf::TcfDecoded;
use serde::{Deserialize, Serialize};

/// Which kind of string a [`GppSignal`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GppFormat {
    /// A GPP string (`__gpp`, the `gpp` request parameter): a header and its sections.
    #[default]
    Gpp,
    /// A US Privacy string (`__uspapi`, the `usprivacy` cookie, the `us_privacy`
    /// parameter): one `uspv1` section.
    Usp,
}

/// A GPP or USP string seen somewhere, decoded (or why not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GppSignal {
    pub format: GppFormat,
    /// Keyed hash of the string as seen (empty: no string).
    pub string_hash: String,
    pub string_len: usize,
    /// Its sections, decoded one by one (a section that cannot be decoded says why).
    pub sections: Vec<GppSection>,
    /// Why the string as a whole could not be decoded (then `sections` is empty).
    pub error: Option<String>,
    /// The sections said to apply: the `gpp_sid` request parameter, or the page API's
    /// `applicableSections` (`[-1]`: none applies; `[0]`: the CMP does not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicable_sections: Option<Vec<i64>>,
    /// `cmpStatus` of the page API's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmp_status: Option<String>,
    /// `signalStatus` of the page API's answer (`ready`, `not ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_status: Option<String>,
}

/// One section of a GPP string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GppSection {
    /// The GPP section id (2 = `tcfeuv2`, 6 = `uspv1`, 7 = `usnat`, 8 = `usca`, ...).
    pub id: u8,
    /// The IAB's API prefix of the section (`usnat`, `usca`, `tcfeuv2`, `uspv1`).
    pub name: String,
    /// The opt-outs of a US section (`uspv1` and the US national and state sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub us: Option<UsOptOuts>,
    /// The TCF EU v2 section, decoded as a TC string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcf: Option<Box<TcfDecoded>>,
    /// Why the section could not be decoded, or that it is not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A US opt-out field: `0` not applicable, `1` opted out, `2` did not opt out (in `uspv1`,
/// `-`, `Y`, `N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOut {
    NotApplicable,
    OptedOut,
    DidNotOptOut,
}

impl OptOut {
    fn word(self) -> &'static str {
        match self {
            OptOut::NotApplicable => "n/a",
            OptOut::OptedOut => "opted out",
            OptOut::DidNotOptOut => "not opted out",
        }
    }
}

/// A basis a US opt-out removes: the sale of personal information, its sharing
/// (cross-context behavioural advertising, California) and targeted advertising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsBasis {
    Sale,
    Sharing,
    TargetedAdvertising,
}

impl UsBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            UsBasis::Sale => "sale",
            UsBasis::Sharing => "sharing",
            UsBasis::TargetedAdvertising => "targeted advertising",
        }
    }
}

/// What a US section says of the visitor's opt-outs. A field the section does not have is
/// `None` (`usca` has no targeted advertising field, `usva` no sharing field, `uspv1` only
/// the sale).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsOptOuts {
    pub sale_opt_out: Option<OptOut>,
    pub sharing_opt_out: Option<OptOut>,
    pub targeted_advertising_opt_out: Option<OptOut>,
    /// The section's GPC subsection: whether the CMP saw GPC (`None`: no subsection).
    pub gpc: Option<bool>,
    /// `MspaCoveredTransaction` (`uspv1`: `LspaCovered`), when stated.
    pub mspa_covered_transaction: Option<bool>,
}

impl UsOptOuts {
    /// Each basis the section has a field for, with what the field says.
    pub fn fields(&self) -> Vec<(UsBasis, OptOut)> {
        [
            (UsBasis::Sale, self.sale_opt_out),
            (UsBasis::Sharing, self.sharing_opt_out),
            (
                UsBasis::TargetedAdvertising,
                self.targeted_advertising_opt_out,
            ),
        ]
        .into_iter()
        .filter_map(|(b, v)| v.map(|v| (b, v)))
        .collect()
    }

    /// The bases the section says the visitor did not opt out of (field `2`, `N`).
    pub fn not_opted_out(&self) -> Vec<UsBasis> {
        self.fields()
            .into_iter()
            .filter(|(_, v)| *v == OptOut::DidNotOptOut)
            .map(|(b, _)| b)
            .collect()
    }

    /// The bases the section says the visitor opted out of (field `1`, `Y`).
    pub fn opted_out(&self) -> Vec<UsBasis> {
        self.fields()
            .into_iter()
            .filter(|(_, v)| *v == OptOut::OptedOut)
            .map(|(b, _)| b)
            .collect()
    }

    /// `sale opted out, sharing not opted out, gpc yes`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .fields()
            .into_iter()
            .map(|(b, v)| format!("{} {}", b.as_str(), v.word()))
            .collect();
        if let Some(g) = self.gpc {
            parts.push(format!("gpc {}", if g { "yes" } else { "no" }));
        }
        if parts.is_empty() {
            "no opt-out field".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl GppSection {
    /// `usnat: sale opted out, ...` / `tcfeuv2: consent purposes 1,2; ...`.
    pub fn describe(&self) -> String {
        match (&self.us, &self.tcf, &self.error) {
            (Some(us), _, _) => format!("{}: {}", self.name, us.describe()),
            (None, Some(t), _) => format!("{}: {}", self.name, t.bits()),
            (None, None, Some(e)) => format!("{}: {e}", self.name),
            (None, None, None) => format!("{}: not read", self.name),
        }
    }
}

/// `[7, 8]` as `7,8`, `none` when empty.
pub fn sids(v: &[i64]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    }
}

impl GppSignal {
    /// The US sections (with their opt-outs), in string order.
    pub fn us_sections(&self) -> impl Iterator<Item = (&GppSection, &UsOptOuts)> {
        self.sections
            .iter()
            .filter_map(|s| s.us.as_ref().map(|us| (s, us)))
    }

    /// One line for the per-scenario signal view and evidence.
    pub fn summary(&self) -> String {
        let label = match self.format {
            GppFormat::Gpp => "GPP",
            GppFormat::Usp => "US Privacy",
        };
        let mut head = label.to_string();
        if let Some(sid) = &self.applicable_sections {
            head.push_str(&format!(" (applicable sections {})", sids(sid)));
        }
        match &self.error {
            Some(e) => format!("{head}: {e}"),
            None if self.sections.is_empty() => format!("{head}: no section"),
            None => format!(
                "{head}: {}",
                self.sections
                    .iter()
                    .map(GppSection::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_lists_only_the_fields_it_has() {
        let us = UsOptOuts {
            sale_opt_out: Some(OptOut::OptedOut),
            sharing_opt_out: Some(OptOut::DidNotOptOut),
            targeted_advertising_opt_out: None,
            gpc: Some(true),
            mspa_covered_transaction: None,
        };
        assert_eq!(us.not_opted_out(), vec![UsBasis::Sharing]);
        assert_eq!(us.opted_out(), vec![UsBasis::Sale]);
        assert_eq!(
            us.describe(),
            "sale opted out, sharing not opted out, gpc yes"
        );
    }
}
