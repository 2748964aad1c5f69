//! JavaScript dialogs (`alert`, `confirm`, `prompt`, `beforeunload`): a dialog stops the
//! page's scripts until it is answered, and nobody answers in a headless audit, so the
//! page froze with what it would have done next never done (and never seen). Each is
//! answered at once (`Page.javascriptDialogOpening` -> `Page.handleJavaScriptDialog`),
//! counted, and reported as a visit warning ([`DialogTally::warning`]).
//!
//! The answer is the one a visitor who does nothing gives: dismissed (a `confirm` answers
//! `false`, a `prompt` `null`); a `beforeunload` dialog is accepted, so the page can be
//! left. A script that opens dialogs without end (`for (;;) alert()`) would keep the
//! page busy answering them: the page hook (`hook.js`) lets [`MAX_DIALOGS_PER_DOCUMENT`]
//! open in a document, then makes the dialog functions throw, which stops the script
//! (an uncaught page error, recorded; the page's later scripts and events still run).
//! (`Runtime.terminateExecution` was tried first: Chromium 156 does not stop a script
//! waiting on a dialog with it.)

use super::recorder::Command;
use serde_json::json;

/// Dialogs the page hook lets open in one document before the dialog functions throw
/// (`MAX_DIALOGS` in `hook.js`).
pub const MAX_DIALOGS_PER_DOCUMENT: u32 = 20;

/// How many dialogs of each kind the pages opened (all answered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogTally {
    pub alert: u32,
    pub confirm: u32,
    pub prompt: u32,
    pub beforeunload: u32,
}

impl DialogTally {
    pub fn total(&self) -> u32 {
        self.alert
            .saturating_add(self.confirm)
            .saturating_add(self.prompt)
            .saturating_add(self.beforeunload)
    }

    /// A dialog of `kind` opened in `session`: count it, and the commands that answer it.
    pub(super) fn opened(&mut self, session: Option<&str>, kind: &str) -> Vec<Command> {
        let slot = match kind {
            "confirm" => &mut self.confirm,
            "prompt" => &mut self.prompt,
            "beforeunload" => &mut self.beforeunload,
            _ => &mut self.alert,
        };
        *slot = slot.saturating_add(1);
        vec![Command::Fire {
            method: "Page.handleJavaScriptDialog",
            params: json!({ "accept": kind == "beforeunload" }),
            session: session.map(String::from),
        }]
    }

    /// The visit warning, when any dialog opened.
    pub fn warning(&self) -> Option<String> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let kinds: Vec<String> = [
            (self.alert, "alert"),
            (self.confirm, "confirm"),
            (self.prompt, "prompt"),
            (self.beforeunload, "beforeunload"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, k)| format!("{n} {k}"))
        .collect();
        Some(format!(
            "the page opened {total} JavaScript dialog(s) ({}), dismissed at once (a confirm answers false, a prompt null; beforeunload accepted; beyond {MAX_DIALOGS_PER_DOCUMENT} in a document the dialog functions throw)",
            kinds.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogs_are_answered_at_once_and_counted() {
        let mut t = DialogTally::default();
        assert_eq!(t.warning(), None);
        for (kind, accept) in [
            ("alert", false),
            ("confirm", false),
            ("prompt", false),
            ("beforeunload", true),
            ("alert", false),
        ] {
            let c = t.opened(Some("S"), kind);
            assert_eq!(
                c,
                [Command::Fire {
                    method: "Page.handleJavaScriptDialog",
                    params: json!({ "accept": accept }),
                    session: Some("S".into()),
                }],
                "{kind}"
            );
        }
        assert_eq!(t.total(), 5);
        let w = t.warning().unwrap();
        assert!(
            w.starts_with(
                "the page opened 5 JavaScript dialog(s) (2 alert, 1 confirm, 1 prompt, 1 beforeunload), dismissed at once"
            ),
            "{w}"
        );
    }
}
