//! The purposes a draft may suggest, and why: the vocabulary from the knowledge bases'
//! categories to a declared purpose and its basis (docs/scenarios.md#drafting-a-map-from-a-visit).

use crate::policy::{LegalBasis, Purpose};

/// A purpose the drafter may suggest, from a known category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suggestion {
    Necessary,
    Functional,
    Analytics,
    Advertising,
    SocialMedia,
    EmbeddedMedia,
    Support,
    Personalisation,
    Unclassified,
}

impl Suggestion {
    /// The purpose a known category suggests (third-party-web's and the Open Cookie
    /// Database's spellings, case-insensitive). `other` and anything unlisted is
    /// `unclassified` (consent: the protective guess).
    pub fn of_category(category: &str) -> Suggestion {
        match category.trim().to_ascii_lowercase().as_str() {
            "ad" | "advertising" | "marketing" => Suggestion::Advertising,
            "analytics" => Suggestion::Analytics,
            "social" => Suggestion::SocialMedia,
            "video" => Suggestion::EmbeddedMedia,
            "customer-success" => Suggestion::Support,
            "personalization" | "personalisation" => Suggestion::Personalisation,
            "necessary" | "security" | "consent-provider" => Suggestion::Necessary,
            "cdn" | "hosting" | "utility" | "content" | "tag-manager" | "functional" => {
                Suggestion::Functional
            }
            _ => Suggestion::Unclassified,
        }
    }

    /// Strictly necessary (consent-exempt) suggestions.
    pub fn exempt(self) -> bool {
        matches!(self, Suggestion::Necessary | Suggestion::Functional)
    }

    /// The purpose as the draft declares it.
    pub fn purpose(self) -> Purpose {
        let (id, name, basis) = match self {
            Suggestion::Necessary => (
                "necessary",
                "Strictly necessary (the site itself, security, the consent record)",
                LegalBasis::LegitimateInterest,
            ),
            Suggestion::Functional => (
                "functional",
                "Delivering the site (content delivery, hosting, tag management, utilities)",
                LegalBasis::LegitimateInterest,
            ),
            Suggestion::Analytics => ("analytics", "Audience analytics", LegalBasis::Consent),
            Suggestion::Advertising => (
                "advertising",
                "Advertising and marketing",
                LegalBasis::Consent,
            ),
            Suggestion::SocialMedia => (
                "social_media",
                "Social media plugins and embeds",
                LegalBasis::Consent,
            ),
            Suggestion::EmbeddedMedia => (
                "embedded_media",
                "Embedded video and media",
                LegalBasis::Consent,
            ),
            Suggestion::Support => (
                "customer_support",
                "Chat and customer support widgets",
                LegalBasis::Consent,
            ),
            Suggestion::Personalisation => (
                "personalisation",
                "Personalised content",
                LegalBasis::Consent,
            ),
            Suggestion::Unclassified => (
                "unclassified",
                "Unclassified third parties (what they do is not known)",
                LegalBasis::Consent,
            ),
        };
        Purpose {
            id: id.to_string(),
            name: name.to_string(),
            basis,
            strictly_necessary: self.exempt(),
            tcf_purpose: None,
            // Advertising is a sale or sharing Global Privacy Control opts out of.
            gpc_opt_out: self == Suggestion::Advertising,
            draft: true,
        }
    }

    /// Why the purpose has its basis, for its comment.
    pub(super) fn why(self) -> &'static str {
        match self {
            Suggestion::Necessary => "the site's own hosts and cookies, consent providers and security services: strictly necessary, so they may run in every scenario. Confirm each vendor below really is; give the basis the site relies on (legal_obligation, contract, legitimate_interest).",
            Suggestion::Functional => "known as a CDN, hosting, a tag manager or a utility: suggested as strictly necessary, so it may run before any choice. Confirm it is needed to deliver what the visitor asked for; if not, move its vendors to a consent purpose.",
            Suggestion::Analytics => "known as analytics: consent (ePrivacy: storing or reading on the device for measurement needs consent). If the site relies on an exemption (a consent-exempt configuration), say so and change the basis.",
            Suggestion::Advertising => "known as advertising or marketing: consent; Global Privacy Control opts the visitor out of it. If the site runs an IAB TCF CMP, add tcf_purpose (e.g. 4).",
            Suggestion::SocialMedia => "known as social media: consent.",
            Suggestion::EmbeddedMedia => "known as embedded video: consent.",
            Suggestion::Support => "known as a chat or customer-success service: consent, unless the visitor opens it.",
            Suggestion::Personalisation => "known as personalisation: consent.",
            Suggestion::Unclassified => "what these vendors do is not known (no knowledge base names them, or only as `other`): consent, the protective guess. Ask the site owner, then give each vendor its real purposes.",
        }
    }
}
