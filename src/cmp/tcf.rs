//! IAB TCF v2 CMPs (any CMP that implements `__tcfapi`): the record is the TC string
//! `getTCData` answers after the visitor's action, decoded by [`crate::signals::tcf`].
//!
//! - Consent: every purpose 1-11 consented is *granted*; no purpose, vendor or special
//!   feature consented is *refused*; anything else is *partial* (not decisive: the
//!   scenario's declared `records` decide the phase).
//! - Legitimate interest: no purpose and no vendor LI bit left is an objection; any LI bit
//!   left is none (what the CMP recorded, whatever the click meant: a CMP that keeps LI
//!   bits after "Object all" is judged by `tcf-li-after-objection`). That is the phase's
//!   summary; vendors are judged per purpose from the record's items (each carries its
//!   `tcf_purpose`), the visitor's objection winning over a kept bit
//!   ([`crate::model::purpose`]).
//! - An answer still in `cmpuishown` (the interim string shown with the banner) is no
//!   record of a choice.
//!
//! `cmp-choice-opposite` does not judge this reader's records: the `tcf` family judges
//! the CMP's strings bit by bit (`tcf-consent-after-reject`), with the decoded bits as
//! evidence.

use super::{CmpRecord, Reader, RecordBasis, RecordItem, RecordedConsent};
use crate::signals::tcf::{decode, ids};
use serde_json::Value;

pub struct Tcf;

const SCRIPT: &str = r#"
if (typeof window.__tcfapi !== 'function') return { present: false, record: null };
const d = await new Promise((res) => {
  const t = setTimeout(() => res(null), 800);
  try {
    window.__tcfapi('getTCData', 2, (data, ok) => {
      clearTimeout(t);
      res(ok && data ? { tcString: data.tcString || null, eventStatus: data.eventStatus || null } : null);
    });
  } catch (e) { clearTimeout(t); res(null); }
});
if (!d || !d.tcString || d.eventStatus === 'cmpuishown') return { present: true, record: null };
return { present: true, record: { source: '__tcfapi getTCData', tcString: d.tcString, eventStatus: d.eventStatus } };
"#;

/// The reader's name, as stored and as `cmp-choice-opposite` skips it.
pub const NAME: &str = "tcf";

impl Reader for Tcf {
    fn name(&self) -> &'static str {
        NAME
    }
    fn autoconsent_names(&self) -> &'static [&'static str] {
        &[]
    }
    fn script(&self) -> &'static str {
        SCRIPT
    }
    fn interpret(&self, record: &Value) -> Result<CmpRecord, String> {
        let s = record
            .get("tcString")
            .and_then(Value::as_str)
            .ok_or("no `tcString` in the record")?;
        let d = decode(s)?;
        let items: Vec<RecordItem> = (1..=11u16)
            .map(|p| RecordItem {
                name: format!("purpose {p}"),
                allowed: d.purpose_consents.contains(&p),
                basis: RecordBasis::Consent,
                tcf_purpose: u8::try_from(p).ok(),
            })
            .chain(d.purpose_legitimate_interests.iter().map(|p| RecordItem {
                name: format!("purpose {p} (LI)"),
                allowed: true,
                basis: RecordBasis::LegitimateInterest,
                tcf_purpose: u8::try_from(*p).ok(),
            }))
            .collect();
        let consent = if (1..=11u16).all(|p| d.purpose_consents.contains(&p)) {
            RecordedConsent::Granted
        } else if !d.grants_consent() {
            RecordedConsent::Refused
        } else {
            RecordedConsent::Partial
        };
        let status = record
            .get("eventStatus")
            .and_then(Value::as_str)
            .unwrap_or("?");
        Ok(CmpRecord {
            reader: NAME.to_string(),
            source: format!(
                "__tcfapi getTCData ({status}; CMP {} v{}; consent vendors {}; LI vendors {})",
                d.cmp_id,
                d.cmp_version,
                ids(&d.vendor_consents),
                ids(&d.vendor_legitimate_interests)
            ),
            consent,
            li_objected: Some(!d.asserts_li()),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConsentEffect;
    use serde_json::json;

    // @iabtcf/core 1.5.6 strings of the fixture CMP (fixtures/gen/tcf-golden.mjs).
    const ACCEPT: &str =
        "CQujIwAQujIwAEsAHBENDIFsAP_gAEPgAAYgAeABAEAQBAEAQAeAAAIAgAAA.YAAAAAAAAAAA";
    const REJECT: &str = "CQujIwAQujIwAEsAHBENDIFgAAAAAEPgAAYgAAAAeAAAIAgAAAAA.YAAAAAAAAAAA";
    const OBJECT: &str = "CQujIwAQujIwAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA";

    fn effects(s: &str) -> Vec<ConsentEffect> {
        Tcf.interpret(&json!({"tcString": s, "eventStatus": "useractioncomplete"}))
            .unwrap()
            .effects()
    }

    #[test]
    fn the_string_decides_the_effects() {
        assert_eq!(effects(ACCEPT), [ConsentEffect::GrantConsent]);
        assert_eq!(effects(REJECT), [ConsentEffect::RefuseConsent]);
        assert_eq!(
            effects(OBJECT),
            [ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi]
        );
        assert!(Tcf.interpret(&json!({"tcString": "nope"})).is_err());
        assert!(Tcf.interpret(&json!({})).is_err());
    }
}
