//! SW4RM protocol constants (values of `common.proto`), frozen.
//!
//! Each group is a module of `i64` constants plus a `TABLE` of `(NAME, value)` pairs in
//! declaration order, aliases included, from which the bindings build the exported
//! frozen objects. Envelope states and acknowledgement stages are distinct scales: the
//! same name (`FULFILLED`) has a different value in each.

/// Acknowledgement stages of a recorded message. Valid stages are 0-6.
pub mod ack_stage {
    pub const UNSPECIFIED: i64 = 0;
    pub const RECEIVED: i64 = 1;
    pub const READ: i64 = 2;
    pub const FULFILLED: i64 = 3;
    pub const REJECTED: i64 = 4;
    pub const FAILED: i64 = 5;
    pub const TIMED_OUT: i64 = 6;

    pub const TABLE: &[(&str, i64)] = &[
        ("UNSPECIFIED", UNSPECIFIED),
        ("RECEIVED", RECEIVED),
        ("READ", READ),
        ("FULFILLED", FULFILLED),
        ("REJECTED", REJECTED),
        ("FAILED", FAILED),
        ("TIMED_OUT", TIMED_OUT),
    ];

    /// The stages an ack may carry.
    pub const VALID: std::ops::RangeInclusive<i64> = UNSPECIFIED..=TIMED_OUT;
}

/// States of an envelope's lifecycle (the envelope's `state` field).
pub mod envelope_state {
    pub const UNSPECIFIED: i64 = 0;
    pub const SENT: i64 = 1;
    pub const RECEIVED: i64 = 2;
    pub const READ: i64 = 3;
    pub const FULFILLED: i64 = 4;
    pub const REJECTED: i64 = 5;
    pub const FAILED: i64 = 6;
    pub const TIMED_OUT: i64 = 7;
    /// Alias of `RECEIVED` (the reference's former name).
    pub const PENDING: i64 = RECEIVED;
    /// Alias of `READ` (the reference's former name).
    pub const RUNNING: i64 = READ;

    pub const TABLE: &[(&str, i64)] = &[
        ("UNSPECIFIED", UNSPECIFIED),
        ("SENT", SENT),
        ("RECEIVED", RECEIVED),
        ("READ", READ),
        ("FULFILLED", FULFILLED),
        ("REJECTED", REJECTED),
        ("FAILED", FAILED),
        ("TIMED_OUT", TIMED_OUT),
        ("PENDING", PENDING),
        ("RUNNING", RUNNING),
    ];

    /// The states `update_state` accepts.
    pub const VALID: std::ops::RangeInclusive<i64> = UNSPECIFIED..=TIMED_OUT;
}

/// Protocol error codes (an ack's `error_code`).
pub mod error_code {
    pub const UNSPECIFIED: i64 = 0;
    pub const BUFFER_FULL: i64 = 1;
    pub const NO_ROUTE: i64 = 2;
    pub const ACK_TIMEOUT: i64 = 3;
    pub const AGENT_UNAVAILABLE: i64 = 4;
    pub const AGENT_SHUTDOWN: i64 = 5;
    pub const VALIDATION_ERROR: i64 = 6;
    pub const PERMISSION_DENIED: i64 = 7;
    pub const UNSUPPORTED_MESSAGE_TYPE: i64 = 8;
    pub const OVERSIZE_PAYLOAD: i64 = 9;
    pub const TOOL_TIMEOUT: i64 = 10;
    pub const PARTIAL_DELIVERY: i64 = 11;
    pub const FORCED_PREEMPTION: i64 = 12;
    pub const TTL_EXPIRED: i64 = 13;
    pub const DUPLICATE_DETECTED: i64 = 14;
    pub const ALREADY_IN_PROGRESS: i64 = 15;
    pub const INTERNAL_ERROR: i64 = 99;

    pub const TABLE: &[(&str, i64)] = &[
        ("UNSPECIFIED", UNSPECIFIED),
        ("BUFFER_FULL", BUFFER_FULL),
        ("NO_ROUTE", NO_ROUTE),
        ("ACK_TIMEOUT", ACK_TIMEOUT),
        ("AGENT_UNAVAILABLE", AGENT_UNAVAILABLE),
        ("AGENT_SHUTDOWN", AGENT_SHUTDOWN),
        ("VALIDATION_ERROR", VALIDATION_ERROR),
        ("PERMISSION_DENIED", PERMISSION_DENIED),
        ("UNSUPPORTED_MESSAGE_TYPE", UNSUPPORTED_MESSAGE_TYPE),
        ("OVERSIZE_PAYLOAD", OVERSIZE_PAYLOAD),
        ("TOOL_TIMEOUT", TOOL_TIMEOUT),
        ("PARTIAL_DELIVERY", PARTIAL_DELIVERY),
        ("FORCED_PREEMPTION", FORCED_PREEMPTION),
        ("TTL_EXPIRED", TTL_EXPIRED),
        ("DUPLICATE_DETECTED", DUPLICATE_DETECTED),
        ("ALREADY_IN_PROGRESS", ALREADY_IN_PROGRESS),
        ("INTERNAL_ERROR", INTERNAL_ERROR),
    ];
}

/// Message types (an envelope's `message_type`).
pub mod message_type {
    pub const UNSPECIFIED: i64 = 0;
    pub const CONTROL: i64 = 1;
    pub const DATA: i64 = 2;
    pub const HEARTBEAT: i64 = 3;
    pub const NOTIFICATION: i64 = 4;
    pub const ACKNOWLEDGEMENT: i64 = 5;
    pub const HITL_INVOCATION: i64 = 6;
    pub const WORKTREE_CONTROL: i64 = 7;
    pub const NEGOTIATION: i64 = 8;
    pub const TOOL_CALL: i64 = 9;
    pub const TOOL_RESULT: i64 = 10;
    pub const TOOL_ERROR: i64 = 11;

    pub const TABLE: &[(&str, i64)] = &[
        ("UNSPECIFIED", UNSPECIFIED),
        ("CONTROL", CONTROL),
        ("DATA", DATA),
        ("HEARTBEAT", HEARTBEAT),
        ("NOTIFICATION", NOTIFICATION),
        ("ACKNOWLEDGEMENT", ACKNOWLEDGEMENT),
        ("HITL_INVOCATION", HITL_INVOCATION),
        ("WORKTREE_CONTROL", WORKTREE_CONTROL),
        ("NEGOTIATION", NEGOTIATION),
        ("TOOL_CALL", TOOL_CALL),
        ("TOOL_RESULT", TOOL_RESULT),
        ("TOOL_ERROR", TOOL_ERROR),
    ];
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
