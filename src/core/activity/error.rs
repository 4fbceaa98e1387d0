//! The one error type of the activity core.
//!
//! Every operation that returns an error has changed nothing (statistics counters aside:
//! a rejected record is counted in `stats().rejections`). Messages name the offending
//! field or value and never contain an idempotency token.

use super::constants::error_code;

/// What went wrong, with the numbers and names a caller needs.
///
/// `code()` is a stable string for the JS `Error` subclass; field names in messages are
/// the ones the caller wrote (`ack_stage` for wire objects, `maxItems` for options).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// A value of the wrong type or shape (a `TypeError` in JS).
    #[error("{field} {problem}")]
    InvalidArgument { field: String, problem: String },
    /// A number that is not an integer or lies outside its allowed range (a `RangeError`).
    /// `value` is the offending number as written; `expected` says what is allowed.
    #[error("{field} must be {expected}, got {value}")]
    Range {
        field: String,
        value: String,
        expected: String,
    },
    /// The buffer is full and `on_full` is `Reject` (or a snapshot holds more records than
    /// `max_items`).
    #[error("activity buffer is full ({current_size} of {max_size} records)")]
    BufferFull {
        current_size: usize,
        max_size: usize,
    },
    /// A custom eviction strategy named a message id that is not in the buffer.
    #[error(
        "eviction strategy named message_id {}, which is not in the buffer; nothing was evicted",
        crate::core::json::quoted(.id)
    )]
    UnknownVictim { id: String },
    /// A custom eviction strategy returned fewer distinct victims than were needed.
    #[error("eviction strategy returned {returned} distinct victim(s), {needed} needed; nothing was evicted")]
    NotEnoughVictims { needed: usize, returned: usize },
    /// A custom eviction strategy failed; `message` is its own.
    #[error("eviction strategy failed: {message}")]
    StrategyFailed { message: String },
    /// A snapshot is malformed; `path` locates the problem (`records["m1"].ts_ms`,
    /// `order[3]`, empty for the snapshot itself).
    #[error("invalid snapshot: {path}{separator}{problem}", separator = if .path.is_empty() { "" } else { ": " })]
    Snapshot { path: String, problem: String },
    /// The platform's random source failed while generating a UUID.
    #[error("random source unavailable: {message}")]
    Randomness { message: String },
}

impl ActivityError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ActivityError::InvalidArgument { .. } => "INVALID_ARGUMENT",
            ActivityError::Range { .. } => "OUT_OF_RANGE",
            ActivityError::BufferFull { .. } => "BUFFER_FULL",
            ActivityError::UnknownVictim { .. } => "UNKNOWN_VICTIM",
            ActivityError::NotEnoughVictims { .. } => "NOT_ENOUGH_VICTIMS",
            ActivityError::StrategyFailed { .. } => "STRATEGY_FAILED",
            ActivityError::Snapshot { .. } => "SNAPSHOT_INVALID",
            ActivityError::Randomness { .. } => "RANDOMNESS_UNAVAILABLE",
        }
    }

    /// The SW4RM protocol `ErrorCode` this error corresponds to, where there is one.
    pub fn protocol_error_code(&self) -> Option<i64> {
        match self {
            ActivityError::BufferFull { .. } => Some(error_code::BUFFER_FULL),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ActivityError::InvalidArgument {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// `InvalidArgument`: `<field> must be <expected>, got <got>` (`got` describes the
    /// value's kind, never the value).
    pub(crate) fn wrong_type(field: &str, expected: &str, got: &str) -> Self {
        ActivityError::invalid(field, format!("must be {expected}, got {got}"))
    }

    pub(crate) fn range(
        field: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        ActivityError::Range {
            field: field.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    pub(crate) fn snapshot(path: impl Into<String>, problem: impl Into<String>) -> Self {
        ActivityError::Snapshot {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_and_value() {
        let e = ActivityError::range("ack_stage", "7", "an integer from 0 to 6");
        assert_eq!(
            e.to_string(),
            "ack_stage must be an integer from 0 to 6, got 7"
        );
        assert_eq!(e.code(), "OUT_OF_RANGE");
        let e = ActivityError::invalid("message_id", "is missing");
        assert_eq!(e.to_string(), "message_id is missing");
        let e = ActivityError::snapshot("order[2]", "duplicate id \"m1\"");
        assert_eq!(
            e.to_string(),
            "invalid snapshot: order[2]: duplicate id \"m1\""
        );
        assert_eq!(
            ActivityError::snapshot("", "expected an object").to_string(),
            "invalid snapshot: expected an object"
        );
    }

    #[test]
    fn buffer_full_carries_sizes_and_protocol_code() {
        let e = ActivityError::BufferFull {
            current_size: 3,
            max_size: 3,
        };
        assert_eq!(e.code(), "BUFFER_FULL");
        assert_eq!(e.protocol_error_code(), Some(1));
        assert_eq!(e.to_string(), "activity buffer is full (3 of 3 records)");
        assert_eq!(ActivityError::invalid("x", "y").protocol_error_code(), None);
    }
}
