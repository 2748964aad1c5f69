//! clap's view of the library's value enums. The library knows nothing of clap, so the
//! values a flag accepts, with their `--help` text, are listed here once per enum and mapped
//! onto the library's type; the flags keep the library's type (`--format` is a
//! [`Format`]).

use clap::builder::{EnumValueParser, TypedValueParser};
use clap::ValueEnum;
use consentry::report::Format;

/// The values of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatValue {
    /// Terminal tables.
    Table,
    /// Machine-readable JSON (schema_version 1, documented in docs/findings.md).
    Json,
    /// Markdown, for tickets and pull requests.
    #[value(alias = "md")]
    Markdown,
    /// One HTML page (inline CSS, no JavaScript, nothing fetched but the run's screenshot
    /// files), printable.
    Html,
    /// SARIF 2.1.0 for code scanning (audit of one site and report only).
    Sarif,
    /// JUnit XML for CI test views (audit of one site and report only).
    Junit,
    /// PDF: the HTML report printed by Chromium on A4, each vendor section kept on one
    /// page where it fits (to a file with --output / --output-dir, or to a pipe).
    Pdf,
}

impl From<FormatValue> for Format {
    fn from(v: FormatValue) -> Self {
        match v {
            FormatValue::Table => Format::Table,
            FormatValue::Json => Format::Json,
            FormatValue::Markdown => Format::Markdown,
            FormatValue::Html => Format::Html,
            FormatValue::Sarif => Format::Sarif,
            FormatValue::Junit => Format::Junit,
            FormatValue::Pdf => Format::Pdf,
        }
    }
}

/// `value_parser` of a `--format` flag.
pub fn format() -> impl TypedValueParser<Value = Format> {
    EnumValueParser::<FormatValue>::new().map(Format::from)
}

/// The values of `demo-site --variant`.
#[cfg(feature = "demo")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VariantValue {
    /// The shop as documented, with every planted violation.
    Default,
    /// The shop after a release: the CMP no longer starts Hotjar on reject (it loads it with
    /// consent), and a new, undeclared Microsoft Ads tag (bat.bing.com) fires before the choice.
    Next,
}

#[cfg(feature = "demo")]
impl From<VariantValue> for consentry::demo::Variant {
    fn from(v: VariantValue) -> Self {
        use consentry::demo::Variant;
        match v {
            VariantValue::Default => Variant::Default,
            VariantValue::Next => Variant::Next,
        }
    }
}

/// `value_parser` of `demo-site --variant`.
#[cfg(feature = "demo")]
pub fn variant() -> impl TypedValueParser<Value = consentry::demo::Variant> {
    EnumValueParser::<VariantValue>::new().map(consentry::demo::Variant::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value clap offers parses to the library value of the same name, and every
    /// library value is offered.
    #[test]
    fn formats_are_the_library_formats() {
        let mut seen = Vec::new();
        for v in FormatValue::value_variants() {
            let name = v
                .to_possible_value()
                .expect("a value")
                .get_name()
                .to_string();
            let f = Format::from(*v);
            assert_eq!(f.as_str(), name);
            assert_eq!(name.parse::<Format>(), Ok(f));
            seen.push(f);
        }
        assert_eq!(
            seen,
            [
                Format::Table,
                Format::Json,
                Format::Markdown,
                Format::Html,
                Format::Sarif,
                Format::Junit,
                Format::Pdf
            ]
        );
        assert_eq!(
            FormatValue::from_str("md", false).map(Format::from),
            Ok(Format::Markdown)
        );
    }

    #[cfg(feature = "demo")]
    #[test]
    fn variants_are_the_library_variants() {
        use consentry::demo::Variant;
        let names: Vec<(String, Variant)> = VariantValue::value_variants()
            .iter()
            .map(|v| {
                let name = v
                    .to_possible_value()
                    .expect("a value")
                    .get_name()
                    .to_string();
                (name, Variant::from(*v))
            })
            .collect();
        for (name, v) in &names {
            assert_eq!(v.as_str(), name);
        }
        assert_eq!(names.len(), 2);
        assert_eq!(names[0].1, Variant::Default);
        assert_eq!(names[1].1, Variant::Next);
    }
}
