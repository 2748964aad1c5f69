//! Per-purpose state: a vendor judged by its own purposes (src/model/purpose.rs).

use super::*;

/// The motivating case of per-purpose states: a TCF CMP whose "Object all" keeps purpose
/// 8's LI bit. Its record alone reads as "no objection" (the engine applies only a
/// refusal), yet the visitor objected: the vendor relying on purpose 8 is flagged, with
/// the purpose and the source that decided in its evidence.
#[test]
fn a_vendor_on_a_kept_li_purpose_is_flagged_after_object_all() {
    // @iabtcf/core's "Object all" keeping purpose 8 (golden vector object_li_planted).
    const KEPT_8: &str = "CQu26YAQu26YAEsAHBENDIFgAAAAAAEAAAYgAAAAAAAA.YAAAAAAAAAAA";
    let record = crate::cmp::Reader::interpret(
        &crate::cmp::tcf::Tcf,
        &serde_json::json!({"tcString": KEPT_8, "eventStatus": "useractioncomplete"}),
    )
    .expect("golden string");
    assert_eq!(record.effects(), [ConsentEffect::RefuseConsent]);
    let mut obs = scenario("object_li")
        .cmp_action(
            ConsentAction::ObjectLi,
            crate::cmp::Readback::Recorded { record },
        )
        .act_recording(ConsentAction::ObjectLi, &[ConsentEffect::RefuseConsent])
        .req("https://sb.scorecardresearch.com/p?c1=2")
        .req("https://m.mixed.test/px")
        .build();
    obs.cmp[0].effects_from = crate::cmp::EffectsFrom::CmpRecord;
    obs.cmp[0].applied = vec![ConsentEffect::RefuseConsent];
    let mut policy = policy();
    for p in &mut policy.purposes {
        if p.id == "measurement" {
            p.tcf_purpose = Some(8);
        }
    }
    let f = analyze(&site(), &policy, &[obs]);
    let li: Vec<&Finding> = f
        .iter()
        .filter(|f| f.code == Code::LiVendorAfterObjection)
        .collect();
    // scorecard relies only on purpose 8; "mixed" also on analytics (consent, refused):
    // the consent code has it.
    assert_eq!(
        li.iter().map(|f| f.subject.as_str()).collect::<Vec<_>>(),
        ["scorecard"],
        "{f:#?}"
    );
    let detail = li[0].evidence[0].detail.clone().unwrap_or_default();
    assert!(
        detail.ends_with("decided by purpose \"measurement\" (TCF purpose 8): legitimate interest objected, by the visitor's action (the visitor's action and the CMP's record disagree; the more protective decides)"),
        "{detail}"
    );
    assert!(f
        .iter()
        .any(|f| f.code == Code::ConsentVendorAfterReject && f.subject == "mixed"));
}
