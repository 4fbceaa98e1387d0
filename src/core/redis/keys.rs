//! The key layout, shared with the autoplay Python SDK's `RedisEventBuffer` (0.13):
//!
//! | key | type | written by |
//! |---|---|---|
//! | `autoplay:sdk:sessions:{prefix}` | SET of session ids | both |
//! | `autoplay:sdk:buffer:{prefix}:{session_id}` | ZSET: member `{8 hex}:{json}`, score `forwarded_at` | both |
//! | `autoplay:sdk:seq:{prefix}` | counter: the arrival order of tidepool's adds | tidepool |
//! | `autoplay:sdk:batch:{prefix}:{batch id}` | what an add batch did, kept a few minutes so a retry is not applied twice | tidepool |
//! | `autoplay:sdk:drain:{prefix}:{drain id}` | LIST: a drained batch, kept until delivered so a retried drain returns it | tidepool |
//!
//! The Python SDK reads and writes only the first two; it neither sees nor disturbs the others.
//!
//! Invariant: a prefix is non-empty and contains no `:`. Every key of a prefix starts with
//! `autoplay:sdk:<kind>:<prefix>:` (or is `autoplay:sdk:sessions:<prefix>`), so with `:`
//! excluded no prefix's keys can be read through another prefix (`a` and `a:b` would share
//! `autoplay:sdk:buffer:a:b:...`).

use std::fmt;

/// The session id used when a payload has none (absent, null or empty), as in the Python SDK.
pub const NO_SESSION: &str = "_nosession";

/// Why a key prefix is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixError {
    Empty,
    ContainsColon(String),
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixError::Empty => write!(f, "keyPrefix must not be empty"),
            PrefixError::ContainsColon(prefix) => write!(
                f,
                "keyPrefix must not contain ':' (one prefix could then read another's keys), got {}",
                serde_json::to_string(prefix).unwrap_or_default()
            ),
        }
    }
}

impl std::error::Error for PrefixError {}

/// The keys of one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    /// The layout of `prefix`; refuses an empty prefix or one containing `:`.
    pub fn new(prefix: &str) -> Result<KeyLayout, PrefixError> {
        if prefix.is_empty() {
            return Err(PrefixError::Empty);
        }
        if prefix.contains(':') {
            return Err(PrefixError::ContainsColon(prefix.to_string()));
        }
        Ok(KeyLayout {
            prefix: prefix.to_string(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The SET of the prefix's session ids.
    pub fn sessions(&self) -> String {
        format!("autoplay:sdk:sessions:{}", self.prefix)
    }

    /// What every session ZSET key of the prefix starts with; the session id follows.
    pub fn buffer_base(&self) -> String {
        format!("autoplay:sdk:buffer:{}:", self.prefix)
    }

    /// The ZSET of one session (`_nosession` for none).
    pub fn buffer(&self, session: &str) -> String {
        format!("{}{}", self.buffer_base(), session)
    }

    /// The counter that orders tidepool's adds of this prefix.
    pub fn sequence(&self) -> String {
        format!("autoplay:sdk:seq:{}", self.prefix)
    }

    /// The record of one add batch.
    pub fn batch(&self, batch_id: &str) -> String {
        format!("autoplay:sdk:batch:{}:{}", self.prefix, batch_id)
    }

    /// The kept copy of one drained batch.
    pub fn drain(&self, drain_id: &str) -> String {
        format!("autoplay:sdk:drain:{}:{}", self.prefix, drain_id)
    }
}

/// The session a payload is filed under: its id, or `_nosession` when absent or empty.
pub fn session_of(session_id: Option<&str>) -> &str {
    match session_id {
        Some(id) if !id.is_empty() => id,
        _ => NO_SESSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_python_sdk() {
        let keys = KeyLayout::new("default").unwrap();
        assert_eq!(keys.sessions(), "autoplay:sdk:sessions:default");
        assert_eq!(keys.buffer("ps_1"), "autoplay:sdk:buffer:default:ps_1");
        assert_eq!(
            keys.buffer(NO_SESSION),
            "autoplay:sdk:buffer:default:_nosession"
        );
        assert_eq!(keys.buffer_base(), "autoplay:sdk:buffer:default:");
        assert_eq!(keys.sequence(), "autoplay:sdk:seq:default");
        assert_eq!(keys.batch("b1"), "autoplay:sdk:batch:default:b1");
        assert_eq!(keys.drain("d1"), "autoplay:sdk:drain:default:d1");
    }

    #[test]
    fn prefixes_that_could_overlap_are_refused() {
        assert_eq!(KeyLayout::new(""), Err(PrefixError::Empty));
        assert_eq!(
            KeyLayout::new("a:b"),
            Err(PrefixError::ContainsColon("a:b".into()))
        );
        assert_eq!(
            KeyLayout::new(":"),
            Err(PrefixError::ContainsColon(":".into()))
        );
        assert!(KeyLayout::new("svc-1.prod").is_ok());
        assert!(KeyLayout::new("ünïcode prefix").is_ok());
        assert!(PrefixError::ContainsColon("a:b".into())
            .to_string()
            .contains("\"a:b\""));
    }

    #[test]
    fn absent_or_empty_sessions_file_under_nosession() {
        assert_eq!(session_of(None), "_nosession");
        assert_eq!(session_of(Some("")), "_nosession");
        assert_eq!(session_of(Some("ps_1")), "ps_1");
        // A session id may contain ':' (it never reaches another prefix: the prefix has none).
        assert_eq!(session_of(Some("a:b")), "a:b");
    }
}
