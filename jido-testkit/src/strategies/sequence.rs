//! [`sequence`]: `Vec`s that shrink to a shortest counterexample.

use std::ops::RangeInclusive;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// A `Vec` of values of `element`, with a length in `len`, that shrinks
/// better than `proptest::collection::vec`.
///
/// `vec` shrinks in one pass: it deletes what elements it can, then shrinks
/// the rest, and never deletes again, although shrinking an element often
/// makes a later one useless (a start that failed at step 5 fails at step 3
/// once its project was shrunk to an earlier one's). A [`Sequence`] repeats
/// both passes until a round changes nothing, so a failing operation
/// sequence ends up as short as deleting single elements can make it.
///
/// ```
/// use jido_testkit::strategies::sequence;
/// use proptest::test_runner::{Config, TestError, TestRunner};
///
/// // Enough cases to meet the failure whatever PROPTEST_CASES says.
/// let mut runner = TestRunner::new(Config { cases: 256, ..Config::default() });
/// // "Fails" when some element is at least 10.
/// let result = runner.run(&sequence(0_u32..100, 0..=20), |values| {
///     proptest::prop_assert!(values.iter().all(|v| *v < 10));
///     Ok(())
/// });
/// match result {
///     Err(TestError::Fail(_, minimal)) => assert_eq!(minimal, vec![10]),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn sequence<S>(element: S, len: RangeInclusive<usize>) -> Sequence<S>
where
    S: Strategy,
    S::Value: PartialEq,
{
    Sequence { element, len }
}

/// The strategy [`sequence`] returns.
#[derive(Debug, Clone)]
#[must_use = "strategies do nothing unless used"]
pub struct Sequence<S> {
    element: S,
    len: RangeInclusive<usize>,
}

impl<S> Strategy for Sequence<S>
where
    S: Strategy,
    S::Value: PartialEq,
{
    type Tree = SequenceTree<S::Tree>;
    type Value = Vec<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let len = self.len.clone().new_tree(runner)?.current();
        let elements = (0..len)
            .map(|_| self.element.new_tree(runner))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SequenceTree {
            included: vec![true; elements.len()],
            elements,
            min_len: *self.len.start(),
            phase: Phase::Delete(0),
            previous: None,
            round_start: None,
            rounds: 0,
        })
    }
}

/// At most this many delete-then-shrink rounds (each must change the value;
/// this only bounds pathological element shrinkers).
const MAX_SHRINK_ROUNDS: u32 = 64;

#[derive(Debug, Clone, Copy)]
enum Phase {
    Delete(usize),
    Shrink(usize),
}

/// The value tree of a [`Sequence`].
#[derive(Debug)]
pub struct SequenceTree<T: ValueTree> {
    elements: Vec<T>,
    included: Vec<bool>,
    min_len: usize,
    phase: Phase,
    previous: Option<Phase>,
    /// The (failing) value this round started from.
    round_start: Option<Vec<T::Value>>,
    rounds: u32,
}

impl<T> ValueTree for SequenceTree<T>
where
    T: ValueTree,
    T::Value: PartialEq,
{
    type Value = Vec<T::Value>;

    fn current(&self) -> Vec<T::Value> {
        self.elements
            .iter()
            .zip(&self.included)
            .filter(|(_, included)| **included)
            .map(|(element, _)| element.current())
            .collect()
    }

    /// Called only when the current value is a failing one.
    fn simplify(&mut self) -> bool {
        if self.round_start.is_none() {
            self.round_start = Some(self.current());
        }
        loop {
            match self.phase {
                Phase::Delete(ix) => {
                    let len = self.included.iter().filter(|i| **i).count();
                    if ix >= self.elements.len() || len <= self.min_len {
                        self.phase = Phase::Shrink(0);
                    } else if !self.included[ix] {
                        self.phase = Phase::Delete(ix + 1);
                    } else {
                        self.included[ix] = false;
                        self.previous = Some(Phase::Delete(ix));
                        self.phase = Phase::Delete(ix + 1);
                        return true;
                    }
                }
                Phase::Shrink(ix) if ix >= self.elements.len() => {
                    let now = self.current();
                    if self.rounds >= MAX_SHRINK_ROUNDS || self.round_start.as_ref() == Some(&now) {
                        return false;
                    }
                    // Something shrank: deleting may work again.
                    self.rounds += 1;
                    self.round_start = Some(now);
                    self.previous = None;
                    self.phase = Phase::Delete(0);
                }
                Phase::Shrink(ix) => {
                    if self.included[ix] && self.elements[ix].simplify() {
                        self.previous = Some(Phase::Shrink(ix));
                        return true;
                    }
                    self.phase = Phase::Shrink(ix + 1);
                }
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match self.previous {
            None => false,
            Some(Phase::Delete(ix)) => {
                self.included[ix] = true;
                self.previous = None;
                true
            }
            Some(Phase::Shrink(ix)) => {
                if self.elements[ix].complicate() {
                    true
                } else {
                    self.previous = None;
                    false
                }
            }
        }
    }
}
