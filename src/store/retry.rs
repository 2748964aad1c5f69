//! How long a write waits for a database another process holds (`SQLITE_BUSY` /
//! `SQLITE_LOCKED` past the connection's busy timeout) before it gives up.
//!
//! A visit cannot be observed again: once its browser is closed, its records exist only
//! in memory. So a write that finds the database locked (a `consentry purge`, a backup, a
//! second audit, a reader holding a long transaction) is tried again, whole, with a
//! growing pause, for minutes, not failed after one busy timeout.

use std::time::Duration;

/// The retry of a write transaction that found the database busy. Every write of a
/// [`crate::store::Store`] follows its policy ([`crate::store::Store::with_write_retry`]);
/// each attempt also waits the connection's busy timeout ([`crate::store::BUSY_TIMEOUT`])
/// inside SQLite first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRetry {
    /// No new attempt starts once this long has passed since the first one.
    pub patience: Duration,
    /// The pause after the first busy attempt; each next pause doubles ...
    pub first_pause: Duration,
    /// ... up to this.
    pub max_pause: Duration,
}

impl WriteRetry {
    /// Five minutes: pauses of 0.25 s, 0.5 s, 1 s, ... 10 s between attempts (each attempt
    /// itself waits up to the 5 s busy timeout).
    pub const DEFAULT: WriteRetry = WriteRetry {
        patience: Duration::from_secs(300),
        first_pause: Duration::from_millis(250),
        max_pause: Duration::from_secs(10),
    };

    /// One attempt only (a busy database fails the write after the busy timeout).
    pub const NEVER: WriteRetry = WriteRetry {
        patience: Duration::ZERO,
        first_pause: Duration::ZERO,
        max_pause: Duration::ZERO,
    };

    /// The pause before attempt `retry + 1` (`retry` = 0 after the first attempt), or
    /// `None` when `elapsed` since the first attempt has used up the patience.
    pub fn pause(&self, retry: u32, elapsed: Duration) -> Option<Duration> {
        if elapsed >= self.patience {
            return None;
        }
        let doubled = self
            .first_pause
            .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max_pause);
        Some(doubled.min(self.max_pause).min(self.patience - elapsed))
    }
}

impl Default for WriteRetry {
    fn default() -> Self {
        WriteRetry::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_and_stop_with_the_patience() {
        let r = WriteRetry::DEFAULT;
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(r.pause(0, s(0)), Some(ms(250)));
        assert_eq!(r.pause(1, s(1)), Some(ms(500)));
        assert_eq!(r.pause(5, s(10)), Some(s(8)));
        assert_eq!(r.pause(6, s(20)), Some(s(10)));
        assert_eq!(r.pause(u32::MAX, s(20)), Some(s(10)));
        assert_eq!(r.pause(3, s(299)), Some(s(1)));
        assert_eq!(r.pause(3, s(300)), None);
        assert_eq!(WriteRetry::NEVER.pause(0, Duration::ZERO), None);
        // The total wait is bounded: pauses alone never exceed the patience.
        let (mut t, mut n) = (Duration::ZERO, 0);
        while let Some(p) = r.pause(n, t) {
            t += p + crate::store::BUSY_TIMEOUT;
            n += 1;
        }
        assert!(
            n >= 15 && t < s(300) + crate::store::BUSY_TIMEOUT + s(10),
            "{n} {t:?}"
        );
    }
}
