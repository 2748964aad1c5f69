//! The end of a visit: what the driving loop recorded ([`VisitRecord`]), plus what
//! capture saw and the cookie jar, become the [`VisitObservation`]; each record gets its
//! phase here, once, from the visit's timeline of consent transitions.

use super::gpc::gpc_sent_signal;
use super::record::VisitRecord;
use crate::capture::Captured;
use crate::model::{ConsentState, StoredCookie, VisitObservation, VisitStatus};
use crate::scenario::{AuditSpec, Scenario};
use chrono::Utc;

impl VisitRecord {
    /// What this visit observed; complete unless a failure was recorded. `final_state`:
    /// the consent state in force when the visit ended.
    pub(super) fn into_observation(
        mut self,
        spec: &AuditSpec,
        scenario: &Scenario,
        final_state: ConsentState,
        started_at: chrono::DateTime<Utc>,
        mut captured: Captured,
        mut cookies: Vec<StoredCookie>,
    ) -> VisitObservation {
        // Every record's phase, from the timeline of consent transitions (the CMP's record,
        // read after each action, decided the state that action began): assigned here,
        // once, by the record's time. Capture does not stamp phases.
        for r in &mut captured.requests {
            r.state = self.state_at(r.time, &final_state);
        }
        for w in &mut captured.cookie_writes {
            w.state = self.state_at(w.time, &final_state);
        }
        for w in &mut captured.storage_writes {
            w.state = self.state_at(w.time, &final_state);
        }
        for c in &mut cookies {
            c.state = self.state_at(c.observed_at, &final_state);
        }
        let mut page_signals = std::mem::take(&mut self.signals);
        for sig in &mut page_signals {
            sig.state = self.state_at(sig.time, &final_state);
        }
        // The signals request URLs carried, decoded by capture from each whole URL.
        let mut request_signals = std::mem::take(&mut captured.signals);
        for sig in &mut request_signals {
            sig.state = self.state_at(sig.time, &final_state);
        }
        let mut warnings = self.warnings;
        // Page errors are evidence (a CMP script that throws may gate nothing): shown as
        // warnings, the first few in full, and stored in full (bounded by capture).
        const SHOWN_PAGE_ERRORS: usize = 5;
        for e in captured.page_errors.iter().take(SHOWN_PAGE_ERRORS) {
            let from = e
                .source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            warnings.push(format!(
                "uncaught page error on {}: {}{from}",
                e.page,
                crate::text::clip_for_evidence(&e.message)
            ));
        }
        let more = captured
            .page_errors
            .len()
            .saturating_sub(SHOWN_PAGE_ERRORS)
            .saturating_add(captured.page_errors_dropped);
        if more > 0 {
            warnings.push(format!("{more} more uncaught page error(s) not shown"));
        }
        if captured.hook.forged > 0 {
            warnings.push(format!(
                "the page called consentry's capture binding {} time(s) without the capture's secret (forged reports): ignored, nothing of them recorded",
                captured.hook.forged
            ));
        }
        if captured.hook.autoconsent_forged > 0 {
            warnings.push(format!(
                "autoconsent's binding was called {} time(s) from outside its isolated world (forged messages): ignored",
                captured.hook.autoconsent_forged
            ));
        }
        if captured.hook.dropped > 0 {
            warnings.push(format!(
                "{} cookie write report(s) beyond {n} per document, or storage write(s) beyond {n} per target and origin, were counted, not recorded",
                captured.hook.dropped,
                n = crate::capture::MAX_HOOK_REPORTS_PER_DOCUMENT
            ));
        }
        warnings.extend(captured.dialogs.warning());
        let mut signals = page_signals;
        if scenario.gpc {
            let first = spec.site.pages.first().unwrap_or(&spec.site.base_url);
            let g = &captured.gpc;
            if g.requests > 0 && g.with_header < g.requests {
                warnings.push(format!(
                    "Global Privacy Control was on but only {} of {} requests carried Sec-GPC: 1 (e.g. {}); this Chromium may lack the GlobalPrivacyControl feature",
                    g.with_header,
                    g.requests,
                    g.without_header.first().map(String::as_str).unwrap_or("-")
                ));
            }
            signals.push(gpc_sent_signal(&captured.gpc, started_at, first.as_str()));
        }
        signals.extend(request_signals);
        signals.sort_by_key(|s| s.time);
        VisitObservation {
            scenario: scenario.id.clone(),
            started_at,
            finished_at: Utc::now(),
            status: match self.failure {
                Some(reason) => VisitStatus::Incomplete(reason),
                None => VisitStatus::Complete,
            },
            steps: self.steps,
            requests: captured.requests,
            cookie_writes: captured.cookie_writes,
            cookies,
            storage_writes: captured.storage_writes,
            page_errors: captured.page_errors,
            signals,
            cmp: self.cmp,
            screenshots: self.screenshots,
            final_state,
            warnings,
            timings: self.timings,
            login: self.login,
        }
    }
}
