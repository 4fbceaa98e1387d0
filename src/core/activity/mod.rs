//! ActivityBuffer core: the message lifecycle of SW4RM agents.
//!
//! Records every incoming and outgoing envelope, tracks its acknowledgement stage,
//! deduplicates retries by idempotency token within a window, evicts by a strategy when
//! full, tells after a restart which outgoing messages were never acknowledged, and reads
//! and writes the reference's (`sw4rm-sdk`) JSON snapshot format.
//!
//! The three-ID model: `message_id` is new for every attempt, `idempotency_token` stays
//! the same across retries, `correlation_id` links a workflow.
//!
//! Pure Rust: time is passed in (`now_ms`), randomness is used only by
//! [`build_envelope`] (UUIDs) and, deterministically, by the seeded random strategy.
//!
//! | module | holds |
//! |---|---|
//! | `constants` | protocol values and `is_terminal_state` / `is_terminal_stage` |
//! | `envelope` | [`Envelope`], the wire object with JSON and byte fields |
//! | `builder` | [`build_envelope`] and its [`EnvelopeOptions`] |
//! | `token` | [`compute_idempotency_token`], [`SequenceTracker`] |
//! | `record` | [`ActivityRecord`], [`Ack`], [`Direction`] |
//! | `strategy` | [`Strategy`], [`OnFull`], [`VictimChooser`] |
//! | `buffer` | [`ActivityBuffer`] and its stats and answers |
//! | `snapshot` | the reference file format |

mod buffer;
mod builder;
pub mod constants;
mod envelope;
mod error;
mod json;
mod record;
mod snapshot;
mod strategy;
mod token;
mod token_index;

#[cfg(test)]
mod buffer_tests;
#[cfg(test)]
mod snapshot_tests;

pub use crate::core::number::MAX_SAFE_INTEGER;
pub use buffer::{
    ActivityBuffer, ActivityBufferOptions, ActivityStats, DuplicateCheck, DuplicateStatus,
    DEFAULT_DEDUP_WINDOW_S, DEFAULT_MAX_ITEMS,
};
pub use builder::{
    build_envelope, build_envelope_with, fill_from_platform, hlc_timestamp, timestamp, uuid_v4,
    EnvelopeOptions, DEFAULT_CONTENT_TYPE, DEFAULT_HLC_NODE,
};
pub use constants::{is_terminal_stage, is_terminal_state};
pub use envelope::{Envelope, FieldValue, BYTES_FIELDS_KEY, PAYLOAD_IS_B64_KEY};
pub use error::ActivityError;
pub use json::integer_from_f64;
pub use record::{Ack, ActivityRecord, Direction, RecordedEnvelope};
pub use snapshot::{envelope_from_snapshot, envelope_to_snapshot, snapshot_of, SNAPSHOT_VERSION};
pub use strategy::{OnFull, Strategy, VictimChooser};
pub use token::{compute_idempotency_token, SequenceTracker};
