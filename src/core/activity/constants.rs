//! SW4RM protocol constants (values of `common.proto`), frozen.
//!
//! Each group is a module of `i64` constants plus a `TABLE` of `(NAME, value)` pairs in
//! declaration order, aliases included, from which the bindings build the exported
//! frozen objects. Envelope states and acknowledgement stages are distinct scales: the
//! same name (`FULFILLED`) has a different value in each.

/// Declares `pub const NAME: i64 = value;` for each entry, and `TABLE` listing them all.
macro_rules! protocol_values {
    ($($(#[$doc:meta])* $name:ident = $value:expr),* $(,)?) => {
        $($(#[$doc])* pub const $name: i64 = $value;)*

        /// Every name with its value, in declaration order.
        pub const TABLE: &[(&str, i64)] = &[$((stringify!($name), $name)),*];
    };
}

/// Acknowledgement stages of a recorded message. Valid stages are 0-6.
pub mod ack_stage {
    protocol_values! {
        UNSPECIFIED = 0,
        RECEIVED = 1,
        READ = 2,
        FULFILLED = 3,
        REJECTED = 4,
        FAILED = 5,
        TIMED_OUT = 6,
    }

    /// The stages an ack may carry.
    pub const VALID: std::ops::RangeInclusive<i64> = UNSPECIFIED..=TIMED_OUT;
}

/// States of an envelope's lifecycle (the envelope's `state` field).
pub mod envelope_state {
    protocol_values! {
        UNSPECIFIED = 0,
        SENT = 1,
        RECEIVED = 2,
        READ = 3,
        FULFILLED = 4,
        REJECTED = 5,
        FAILED = 6,
        TIMED_OUT = 7,
        /// Alias of `RECEIVED` (the reference's former name).
        PENDING = RECEIVED,
        /// Alias of `READ` (the reference's former name).
        RUNNING = READ,
    }

    /// The states `update_state` accepts.
    pub const VALID: std::ops::RangeInclusive<i64> = UNSPECIFIED..=TIMED_OUT;
}

/// Protocol error codes (an ack's `error_code`).
pub mod error_code {
    protocol_values! {
        UNSPECIFIED = 0,
        BUFFER_FULL = 1,
        NO_ROUTE = 2,
        ACK_TIMEOUT = 3,
        AGENT_UNAVAILABLE = 4,
        AGENT_SHUTDOWN = 5,
        VALIDATION_ERROR = 6,
        PERMISSION_DENIED = 7,
        UNSUPPORTED_MESSAGE_TYPE = 8,
        OVERSIZE_PAYLOAD = 9,
        TOOL_TIMEOUT = 10,
        PARTIAL_DELIVERY = 11,
        FORCED_PREEMPTION = 12,
        TTL_EXPIRED = 13,
        DUPLICATE_DETECTED = 14,
        ALREADY_IN_PROGRESS = 15,
        INTERNAL_ERROR = 99,
    }
}

/// Message types (an envelope's `message_type`).
pub mod message_type {
    protocol_values! {
        UNSPECIFIED = 0,
        CONTROL = 1,
        DATA = 2,
        HEARTBEAT = 3,
        NOTIFICATION = 4,
        ACKNOWLEDGEMENT = 5,
        HITL_INVOCATION = 6,
        WORKTREE_CONTROL = 7,
        NEGOTIATION = 8,
        TOOL_CALL = 9,
        TOOL_RESULT = 10,
        TOOL_ERROR = 11,
    }
}

/// True exactly for the terminal envelope states FULFILLED, REJECTED, FAILED, TIMED_OUT (4-7).
pub fn is_terminal_state(state: i64) -> bool {
    (envelope_state::FULFILLED..=envelope_state::TIMED_OUT).contains(&state)
}

/// True exactly for the terminal ack stages FULFILLED, REJECTED, FAILED, TIMED_OUT (3-6).
pub fn is_terminal_stage(stage: i64) -> bool {
    (ack_stage::FULFILLED..=ack_stage::TIMED_OUT).contains(&stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_the_issue() {
        let names = |t: &[(&str, i64)]| {
            t.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            names(ack_stage::TABLE),
            "UNSPECIFIED=0 RECEIVED=1 READ=2 FULFILLED=3 REJECTED=4 FAILED=5 TIMED_OUT=6"
        );
        assert_eq!(
            names(envelope_state::TABLE),
            "UNSPECIFIED=0 SENT=1 RECEIVED=2 READ=3 FULFILLED=4 REJECTED=5 FAILED=6 TIMED_OUT=7 PENDING=2 RUNNING=3"
        );
        assert_eq!(
            names(error_code::TABLE),
            "UNSPECIFIED=0 BUFFER_FULL=1 NO_ROUTE=2 ACK_TIMEOUT=3 AGENT_UNAVAILABLE=4 AGENT_SHUTDOWN=5 \
             VALIDATION_ERROR=6 PERMISSION_DENIED=7 UNSUPPORTED_MESSAGE_TYPE=8 OVERSIZE_PAYLOAD=9 \
             TOOL_TIMEOUT=10 PARTIAL_DELIVERY=11 FORCED_PREEMPTION=12 TTL_EXPIRED=13 \
             DUPLICATE_DETECTED=14 ALREADY_IN_PROGRESS=15 INTERNAL_ERROR=99"
        );
        assert_eq!(
            names(message_type::TABLE),
            "UNSPECIFIED=0 CONTROL=1 DATA=2 HEARTBEAT=3 NOTIFICATION=4 ACKNOWLEDGEMENT=5 \
             HITL_INVOCATION=6 WORKTREE_CONTROL=7 NEGOTIATION=8 TOOL_CALL=9 TOOL_RESULT=10 TOOL_ERROR=11"
        );
    }

    #[test]
    fn terminal_states_are_4_to_7() {
        let terminal: Vec<i64> = (-1..=9).filter(|s| is_terminal_state(*s)).collect();
        assert_eq!(terminal, vec![4, 5, 6, 7]);
    }

    #[test]
    fn terminal_stages_are_3_to_6() {
        let terminal: Vec<i64> = (-1..=8).filter(|s| is_terminal_stage(*s)).collect();
        assert_eq!(terminal, vec![3, 4, 5, 6]);
    }
}
