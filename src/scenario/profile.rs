//! CMP profiles: reusable consent flows for one CMP, in our own step vocabulary
//! (`scenarios/cmp/<name>.toml`, docs/scenarios.md#cmp-profiles).
//!
//! autoconsent knows how to accept and reject; it does not know how to object to
//! legitimate interest or withdraw a consent. A profile says how, for one CMP: open its
//! second layer, switch off the legitimate-interest purposes and vendors only, save
//! (`[object_li]`), or reopen the preference centre and withdraw (`[withdraw]`). A
//! scenario file names a profile (`[cmp] profile = "klaro"`), or, with `[cmp] auto =
//! true`, the engine picks the profile matching the CMP detected on the page.

use super::Step;
use serde::Serialize;

/// One validated profile file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CmpProfile {
    /// The file's stem (`klaro` for `cmp/klaro.toml`), also `[profile] name`.
    pub name: String,
    /// Where it was read: a path, or `scenarios/cmp/NAME.toml (bundled)`.
    pub source: String,
    pub description: String,
    /// How the CMP is recognised on a page.
    pub detect: Detect,
    /// The CMP's first layer (a selector path): a re-prompt is this element visible on
    /// a page loaded after the choice was stored.
    pub banner: Option<String>,
    pub object_li: Flow,
    pub withdraw: Flow,
    /// Grant consent to some purposes only (`[accept_some]`): its scripts receive the
    /// step's grant as JSON where they say `{{grant}}`.
    pub accept_some: Flow,
}

/// How a profile's CMP is recognised; any one match is enough.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Detect {
    /// Names autoconsent reports for it (`cmpDetected` / `popupFound`), compared
    /// case-insensitively.
    pub autoconsent: Vec<String>,
    /// IAB TCF CMP ids (`__tcfapi('ping').cmpId`).
    pub tcf_cmp_ids: Vec<u32>,
    /// An element present on the page (a selector path).
    pub selector: Option<String>,
}

/// One flow of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Flow {
    /// The steps; exactly one carries the flow's consent action.
    Steps(Vec<Step>),
    /// This CMP cannot do it, and why (vanilla-cookieconsent has no legitimate-interest
    /// notion, so there is nothing to object to).
    Unsupported(String),
    /// The profile does not say.
    Absent,
}

/// Which flow of a profile a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Object to legitimate interest (consent = "object_li").
    ObjectLi,
    /// Withdraw a consent given earlier (consent = "reject_all").
    Withdraw,
    /// Grant consent to some purposes only (consent = "accept_some").
    AcceptSome,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::ObjectLi => "object_li",
            FlowKind::Withdraw => "withdraw",
            FlowKind::AcceptSome => "accept_some",
        }
    }

    /// What the flow does, in words: "object to legitimate interest".
    pub fn verb(self) -> &'static str {
        match self {
            FlowKind::ObjectLi => "object to legitimate interest",
            FlowKind::Withdraw => "withdraw a consent",
            FlowKind::AcceptSome => "grant consent to some purposes only",
        }
    }

    /// The consent action the flow's marked step performs.
    pub fn consent(self) -> crate::model::ConsentAction {
        match self {
            FlowKind::ObjectLi => crate::model::ConsentAction::ObjectLi,
            FlowKind::Withdraw => crate::model::ConsentAction::RejectAll,
            FlowKind::AcceptSome => crate::model::ConsentAction::AcceptSome,
        }
    }
}

impl CmpProfile {
    pub fn flow(&self, kind: FlowKind) -> &Flow {
        match kind {
            FlowKind::ObjectLi => &self.object_li,
            FlowKind::Withdraw => &self.withdraw,
            FlowKind::AcceptSome => &self.accept_some,
        }
    }

    /// The steps of flow `kind`, or why this profile has none: a sentence naming the
    /// profile and its file (the one message of the loader and the engine).
    pub fn flow_steps(&self, kind: FlowKind) -> Result<&[Step], String> {
        match self.flow(kind) {
            Flow::Steps(steps) => Ok(steps),
            Flow::Unsupported(why) => Err(format!(
                "the CMP profile `{}` ({}) cannot {}: {why}",
                self.name,
                self.source,
                kind.verb()
            )),
            Flow::Absent => Err(format!(
                "the CMP profile `{}` ({}) has no [{}] flow: it does not say how to {}",
                self.name,
                self.source,
                kind.as_str(),
                kind.verb()
            )),
        }
    }

    /// Does autoconsent's name for the detected CMP belong to this profile?
    pub fn matches_autoconsent(&self, name: &str) -> bool {
        self.detect
            .autoconsent
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// The placeholder an `[accept_some]` flow's scripts use for the step's grant, replaced by
/// its JSON (`{"purposes": [...], "tcf_purposes": [...], "services": [...]}`).
pub const GRANT_PLACEHOLDER: &str = "{{grant}}";

/// The steps of a flow made ready for a step that grants `grant` (an `accept_some` flow):
/// `{{grant}}` in its scripts replaced by the grant's JSON, and the grant carried by the
/// step the flow marks with its consent action.
pub fn with_grant(steps: &[Step], grant: &super::StepGrant) -> Vec<Step> {
    let json = serde_json::to_string(&grant.grant).unwrap_or_else(|_| "null".to_string());
    steps
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let super::Action::Script(js) = &s.action {
                s.action = super::Action::Script(js.replace(GRANT_PLACEHOLDER, &json));
            }
            if s.consent.is_some() {
                s.grant = Some(grant.clone());
            }
            s
        })
        .collect()
}

/// A step that runs a profile's flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileStep {
    pub flow: FlowKind,
    /// The named profile (one, used without detection), or every known profile, the
    /// first whose CMP is detected on the page being used.
    pub candidates: Vec<CmpProfile>,
    /// The profile was named in the scenario file: no detection.
    pub named: bool,
    /// Also ask autoconsent which CMP it detected (`[cmp] auto = true`).
    pub detect_with_autoconsent: bool,
}

impl ProfileStep {
    pub fn describe(&self) -> String {
        match (self.named, self.candidates.first()) {
            (true, Some(p)) => format!("CMP profile {} {}", p.name, self.flow.as_str()),
            _ => format!("{} through the detected CMP's profile", self.flow.as_str()),
        }
    }
}
