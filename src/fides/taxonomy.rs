//! The parts of fideslang's default taxonomy the mapping uses: data uses for TCF purposes
//! (fideslang's own GVL mapping), a word mapping for purposes without a TCF number, and
//! the legal bases (docs/fideslang.md, "The mapping").

use crate::policy::{LegalBasis, Purpose};

/// fideslang's GVL data-use mapping (`src/fideslang/gvl/gvl_data_use_mapping.json`):
/// TCF purpose `n` (1-11) is `TCF_DATA_USES[n - 1]`, the first data use fideslang lists
/// for it.
pub const TCF_DATA_USES: [&str; 11] = [
    "functional.storage",
    "marketing.advertising.first_party.contextual",
    "marketing.advertising.profiling",
    "marketing.advertising.first_party.targeted",
    "personalize.content.profiling",
    "personalize.content.profiled",
    "analytics.reporting.ad_performance",
    "analytics.reporting.content_performance",
    "analytics.reporting.campaign_insights",
    "functional.service.improve",
    "personalize.content.limited",
];

/// The other data uses fideslang's GVL mapping gives a TCF purpose (read back on import).
const TCF_MORE_DATA_USES: [(&str, u8); 3] = [
    ("marketing.advertising.frequency_capping", 2),
    ("marketing.advertising.negative_targeting", 2),
    ("marketing.advertising.third_party.targeted", 4),
];

/// Words of a purpose's id or name (lower-cased, in this order) and the data use they
/// map to, for purposes with no TCF purpose.
pub const WORD_DATA_USES: [(&str, &str); 14] = [
    ("payment", "essential.service.payment_processing"),
    ("checkout", "essential.service.payment_processing"),
    ("fraud", "essential.fraud_detection"),
    ("security", "essential.service.security"),
    ("captcha", "essential.service.security"),
    ("auth", "essential.service.authentication"),
    ("login", "essential.service.authentication"),
    ("advertis", "marketing.advertising"),
    ("marketing", "marketing.advertising"),
    ("analytic", "analytics.reporting"),
    ("measure", "analytics.reporting"),
    ("statistic", "analytics.reporting"),
    ("personali", "personalize"),
    ("preference", "functional"),
];

/// The data use of a purpose none of the above names: `essential.service` for a
/// strictly necessary purpose, `functional` otherwise.
pub fn fallback_data_use(strictly_necessary: bool) -> &'static str {
    if strictly_necessary {
        "essential.service"
    } else {
        "functional"
    }
}

/// The fideslang data use of a purpose: its TCF purpose's, else the first word of
/// [`WORD_DATA_USES`] in its id or name, else [`fallback_data_use`].
pub fn data_use(p: &Purpose) -> &'static str {
    if let Some(u) = p
        .tcf_purpose
        .and_then(|n| TCF_DATA_USES.get(usize::from(n).checked_sub(1)?))
    {
        return u;
    }
    let words = format!("{} {}", p.id, p.name).to_lowercase();
    WORD_DATA_USES
        .iter()
        .find(|(w, _)| words.contains(w))
        .map(|(_, u)| *u)
        .unwrap_or_else(|| fallback_data_use(p.strictly_necessary))
}

/// The TCF purpose fideslang's GVL mapping gives a data use, if any.
pub fn tcf_purpose_of(data_use: &str) -> Option<u8> {
    TCF_DATA_USES
        .iter()
        .position(|u| *u == data_use)
        .and_then(|i| u8::try_from(i + 1).ok())
        .or_else(|| {
            TCF_MORE_DATA_USES
                .iter()
                .find(|(u, _)| *u == data_use)
                .map(|(_, n)| *n)
        })
}

/// The keys of fideslang's `System` (with `FidesModel`'s), `cookies` (deprecated) included.
pub const SYSTEM_KEYS: &[&str] = &[
    "fides_key",
    "organization_fides_key",
    "tags",
    "name",
    "description",
    "meta",
    "fidesctl_meta",
    "system_type",
    "egress",
    "ingress",
    "privacy_declarations",
    "administrating_department",
    "vendor_id",
    "previous_vendor_id",
    "vendor_deleted_date",
    "dataset_references",
    "processes_personal_data",
    "exempt_from_privacy_regulations",
    "reason_for_exemption",
    "uses_profiling",
    "legal_basis_for_profiling",
    "does_international_transfers",
    "legal_basis_for_transfers",
    "requires_data_protection_assessments",
    "dpa_location",
    "dpa_progress",
    "privacy_policy",
    "legal_name",
    "legal_address",
    "responsibility",
    "dpo",
    "joint_controller_info",
    "data_security_practices",
    "cookie_max_age_seconds",
    "uses_cookies",
    "cookie_refresh",
    "uses_non_cookie_access",
    "legitimate_interest_disclosure_url",
    "cookies",
];

