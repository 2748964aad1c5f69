//! Exit codes (documented in docs/exit-codes.md). The verdict that picks one is computed
//! once, in [`crate::outcome::Verdict::of`]; this module only names them.
//!
//! | code | status         | meaning                                                        |
//! |------|----------------|----------------------------------------------------------------|
//! | 0    | `Ok`           | every scenario observed, no finding at or above `--fail-on`    |
//! | 1    | `Findings`     | every scenario observed, a finding at or above `--fail-on`     |
//! | 2    | `InvalidInput` | the scenario file, declared map or command line is invalid     |
//! | 3    | `Incomplete`   | a scenario was not observed, or the run did not complete       |
//! | 4    | `Error`        | consentry itself failed (browser not found, database, I/O, ...) |

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum ExitStatus {
    Ok = 0,
    Findings = 1,
    InvalidInput = 2,
    Incomplete = 3,
    Error = 4,
}

impl ExitStatus {
    pub const ALL: [ExitStatus; 5] = [
        ExitStatus::Ok,
        ExitStatus::Findings,
        ExitStatus::InvalidInput,
        ExitStatus::Incomplete,
        ExitStatus::Error,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Stable machine name (used in the JSON report's `summary.verdict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok",
            ExitStatus::Findings => "findings",
            ExitStatus::InvalidInput => "invalid-input",
            ExitStatus::Incomplete => "incomplete",
            ExitStatus::Error => "error",
        }
    }

    /// One-line human meaning.
    pub fn describe(self) -> &'static str {
        match self {
            ExitStatus::Ok => {
                "every scenario observed; no finding at or above the fail-on severity"
            }
            ExitStatus::Findings => "findings at or above the fail-on severity",
            ExitStatus::InvalidInput => "invalid scenario file, declared map or arguments",
            ExitStatus::Incomplete => {
                "the audit is incomplete: a scenario was not observed or the run did not finish"
            }
            ExitStatus::Error => "consentry failed",
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_fixed() {
        let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4]);
        assert_eq!(
            std::process::ExitCode::from(ExitStatus::Incomplete),
            std::process::ExitCode::from(3)
        );
        for s in ExitStatus::ALL {
            let json = serde_json::to_string(&s).expect("serialise");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
