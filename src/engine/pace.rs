//! Politeness towards one site: the least time between two page loads of it, across
//! every visit of the site running at once (`[fleet] page_delay`, docs/fleet.md).

use std::time::Duration;
use tokio::time::Instant;

/// Spaces the page loads of one site: each load waits for its turn, at least `delay`
/// after the one before it. Shared by the site's visits.
#[derive(Debug)]
pub struct Pace {
    delay: Duration,
    /// When the next load may start.
    next: std::sync::Mutex<Option<Instant>>,
}

impl Pace {
    pub fn new(delay: Duration) -> Pace {
        Pace {
            delay,
            next: std::sync::Mutex::new(None),
        }
    }

    /// Wait for this load's turn, and book the next one `delay` after it.
    pub async fn turn(&self) {
        if self.delay.is_zero() {
            return;
        }
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.delay);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Pace;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn loads_of_one_site_are_spaced_by_the_delay_even_when_they_ask_at_once() {
        let pace = std::sync::Arc::new(Pace::new(Duration::from_millis(500)));
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let pace = pace.clone();
            tasks.push(tokio::spawn(async move {
                pace.turn().await;
                tokio::time::Instant::now() - start
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap_or_default());
        }
        at.sort();
        assert_eq!(
            at,
            [0, 500, 1000].map(Duration::from_millis).to_vec(),
            "three loads asked at once start 0, 0.5 and 1 s later"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_delay_never_waits_and_a_late_load_does_not_wait_for_an_old_turn() {
        let none = Pace::new(Duration::ZERO);
        let start = tokio::time::Instant::now();
        none.turn().await;
        none.turn().await;
        assert_eq!(tokio::time::Instant::now(), start);
        let pace = Pace::new(Duration::from_millis(300));
        pace.turn().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let t = tokio::time::Instant::now();
        pace.turn().await;
        assert_eq!(
            tokio::time::Instant::now(),
            t,
            "the delay since the last load has passed"
        );
    }
}
