//! [`Ordered`]: the iterator behind both pools' `map`.

use std::collections::VecDeque;
use std::fmt;

use actor_core::{Pending, ReplyError};

/// Yields the results of tasks in the order of their inputs, keeping up to `window` of them
/// submitted ahead of the one being waited for.
///
/// The window keeps every worker busy while the caller consumes results, and bounds what is
/// held in memory, so the input may be as long as it likes (even endless). The first window
/// is submitted when the iterator is created, so work starts before the first `next`.
pub(crate) struct Ordered<I, S, R> {
    items: I,
    submit: S,
    in_flight: VecDeque<Pending<R>>,
    window: usize,
}

impl<I, S, R> Ordered<I, S, R>
where
    I: Iterator,
    S: FnMut(I::Item) -> Pending<R>,
{
    pub(crate) fn new(items: I, submit: S, window: usize) -> Self {
        let window = window.max(1);
        let mut ordered = Ordered {
            items,
            submit,
            in_flight: VecDeque::with_capacity(window),
            window,
        };
        ordered.fill();
        ordered
    }

    fn fill(&mut self) {
        while self.in_flight.len() < self.window {
            let Some(item) = self.items.next() else {
                return;
            };
            let pending = (self.submit)(item);
            self.in_flight.push_back(pending);
        }
    }
}

impl<I, S, R> Iterator for Ordered<I, S, R>
where
    I: Iterator,
    S: FnMut(I::Item) -> Pending<R>,
{
    type Item = Result<R, ReplyError>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.in_flight.pop_front()?;
        // Top the window up before waiting, so that the workers have the next tasks while
        // this one finishes.
        self.fill();
        Some(first.wait())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.items.size_hint();
        let queued = self.in_flight.len();
        (
            low.saturating_add(queued),
            high.and_then(|high| high.checked_add(queued)),
        )
    }
}

impl<I, S, R> fmt::Debug for Ordered<I, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ordered")
            .field("in_flight", &self.in_flight.len())
            .field("window", &self.window)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actor_core::Reply;

    #[test]
    fn submits_a_window_ahead_and_keeps_order() {
        let mut submitted = Vec::new();
        let ordered = Ordered::new(
            0..10,
            |i| {
                submitted.push(i);
                let (reply, pending) = Reply::pair();
                reply.send(i * 2);
                pending
            },
            3,
        );
        let results: Vec<_> = ordered.collect::<Result<_, _>>().unwrap();
        assert_eq!(results, (0..10).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(submitted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn first_window_is_submitted_at_creation() {
        let mut count = 0;
        let ordered = Ordered::new(
            0..100,
            |i| {
                count += 1;
                Pending::ready(Ok(i))
            },
            4,
        );
        drop(ordered);
        assert_eq!(count, 4);
    }

    #[test]
    fn size_hint_counts_in_flight_items() {
        let mut ordered = Ordered::new(0..5, |i| Pending::ready(Ok(i)), 2);
        assert_eq!(ordered.size_hint(), (5, Some(5)));
        ordered.next();
        assert_eq!(ordered.size_hint(), (4, Some(4)));
    }
}
