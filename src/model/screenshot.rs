//! A banner screenshot taken around a consent action: when, of which page, where its
//! file is. Taking and saving them live in `crate::engine` and `crate::screenshots`.

use super::consent::ConsentAction;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When a screenshot was taken, relative to its consent action.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ShotWhen {
    /// After the settle that precedes the action, just before it is performed.
    Before,
    /// After the action, the CMP record read-back and a settle (the banner has closed).
    After,
}

impl ShotWhen {
    /// The stable name (`before`, `after`), as stored.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One viewport screenshot around a consent action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screenshot {
    /// Index of the scenario step performing the action (0-based, as
    /// [`crate::model::StepOutcome::index`]).
    pub step: usize,
    pub action: ConsentAction,
    pub when: ShotWhen,
    pub time: DateTime<Utc>,
    /// The top-level page shown.
    pub page: String,
    /// Pixel size, from the PNG's IHDR.
    pub width: u32,
    pub height: u32,
    /// Size of the PNG file.
    pub bytes: u64,
    /// How long the browser took to capture it (the screenshot command alone; the waits
    /// before it are in [`crate::model::VisitTimings::screenshot_ms`]).
    #[serde(default)]
    pub capture_ms: u64,
    /// An "after" picture of an action that failed (the step's error says why): it
    /// shows what was on screen instead of the result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub action_failed: bool,
    /// Where the PNG was written (absolute, as stored); `None` until the pipeline saves it.
    /// Reporters writing to a file show it relative to that file (`crate::screenshots::relative_to`).
    pub path: Option<String>,
    /// The PNG itself, between the engine and `crate::screenshots::save_visit`; never serialised or stored
    /// (the file is the evidence).
    #[serde(skip)]
    pub png: Vec<u8>,
}

impl Screenshot {
    /// `step 3 accept_all before`, `step 3 accept_all after (the action failed)`.
    pub fn label(&self) -> String {
        format!(
            "step {} {} {}{}",
            self.step + 1,
            self.action.as_str(),
            self.when.as_str(),
            if self.action_failed {
                " (the action failed)"
            } else {
                ""
            }
        )
    }
}
