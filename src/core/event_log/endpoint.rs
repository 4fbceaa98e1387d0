//! The activity endpoint's pure parts: query-string parameters and Server-Sent Events frames.
//! The Fetch API handler (JS) passes in the raw strings it reads from the request.
//!
//! The JSON response body is a serialized [`super::ReadResult`]:
//! `{ events, first_id, last_id, missed, next_since }`.

use std::fmt;

/// `limit` when the request has none.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` served; larger requests are capped to it.
pub const MAX_LIMIT: u32 = 500;
/// Seconds between heartbeat comments on a live tail.
pub const HEARTBEAT_INTERVAL_SECONDS: u32 = 15;
/// SSE comment frame that keeps idle connections (and proxies) alive.
pub const SSE_HEARTBEAT: &str = ": heartbeat\n\n";
/// The first frame of every live tail, sent at once so that the response (and
/// `EventSource.onopen`) does not wait for the first event or heartbeat: the client's
/// reconnection delay, in milliseconds.
pub const SSE_RETRY: &str = "retry: 3000\n\n";

/// Parsed `?since=&limit=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityQuery {
    /// `None`: from the oldest resident event.
    pub since: Option<u64>,
    /// Already defaulted and capped: `0..=MAX_LIMIT`.
    pub limit: u32,
}

impl ActivityQuery {
    /// `limit` in the form the log's `query`/`read` take.
    pub fn log_limit(&self) -> Option<i64> {
        Some(i64::from(self.limit))
    }
}

/// Parses the endpoint's `since` and `limit` parameters (`None` when absent from the URL).
///
/// - `since`: absent or empty -> `None`; otherwise ASCII digits only, fitting a u64. Signs,
///   decimals, spaces and other text are errors.
/// - `limit`: absent or empty -> [`DEFAULT_LIMIT`]; otherwise ASCII digits only, capped at
///   [`MAX_LIMIT`] (a huge but well-formed number is capped, not rejected). `0` is allowed and
///   returns no events, only the cursor metadata. A negative limit is an error: the library's
///   "negative means no cap" cannot be honoured by a capped endpoint, and silently picking a
///   number would hide the caller's mistake.
pub fn parse_activity_query(
    since: Option<&str>,
    limit: Option<&str>,
) -> Result<ActivityQuery, ParamError> {
    let since = parse_cursor(ActivityParam::Since, since)?;
    let limit = match limit.filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(raw) => match parse_digits(raw) {
            Digits::Value(n) => n.min(u64::from(MAX_LIMIT)) as u32,
            Digits::Overflow => MAX_LIMIT,
            Digits::Malformed => return Err(ParamError::new(ActivityParam::Limit, raw)),
        },
    };
    Ok(ActivityQuery { since, limit })
}

/// The cursor a live tail replays from: the `Last-Event-ID` header when present (the browser
/// sends it on reconnect and it is newer than the URL's `since`), else `since`. Both are
/// validated like `since` in [`parse_activity_query`]; an empty value counts as absent.
pub fn parse_stream_cursor(
    since: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<Option<u64>, ParamError> {
    let since = parse_cursor(ActivityParam::Since, since)?;
    let last_event_id = parse_cursor(ActivityParam::LastEventId, last_event_id)?;
    Ok(last_event_id.or(since))
}

fn parse_cursor(param: ActivityParam, raw: Option<&str>) -> Result<Option<u64>, ParamError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => match parse_digits(raw) {
            Digits::Value(n) => Ok(Some(n)),
            Digits::Overflow | Digits::Malformed => Err(ParamError::new(param, raw)),
        },
    }
}

enum Digits {
    Value(u64),
    Overflow,
    Malformed,
}

fn parse_digits(raw: &str) -> Digits {
    if raw.is_empty() || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return Digits::Malformed;
    }
    // Digits only (`parse` alone would accept a leading `+`): it fails only by overflow.
    raw.parse().map_or(Digits::Overflow, Digits::Value)
}

/// A request parameter of the activity endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityParam {
    Since,
    Limit,
    LastEventId,
}

impl ActivityParam {
    /// The name as it appears in the request.
    pub fn name(self) -> &'static str {
        match self {
            ActivityParam::Since => "since",
            ActivityParam::Limit => "limit",
            ActivityParam::LastEventId => "Last-Event-ID",
        }
    }
}

/// A malformed request parameter (a 400). `Display` is the `{ error }` message; it names the
/// parameter and quotes the value, shortened to at most [`ParamError::MAX_QUOTED_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: ActivityParam,
    /// The rejected value, verbatim.
    pub value: String,
}

impl ParamError {
    pub const MAX_QUOTED_CHARS: usize = 40;

    fn new(param: ActivityParam, value: &str) -> Self {
        ParamError {
            param,
            value: value.to_owned(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = match self.param {
            ActivityParam::Limit => "a non-negative integer",
            ActivityParam::Since | ActivityParam::LastEventId => "a non-negative integer event id",
        };
        let mut shown: String = self.value.chars().take(Self::MAX_QUOTED_CHARS).collect();
        if shown.len() < self.value.len() {
            shown.push_str("...");
        }
        write!(
            f,
            "invalid {}: expected {}, got {}",
            self.param.name(),
            expected,
            serde_json::Value::from(shown)
        )
    }
}

impl std::error::Error for ParamError {}

/// One SSE event frame: `id: <id>\nevent: <kind>\ndata: <line>\n...\n\n`.
///
/// `data_json` is split on `\r\n`, `\r` and `\n` into one `data:` line each, as the SSE spec
/// requires, so a client reassembles it exactly. A field value cannot hold a line break, so any
/// CR or LF in `kind` becomes a space (the exact kind is still inside the data JSON).
pub fn format_sse_event(id: u64, kind: &str, data_json: &str) -> String {
    let kind = kind.replace(['\r', '\n'], " ");
    let data = data_json
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\ndata: ");
    format!("id: {id}\nevent: {kind}\ndata: {data}\n\n")
}
