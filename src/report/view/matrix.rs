//! The picture: a vendor × scenario matrix of what each declared vendor did in each
//! consent state, derived once from the run report's data (the visits' active vendors,
//! the findings about a vendor). Pure; the formats only colour and lay it out. Every
//! mark has a letter, so the matrix survives printing in black and white.

use crate::analysis::Code;
use crate::outcome::AuditReport;

/// What a vendor did in one scenario. Ordered from harmless to worst; a cell holds the
/// marks that apply, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// The scenario was not observed: unknown, never "silent".
    NotObserved,
    /// No request, cookie or storage write of the vendor.
    Silent,
    /// The vendor was active, and no finding says it should not have been.
    Fired,
    /// One of its cookies outlived the declared retention (`cookie-retention-exceeded`).
    OverRetention,
    /// It fired after a reject, an objection to legitimate interest or a GPC opt-out
    /// (`consent-vendor-after-reject`, `li-vendor-after-objection`, `vendor-ignores-gpc`).
    AfterRefusal,
    /// It fired before any choice was made (`consent-vendor-before-choice`).
    BeforeChoice,
}

impl Mark {
    /// Every mark, in the legend's order.
    pub const ALL: [Mark; 6] = [
        Mark::BeforeChoice,
        Mark::AfterRefusal,
        Mark::OverRetention,
        Mark::Fired,
        Mark::Silent,
        Mark::NotObserved,
    ];

    /// The text mark (one character, printable in black and white).
    pub fn letter(self) -> &'static str {
        match self {
            Mark::NotObserved => "?",
            Mark::Silent => "-",
            Mark::Fired => "o",
            Mark::OverRetention => "T",
            Mark::AfterRefusal => "R",
            Mark::BeforeChoice => "B",
        }
    }

    /// The legend's words.
    pub fn label(self) -> &'static str {
        match self {
            Mark::NotObserved => "scenario not observed",
            Mark::Silent => "silent",
            Mark::Fired => "fired",
            Mark::OverRetention => "cookie over retention",
            Mark::AfterRefusal => "fired after reject or objection",
            Mark::BeforeChoice => "fired before choice",
        }
    }

    /// A stable kebab-case name (the HTML's class suffix).
    pub fn name(self) -> &'static str {
        match self {
            Mark::NotObserved => "not-observed",
            Mark::Silent => "silent",
            Mark::Fired => "fired",
            Mark::OverRetention => "over-retention",
            Mark::AfterRefusal => "after-refusal",
            Mark::BeforeChoice => "before-choice",
        }
    }

    /// The mark a finding code puts on its vendor's cell, if any.
    fn of_code(code: Code) -> Option<Mark> {
        match code {
            Code::ConsentVendorBeforeChoice => Some(Mark::BeforeChoice),
            Code::ConsentVendorAfterReject
            | Code::LiVendorAfterObjection
            | Code::VendorIgnoresGpc => Some(Mark::AfterRefusal),
            Code::CookieRetentionExceeded => Some(Mark::OverRetention),
            _ => None,
        }
    }
}

/// One vendor in one scenario: its marks, worst first, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCell {
    pub marks: Vec<Mark>,
}

impl MatrixCell {
    /// The worst mark (the cell's colour).
    pub fn worst(&self) -> Mark {
        self.marks.first().copied().unwrap_or(Mark::Silent)
    }

    /// `B+T`, `o`, `-`.
    pub fn letters(&self) -> String {
        self.marks
            .iter()
            .map(|m| m.letter())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// `fired before choice, cookie over retention`.
    pub fn words(&self) -> String {
        self.marks
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One vendor's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    pub vendor: String,
    /// One cell per scenario, in [`Matrix::scenarios`] order.
    pub cells: Vec<MatrixCell>,
}

/// One column of the matrix: a scenario, observed or not, and its active vendors.
struct Column<'a> {
    scenario: &'a str,
    observed: bool,
    vendors: &'a [String],
}

/// Vendors × scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matrix {
    /// The run's scenarios, in run order.
    pub scenarios: Vec<String>,
    /// Vendors with the worst cell first, then by id.
    pub rows: Vec<MatrixRow>,
}