/// The keys of fideslang's `PrivacyDeclaration`, `cookies` (deprecated) included.
pub const DECLARATION_KEYS: &[&str] = &[
    "name",
    "data_categories",
    "data_use",
    "data_subjects",
    "dataset_references",
    "egress",
    "ingress",
    "features",
    "flexible_legal_basis_for_processing",
    "legal_basis_for_processing",
    "impact_assessment_location",
    "retention_period",
    "processes_special_category_data",
    "special_category_legal_basis",
    "data_shared_with_third_parties",
    "third_parties",
    "shared_categories",
    "cookies",
];

/// fideslang's `LegalBasisForProcessingEnum` values consentry has a basis for.
pub const LEGAL_BASES: [(&str, LegalBasis); 4] = [
    ("Consent", LegalBasis::Consent),
    ("Contract", LegalBasis::Contract),
    ("Legal obligations", LegalBasis::LegalObligation),
    ("Legitimate interests", LegalBasis::LegitimateInterest),
];

/// fideslang's bases consentry has no counterpart for (GDPR art. 6(1)(d) and (e)).
pub const UNMAPPED_BASES: [&str; 2] = ["Vital interests", "Public interest"];

/// fideslang's name of a basis.
pub fn basis_name(b: LegalBasis) -> &'static str {
    LEGAL_BASES
        .iter()
        .find(|(_, l)| *l == b)
        .map(|(n, _)| *n)
        .unwrap_or("Consent")
}

/// The basis of a fideslang name (its exact spelling, as fideslang validates it).
pub fn basis_of(name: &str) -> Option<LegalBasis> {
    LEGAL_BASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

/// Is the data use one of fideslang's `essential` uses?
pub fn is_essential(data_use: &str) -> bool {
    data_use == "essential" || data_use.starts_with("essential.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purpose(id: &str, name: &str, tcf: Option<u8>, sn: bool) -> Purpose {
        Purpose {
            id: id.into(),
            name: name.into(),
            basis: LegalBasis::Consent,
            strictly_necessary: sn,
            tcf_purpose: tcf,
            gpc_opt_out: false,
            draft: false,
        }
    }

    #[test]
    fn tcf_first_then_words_then_fallback() {
        assert_eq!(
            data_use(&purpose("x", "x", Some(8), false)),
            "analytics.reporting.content_performance"
        );
        assert_eq!(
            data_use(&purpose("ads", "Personalised advertising", Some(4), false)),
            "marketing.advertising.first_party.targeted"
        );
        assert_eq!(
            data_use(&purpose("payment", "Payment processing", None, false)),
            "essential.service.payment_processing"
        );
        assert_eq!(
            data_use(&purpose("sec", "Security and fraud prevention", None, true)),
            "essential.fraud_detection"
        );
        assert_eq!(
            data_use(&purpose("necessary", "Strictly necessary", None, true)),
            "essential.service"
        );
        assert_eq!(
            data_use(&purpose("misc", "Other", None, false)),
            "functional"
        );
    }

    #[test]
    fn tcf_mapping_reads_back() {
        for n in 1..=11u8 {
            let p = purpose("x", "x", Some(n), false);
            assert_eq!(tcf_purpose_of(data_use(&p)), Some(n));
        }
        assert_eq!(
            tcf_purpose_of("marketing.advertising.third_party.targeted"),
            Some(4)
        );
        assert_eq!(tcf_purpose_of("analytics.reporting"), None);
    }

    #[test]
    fn bases_both_ways() {
        for (name, b) in LEGAL_BASES {
            assert_eq!(basis_of(basis_name(b)), Some(b));
            assert_eq!(basis_name(b), name);
        }
        assert_eq!(basis_of("Legal obligation"), None);
        assert_eq!(basis_of("consent"), None);
    }
}
