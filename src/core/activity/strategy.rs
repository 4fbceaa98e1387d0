//! What a full buffer does: evict by a strategy, or reject.

use std::fmt;

use serde_json::Value;

use super::error::ActivityError;
use super::json::integer_in;
use crate::core::describe::kind;
use crate::core::json;
use crate::core::number::MAX_SAFE_INTEGER;

/// Chooses victims for a custom strategy (the JS `{ victims(order, excess) }` object).
///
/// `order` holds the ids of the resident records, oldest first; the record being
/// inserted is not among them. The chooser returns at least `excess` distinct ids from
/// `order`; anything else is an error and nothing is evicted. `Err` carries the
/// chooser's own message.
pub trait VictimChooser {
    fn victims(&mut self, order: Vec<String>, excess: usize) -> Result<Vec<String>, String>;
}

impl<F> VictimChooser for F
where
    F: FnMut(Vec<String>, usize) -> Result<Vec<String>, String>,
{
    fn victims(&mut self, order: Vec<String>, excess: usize) -> Result<Vec<String>, String> {
        self(order, excess)
    }
}

/// Which records a full buffer (with `OnFull::Evict`) removes to make room.
pub enum Strategy {
    /// Oldest first.
    Fifo,
    /// Newest resident record first (never the one being inserted).
    Lifo,
    /// Oldest record with a terminal ack stage or terminal envelope state first, then
    /// oldest overall: in-flight messages go last.
    SettledFirst,
    /// Uniformly random; the same seed and the same operations give the same victims.
    /// A victim costs O(1) expected: the buffer keeps its holes no more numerous than its
    /// records, so each uniform probe of its slots hits a record with probability >= 1/2.
    Random { seed: u64 },
    /// The caller chooses; each call is handed the whole order (O(len)).
    Custom(Box<dyn VictimChooser>),
}

impl Strategy {
    /// Parses `'fifo'`, `'lifo'`, `'settled-first'` or `{ "random": { "seed": n } }`
    /// (`n` a non-negative safe integer). Custom strategies are built by the caller.
    pub fn from_value(value: &Value) -> Result<Strategy, ActivityError> {
        match value {
            Value::String(name) => match name.as_str() {
                "fifo" => Ok(Strategy::Fifo),
                "lifo" => Ok(Strategy::Lifo),
                "settled-first" => Ok(Strategy::SettledFirst),
                other => Err(ActivityError::invalid(
                    "strategy",
                    format!(
                        "must be 'fifo', 'lifo', 'settled-first', {{ random: {{ seed }} }} or {{ victims }}, got {}",
                        json::quoted(other)
                    ),
                )),
            },
            Value::Object(map) => {
                let Some(Value::Object(random)) = map.get("random") else {
                    return Err(ActivityError::invalid(
                        "strategy",
                        "must be a strategy name, { random: { seed } } or { victims }",
                    ));
                };
                let seed = random.get("seed").unwrap_or(&Value::Null);
                let seed = integer_in(
                    seed,
                    "strategy.random.seed",
                    0..=MAX_SAFE_INTEGER,
                    "a non-negative integer",
                )?;
                Ok(Strategy::Random { seed: seed as u64 })
            }
            other => Err(ActivityError::invalid(
                "strategy",
                format!("must be a string or an object, got {}", kind(other)),
            )),
        }
    }
}

impl fmt::Debug for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Fifo => f.write_str("Fifo"),
            Strategy::Lifo => f.write_str("Lifo"),
            Strategy::SettledFirst => f.write_str("SettledFirst"),
            Strategy::Random { seed } => write!(f, "Random {{ seed: {seed} }}"),
            Strategy::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// What recording a new message into a full buffer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFull {
    /// Remove victims chosen by the strategy, then insert.
    Evict,
    /// Fail with `BufferFull` and change nothing.
    Reject,
}

impl OnFull {
    /// `'evict'` or `'reject'`.
    pub fn from_name(name: &str) -> Result<OnFull, ActivityError> {
        match name {
            "evict" => Ok(OnFull::Evict),
            "reject" => Ok(OnFull::Reject),
            other => Err(ActivityError::invalid(
                "onFull",
                format!("must be 'evict' or 'reject', got {}", json::quoted(other)),
            )),
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator for the seeded
/// random strategy. Not for anything secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift: bias below `n / 2^64`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_named_and_seeded_strategies() {
        assert!(matches!(
            Strategy::from_value(&json!("fifo")),
            Ok(Strategy::Fifo)
        ));
        assert!(matches!(
            Strategy::from_value(&json!("lifo")),
            Ok(Strategy::Lifo)
        ));
        assert!(matches!(
            Strategy::from_value(&json!("settled-first")),
            Ok(Strategy::SettledFirst)
        ));
        assert!(matches!(
            Strategy::from_value(&json!({"random": {"seed": 42}})),
            Ok(Strategy::Random { seed: 42 })
        ));
    }

    #[test]
    fn rejects_unknown_strategies_and_bad_seeds() {
        let err = |v: Value| Strategy::from_value(&v).unwrap_err();
        assert!(err(json!("oldest")).to_string().contains("\"oldest\""));
        assert!(matches!(
            err(json!(3)),
            ActivityError::InvalidArgument { .. }
        ));
        assert!(matches!(
            err(json!({"rand": {}})),
            ActivityError::InvalidArgument { .. }
        ));
        assert!(matches!(
            err(json!({"random": {"seed": -1}})),
            ActivityError::Range { ref field, .. } if field == "strategy.random.seed"
        ));
        assert!(matches!(
            err(json!({"random": {"seed": 1.5}})),
            ActivityError::Range { .. }
        ));
        assert!(matches!(
            err(json!({"random": {}})),
            ActivityError::InvalidArgument { .. }
        ));
    }

    #[test]
    fn on_full_names() {
        assert_eq!(OnFull::from_name("evict"), Ok(OnFull::Evict));
        assert_eq!(OnFull::from_name("reject"), Ok(OnFull::Reject));
        assert_eq!(
            OnFull::from_name("drop").unwrap_err().to_string(),
            "onFull must be 'evict' or 'reject', got \"drop\""
        );
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of the reference SplitMix64 for seed 1234567.
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
    }

    #[test]
    fn below_stays_in_range_and_is_reproducible() {
        let draws = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..100).map(|_| rng.below(7)).collect::<Vec<_>>()
        };
        assert!(draws(1).iter().all(|&d| d < 7));
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
    }

    #[test]
    fn closures_are_victim_choosers() {
        let mut chooser = |order: Vec<String>, excess: usize| Ok(order[..excess].to_vec());
        let order = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            VictimChooser::victims(&mut chooser, order, 1),
            Ok(vec!["a".to_string()])
        );
    }
}