impl Matrix {
    /// The matrix of a run: a row per declared vendor that was active in some visit or
    /// is named by a finding, a column per scenario.
    pub fn of(r: &AuditReport) -> Matrix {
        let columns: Vec<Column> = r
            .visits
            .iter()
            .map(|v| Column {
                scenario: &v.scenario,
                observed: v.not_observed().is_none(),
                vendors: &v.vendors,
            })
            .collect();
        let findings: Vec<(&str, Option<&str>, Code)> = r
            .findings
            .iter()
            .filter_map(|f| Some((f.vendor.as_deref()?, f.scenario.as_deref(), f.code)))
            .collect();
        Matrix::build(&columns, &findings)
    }

    /// The same matrix for one run of a drift pack (its first or last run), with a row
    /// for each of `also` too (silent where it did nothing), so two runs side by side
    /// have the same rows.
    pub fn of_activity(a: &crate::drift::RunActivity, also: &[String]) -> Matrix {
        let columns: Vec<Column> = a
            .scenarios
            .iter()
            .map(|s| Column {
                scenario: &s.scenario,
                observed: s.observed,
                vendors: &s.vendors,
            })
            .collect();
        let findings: Vec<(&str, Option<&str>, Code)> = a
            .findings
            .iter()
            .map(|(v, s, c)| (v.as_str(), s.as_deref(), *c))
            .collect();
        let mut m = Matrix::build(&columns, &findings);
        for v in also {
            if !m.rows.iter().any(|r| &r.vendor == v) {
                m.rows.push(MatrixRow {
                    vendor: v.clone(),
                    cells: columns
                        .iter()
                        .map(|c| MatrixCell {
                            marks: vec![if c.observed {
                                Mark::Silent
                            } else {
                                Mark::NotObserved
                            }],
                        })
                        .collect(),
                });
            }
        }
        m
    }

    /// The rows in `order` (vendors not in it keep their place after those that are).
    pub fn reorder(&mut self, order: &[String]) {
        let at = |v: &str| order.iter().position(|o| o == v).unwrap_or(usize::MAX);
        self.rows.sort_by_key(|r| at(&r.vendor));
    }

    /// `findings`: `(vendor, scenario, code)` of every finding naming a vendor.
    fn build(columns: &[Column], findings: &[(&str, Option<&str>, Code)]) -> Matrix {
        let scenarios: Vec<String> = columns.iter().map(|c| c.scenario.to_string()).collect();
        let mut vendors: Vec<String> = Vec::new();
        let mut add = |v: &str| {
            if !vendors.iter().any(|x| x == v) {
                vendors.push(v.to_string());
            }
        };
        for c in columns {
            c.vendors.iter().for_each(|id| add(id));
        }
        for (v, _, code) in findings {
            if Mark::of_code(*code).is_some() || *code == Code::DeclaredVendorUnobserved {
                add(v);
            }
        }
        let mut rows: Vec<MatrixRow> = vendors
            .into_iter()
            .map(|vendor| {
                let cells = columns
                    .iter()
                    .map(|column| {
                        if !column.observed {
                            return MatrixCell {
                                marks: vec![Mark::NotObserved],
                            };
                        }
                        let mut marks: Vec<Mark> = findings
                            .iter()
                            .filter(|(v, s, _)| {
                                *v == vendor.as_str() && *s == Some(column.scenario)
                            })
                            .filter_map(|(_, _, code)| Mark::of_code(*code))
                            .collect();
                        marks.sort_by(|a, b| b.cmp(a));
                        marks.dedup();
                        if marks.is_empty() {
                            marks.push(if column.vendors.contains(&vendor) {
                                Mark::Fired
                            } else {
                                Mark::Silent
                            });
                        }
                        MatrixCell { marks }
                    })
                    .collect();
                MatrixRow { vendor, cells }
            })
            .collect();
        let worst = |row: &MatrixRow| {
            row.cells
                .iter()
                .map(|c| c.worst())
                .filter(|m| *m != Mark::NotObserved)
                .max()
        };
        rows.sort_by(|a, b| {
            worst(b)
                .cmp(&worst(a))
                .then_with(|| a.vendor.cmp(&b.vendor))
        });
        Matrix { scenarios, rows }
    }

