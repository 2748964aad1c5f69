//! The scenarios table: one list of columns, each a header and a cell function, that
//! every format lays out.

use crate::outcome::VisitSummary;
use crate::report::human_ms;

/// How a scenario went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitState<'a> {
    /// Observed completely, with this many warnings.
    Observed { warnings: usize },
    /// Not observed: the reason.
    NotObserved(&'a str),
}

/// One cell of the scenarios table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    /// An identifier from the scenario file (shown as code where the format has it).
    Id(&'a str),
    State(VisitState<'a>),
    /// A number or duration; needs no escaping.
    Number(String),
}

/// A column of the scenarios table.
pub struct Column {
    /// Header in Markdown and HTML.
    pub title: &'static str,
    /// Header in the terminal table (lower case, short).
    pub short: &'static str,
    pub cell: for<'a> fn(&'a VisitSummary) -> Cell<'a>,
}

/// The scenarios table's columns, for every format.
pub const VISIT_COLUMNS: [Column; 7] = [
    Column {
        title: "Scenario",
        short: "scenario",
        cell: |v| Cell::Id(&v.scenario),
    },
    Column {
        title: "Status",
        short: "status",
        cell: |v| Cell::State(state(v)),
    },
    Column {
        title: "Requests",
        short: "requests",
        cell: |v| Cell::Number(v.requests.to_string()),
    },
    Column {
        title: "Third-party",
        short: "third-party",
        cell: |v| Cell::Number(v.third_party_requests.to_string()),
    },
    Column {
        title: "Cookies stored",
        short: "cookies",
        cell: |v| Cell::Number(v.cookies_stored.to_string()),
    },
    Column {
        title: "Cookie writes",
        short: "cookie writes",
        cell: |v| Cell::Number(v.cookie_writes.to_string()),
    },
    Column {
        title: "Duration",
        short: "duration",
        cell: |v| Cell::Number(human_ms(v.duration_ms)),
    },
];

fn state(v: &VisitSummary) -> VisitState<'_> {
    match v.not_observed() {
        Some(reason) => VisitState::NotObserved(reason),
        None => VisitState::Observed {
            warnings: v.warnings.len(),
        },
    }
}

/// One scenario's row.
pub struct VisitRow<'a> {
    /// Position in the run (for anchors).
    pub index: usize,
    pub scenario: &'a str,
    pub state: VisitState<'a>,
    /// The cells, one per column of [`VISIT_COLUMNS`].
    pub cells: Vec<Cell<'a>>,
    /// Screenshots with a file.
    pub screenshots: usize,
}

impl<'a> VisitRow<'a> {
    pub(super) fn of((index, v): (usize, &'a VisitSummary)) -> VisitRow<'a> {
        VisitRow {
            index,
            scenario: &v.scenario,
            state: state(v),
            cells: VISIT_COLUMNS.iter().map(|c| (c.cell)(v)).collect(),
            screenshots: v.screenshots.iter().filter(|s| s.path.is_some()).count(),
        }
    }
}
