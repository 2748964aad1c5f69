//! Writing to standard error without ever panicking. `eprintln!` panics when the write
//! fails (`consentry audit ... 2>/dev/full`: exit 101, and a run left `running`); a
//! diagnostic that cannot be shown must not stop the work it is about. These write what
//! they can and ignore the error: standard error is where a failure would be reported.
//! Every line the library and the binary write to standard error goes through here.

use std::io::Write as _;

/// Writes `args` and a newline to standard error; a write error is ignored.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.write_all(b"\n");
}

/// Writes `args` to standard error as it is (no newline added); a write error is ignored.
pub fn text(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}
