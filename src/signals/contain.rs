//! Containing a decoder's panic: page-supplied data (a TC string, a Consent Mode
//! parameter, a `gpc.json` body, a CMP's record) must never bring the audit down.
//!
//! Every decoder validates and bounds its input before it calls a library (each names
//! its limit beside its code). What a library may still do wrong is contained here:
//! [`contained`] runs the decoding under `std::panic::catch_unwind`, and a panic becomes
//! an `Err` with the panic's message, which the caller records as the signal's
//! "undecodable" reason (the signal is kept, never dropped).
//!
//! Quiet: Rust's default panic hook prints `thread '…' panicked at …` on stderr even when
//! the panic is caught. A process-wide hook, installed once on the first contained call,
//! says nothing while the current thread is inside [`contained`] (a thread-local depth)
//! and otherwise hands the panic to the hook that was there before it, so every other
//! panic prints exactly as it did.
//!
//! Limits: `catch_unwind` catches unwinding panics only (the crate is built with
//! `panic = "unwind"`, Cargo's default); an abort, a stack overflow or an allocation
//! failure is not a panic and is prevented by the input limits, not here.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How many [`contained`] calls the current thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Panics of this thread the quiet hook handed on (what the tests check).
    #[cfg(test)]
    static HANDED_ON: Cell<u32> = const { Cell::new(0) };
}

static QUIET_HOOK: Once = Once::new();

fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) == 0 {
                #[cfg(test)]
                HANDED_ON.with(|n| n.set(n.get() + 1));
                previous(info);
            }
        }));
    });
}

/// Runs `decode`; a panic inside it becomes `Err("<what> panicked: <message>")`, and
/// nothing is printed. `what` names the decoder for the evidence (`lib_tcstring 0.5.0`).
pub fn contained<T>(what: &str, decode: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    DEPTH.with(|d| d.set(d.get().saturating_add(1)));
    // AssertUnwindSafe: the decoders read borrowed input and build owned values; a panic
    // leaves nothing half-updated that the caller goes on to use.
    let result = panic::catch_unwind(AssertUnwindSafe(decode));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    result.map_err(|payload| format!("{what} panicked: {}", message(payload.as_ref())))
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text panic payload".to_string()
    }
}

/// `too long (12345 bytes, the limit is 8192)`: the reason a decoder gives for input over
/// its limit.
pub fn too_long(len: usize, limit: usize) -> String {
    format!("too long ({len} bytes, the limit is {limit})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let r: Result<u8, String> = contained("test decoder", || {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 2;
            v[i]
        });
        let e = r.unwrap_err();
        assert!(
            e.starts_with("test decoder panicked: index out of bounds"),
            "{e}"
        );
        assert_eq!(contained("x", || 7), Ok(7));
        let e = contained("y", || -> u8 { panic!("formatted {}", 42) }).unwrap_err();
        assert_eq!(e, "y panicked: formatted 42");
        // Nested and repeated calls leave the depth where it was.
        let _ = contained("outer", || contained("inner", || panic!("deep")));
        assert_eq!(DEPTH.with(Cell::get), 0);
    }

    #[test]
    fn contained_panics_are_quiet_and_others_reach_the_previous_hook() {
        let handed_on = || HANDED_ON.with(Cell::get);
        let before = handed_on();
        for _ in 0..3 {
            let _ = contained("quiet", || -> u8 { panic!("not printed") });
        }
        assert_eq!(handed_on(), before, "a contained panic reached the hook");
        // Outside `contained` (the hook is installed by now): printed as before.
        let _ = panic::catch_unwind(|| -> u8 { panic!("printed (expected in this test)") });
        assert_eq!(handed_on(), before + 1);
    }
}