    /// The marks the matrix uses, in the legend's order (the legend shows only these).
    pub fn used_marks(&self) -> Vec<Mark> {
        Mark::ALL
            .into_iter()
            .filter(|m| {
                self.rows
                    .iter()
                    .any(|r| r.cells.iter().any(|c| c.marks.contains(m)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VisitStatus;
    use crate::report::tests::{finding, fixed_report, visit};

    fn run() -> AuditReport {
        let mut r = fixed_report();
        r.visits = ["no_action", "accept_all", "reject_all"]
            .into_iter()
            .map(|s| visit(s, VisitStatus::Complete))
            .collect();
        r.visits[0].vendors = vec!["meta".into()];
        r.visits[1].vendors = vec!["meta".into(), "ga".into()];
        r.visits[2].vendors = vec!["meta".into()];
        let mut before = finding(Code::ConsentVendorBeforeChoice, "no_action", "meta");
        before.vendor = Some("meta".into());
        let mut reject = finding(Code::ConsentVendorAfterReject, "reject_all", "meta");
        reject.vendor = Some("meta".into());
        let mut retention = finding(Code::CookieRetentionExceeded, "reject_all", "_fbp");
        retention.vendor = Some("meta".into());
        let mut unobserved = finding(Code::DeclaredVendorUnobserved, "x", "hotjar");
        unobserved.vendor = Some("hotjar".into());
        unobserved.scenario = None;
        let mut undeclared = finding(Code::UndeclaredCookie, "no_action", "ab");
        undeclared.vendor = None;
        r.findings = vec![before, reject, retention, unobserved, undeclared];
        r
    }

    #[test]
    fn each_vendor_in_each_scenario_gets_what_it_did() {
        let m = Matrix::of(&run());
        assert_eq!(m.scenarios, ["no_action", "accept_all", "reject_all"]);
        let vendors: Vec<&str> = m.rows.iter().map(|r| r.vendor.as_str()).collect();
        assert_eq!(vendors, ["meta", "ga", "hotjar"], "worst first, then by id");
        let meta: Vec<String> = m.rows[0].cells.iter().map(|c| c.letters()).collect();
        assert_eq!(meta, ["B", "o", "R+T"]);
        assert_eq!(
            m.rows[0].cells[2].words(),
            "fired after reject or objection, cookie over retention"
        );
        let ga: Vec<String> = m.rows[1].cells.iter().map(|c| c.letters()).collect();
        assert_eq!(ga, ["-", "o", "-"]);
        let hotjar: Vec<String> = m.rows[2].cells.iter().map(|c| c.letters()).collect();
        assert_eq!(hotjar, ["-", "-", "-"], "declared, never active");
        assert_eq!(
            m.used_marks(),
            [
                Mark::BeforeChoice,
                Mark::AfterRefusal,
                Mark::OverRetention,
                Mark::Fired,
                Mark::Silent
            ]
        );
    }

    #[test]
    fn a_scenario_not_observed_is_unknown_never_silent() {
        let mut r = run();
        r.visits[1] = visit(
            "accept_all",
            VisitStatus::Incomplete(crate::model::Failure::new(
                crate::model::FailureKind::ElementNotFound,
                "timeout",
            )),
        );
        let m = Matrix::of(&r);
        assert!(m
            .rows
            .iter()
            .all(|row| row.cells[1].marks == [Mark::NotObserved]));
        assert_eq!(m.rows[0].cells[1].letters(), "?");
    }

    #[test]
    fn a_run_without_vendors_has_an_empty_matrix() {
        let mut r = fixed_report();
        r.findings.clear();
        for v in &mut r.visits {
            v.vendors.clear();
        }
        assert!(Matrix::of(&r).rows.is_empty());
    }
}
