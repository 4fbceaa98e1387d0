//! Idempotency tokens and per-producer sequence numbers.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::error::ActivityError;

/// `{producer_id}:{operation}:{h}` where `h` is the first 16 hex digits of
/// `sha256(producer_id + "\n" + operation + "\n" + bytes)`.
///
/// The line feed separates the parts unambiguously, so neither name may contain one.
pub fn compute_idempotency_token(
    producer_id: &str,
    operation: &str,
    bytes: &[u8],
) -> Result<String, ActivityError> {
    for (field, value) in [("producerId", producer_id), ("operation", operation)] {
        if value.contains('\n') {
            return Err(ActivityError::invalid(
                field,
                "must not contain a line feed",
            ));
        }
    }
    let digest = Sha256::new()
        .chain_update(producer_id)
        .chain_update("\n")
        .chain_update(operation)
        .chain_update("\n")
        .chain_update(bytes)
        .finalize();
    let mut token = format!("{producer_id}:{operation}:");
    for byte in &digest[..8] {
        write!(token, "{byte:02x}").expect("writing to a String cannot fail");
    }
    Ok(token)
}

/// Hands out `start`, `start + 1`, ... ; each value exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceTracker {
    next: i64,
}

impl SequenceTracker {
    pub fn new(start: i64) -> Self {
        SequenceTracker { next: start }
    }

    /// The next number.
    ///
    /// # Panics
    /// After `i64::MAX` has been handed out.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> i64 {
        let value = self.next;
        self.next = value.checked_add(1).expect("sequence exhausted");
        value
    }

    /// The number `next` will return, without consuming it.
    pub fn peek(&self) -> i64 {
        self.next
    }
}

impl Default for SequenceTracker {
    fn default() -> Self {
        SequenceTracker::new(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_vectors_from_the_issue() {
        assert_eq!(
            compute_idempotency_token("agent", "work", b"").unwrap(),
            "agent:work:e09d48d3d73fad94"
        );
        assert_eq!(
            compute_idempotency_token("agent", "work", br#"{"a":1,"b":2}"#).unwrap(),
            "agent:work:f65efee16e55e693"
        );
    }

    #[test]
    fn line_feeds_in_names_are_rejected_without_echoing_them() {
        let err = compute_idempotency_token("age\nnt", "work", b"").unwrap_err();
        assert_eq!(err.to_string(), "producerId must not contain a line feed");
        let err = compute_idempotency_token("agent", "wo\nrk", b"").unwrap_err();
        assert!(
            matches!(err, ActivityError::InvalidArgument { ref field, .. } if field == "operation")
        );
        assert!(compute_idempotency_token("agent", "work", b"line\nfeeds are fine here").is_ok());
    }

    #[test]
    fn separators_keep_parts_apart() {
        let a = compute_idempotency_token("ab", "c", b"").unwrap();
        let b = compute_idempotency_token("a", "bc", b"").unwrap();
        assert_ne!(a.rsplit(':').next(), b.rsplit(':').next());
    }

    #[test]
    fn sequence_counts_up_from_start() {
        let mut seq = SequenceTracker::default();
        assert_eq!((seq.next(), seq.next(), seq.next()), (1, 2, 3));
        let mut seq = SequenceTracker::new(41);
        assert_eq!(seq.peek(), 41);
        assert_eq!((seq.next(), seq.next()), (41, 42));
        assert_eq!(seq.peek(), 43);
    }
}
