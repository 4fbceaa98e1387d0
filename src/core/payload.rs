//! The event connector's payload models, in their wire shape (snake_case JSON), with the
//! validation and normalisation rules of the autoplay SDK's `from_dict` constructors:
//! missing or null fields take their defaults, empty identity strings become `null`,
//! `count` always equals `actions.len()`. Unknown fields are not kept.
//!
//! Unlike the reference, a field of the wrong type is an error that names the field
//! (`actions[2].index: expected an integer, got "3"`) rather than a silent default.

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::describe::describe;
use crate::core::json;
use crate::core::number::safe_integer;

/// One UI action extracted from a user session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlimAction {
    pub title: String,
    pub description: String,
    pub canonical_url: String,
    pub index: i64,
    #[serde(rename = "type")]
    pub action_type: String,
    pub timestamp_start: f64,
    pub timestamp_end: f64,
    pub raw_url: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub conversation_id: Option<String>,
}

/// A batch of UI actions for one session. Invariant: `count == actions.len()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionsPayload {
    pub product_id: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub actions: Vec<SlimAction>,
    pub count: usize,
    pub forwarded_at: f64,
    pub conversation_id: Option<String>,
}

/// A prose summary of a session, replacing `replaces` individual actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryPayload {
    pub product_id: String,
    pub session_id: Option<String>,
    pub summary: String,
    pub replaces: i64,
    pub forwarded_at: f64,
}

/// Either payload, tagged on the wire by `"type": "actions" | "summary"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Payload {
    Actions(ActionsPayload),
    Summary(SummaryPayload),
}

/// A payload that failed validation: `field` is a path such as `actions[2].index`
/// (empty when the value itself is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", if .field.is_empty() { "payload" } else { .field })]
pub struct PayloadError {
    pub field: String,
    pub problem: String,
}

/// Validates and normalises a wire payload; an error names the first bad field (fields
/// are read in the order of the struct).
pub fn parse_payload(value: &Value) -> Result<Payload, PayloadError> {
    let fields = Fields::of(value, String::new())?;
    match fields.get("type") {
        Some(Value::String(t)) if t == "actions" => parse_actions(&fields),
        Some(Value::String(t)) if t == "summary" => parse_summary(&fields),
        other => Err(fields.error(
            "type",
            expected_got(
                "\"actions\" or \"summary\"",
                &describe(other.unwrap_or(&Value::Null)),
            ),
        )),
    }
}

/// The embedding-ready text of a payload: for actions a `Session … — N actions` header
/// and one line per action, for a summary the summary itself.
pub fn to_text(payload: &Payload) -> String {
    match payload {
        Payload::Summary(summary) => summary.summary.clone(),
        Payload::Actions(batch) => {
            let session = batch.session_id.as_deref().unwrap_or("unknown");
            let mut out = format!("Session {session} — {} actions", batch.actions.len());
            for action in &batch.actions {
                write!(
                    out,
                    "\n[{}] {}: {} — {}",
                    action.index, action.action_type, action.description, action.canonical_url
                )
                .expect("writing to a String cannot fail");
            }
            out
        }
    }
}

/// Merges batches of one session: actions concatenated and re-indexed from 0, the first
/// non-null `user_id` / `email` / `conversation_id`, the greatest `forwarded_at`;
/// `product_id` and `session_id` come from the first batch.
pub fn merge_actions(batches: &[ActionsPayload]) -> Result<ActionsPayload, PayloadError> {
    let first = batches.first().ok_or_else(|| PayloadError {
        field: String::new(),
        problem: "mergeActions needs at least one actions payload".into(),
    })?;
    let actions: Vec<SlimAction> = batches
        .iter()
        .flat_map(|batch| &batch.actions)
        .enumerate()
        .map(|(index, action)| SlimAction {
            index: index as i64,
            ..action.clone()
        })
        .collect();
    let first_present = |pick: fn(&ActionsPayload) -> &Option<String>| {
        batches.iter().find_map(|batch| pick(batch).clone())
    };
    Ok(ActionsPayload {
        product_id: first.product_id.clone(),
        session_id: first.session_id.clone(),
        user_id: first_present(|b| &b.user_id),
        email: first_present(|b| &b.email),
        conversation_id: first_present(|b| &b.conversation_id),
        count: actions.len(),
        actions,
        forwarded_at: batches
            .iter()
            .map(|batch| batch.forwarded_at)
            .fold(f64::NEG_INFINITY, f64::max),
    })
}

fn parse_actions(fields: &Fields) -> Result<Payload, PayloadError> {
    let actions = match fields.get("actions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_action(item, format!("{}[{i}]", fields.path("actions"))))
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(fields.error("actions", expected_got("an array", &describe(other))))
        }
    };
    // `count` is recomputed, but a present value must still be a number.
    fields.number("count")?;
    Ok(Payload::Actions(ActionsPayload {
        product_id: fields.string("product_id")?,
        session_id: fields.identity("session_id")?,
        user_id: fields.identity("user_id")?,
        email: fields.identity("email")?,
        count: actions.len(),
        actions,
        forwarded_at: fields.number("forwarded_at")?,
        conversation_id: fields.identity("conversation_id")?,
    }))
}

fn parse_action(value: &Value, path: String) -> Result<SlimAction, PayloadError> {
    let fields = Fields::of(value, path)?;
    Ok(SlimAction {
        title: fields.string("title")?,
        description: fields.string("description")?,
        canonical_url: fields.string("canonical_url")?,
        index: fields.integer("index")?,
        action_type: fields.string("type")?,
        timestamp_start: fields.number("timestamp_start")?,
        timestamp_end: fields.number("timestamp_end")?,
        raw_url: fields.string("raw_url")?,
        session_id: fields.identity("session_id")?,
        user_id: fields.identity("user_id")?,
        email: fields.identity("email")?,
        conversation_id: fields.identity("conversation_id")?,
    })
}

fn parse_summary(fields: &Fields) -> Result<Payload, PayloadError> {
    Ok(Payload::Summary(SummaryPayload {
        product_id: fields.string("product_id")?,
        session_id: fields.identity("session_id")?,
        summary: fields.string("summary")?,
        replaces: fields.integer("replaces")?,
        forwarded_at: fields.number("forwarded_at")?,
    }))
}

/// The fields of one JSON object at `path`, with typed readers: absent and `null` fields
/// read as the type's default; a field of another type is an error naming its path.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, path: String) -> Result<Self, PayloadError> {
        match value {
            Value::Object(map) => Ok(Fields { map, path }),
            other => Err(PayloadError {
                field: path,
                problem: expected_got("an object", &describe(other)),
            }),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn error(&self, key: &str, problem: String) -> PayloadError {
        PayloadError {
            field: self.path(key),
            problem,
        }
    }

    fn string(&self, key: &str) -> Result<String, PayloadError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.error(key, expected_got("a string", &describe(other)))),
        }
    }

    /// An identity field: a string, with `""` normalised to `None`.
    fn identity(&self, key: &str) -> Result<Option<String>, PayloadError> {
        Ok(Some(self.string(key)?).filter(|s| !s.is_empty()))
    }

    fn number(&self, key: &str) -> Result<f64, PayloadError> {
        self.number_as(key, "a number")
    }

    /// A finite number (0 when absent or null); `expected` names what the field holds in
    /// the message for a value of another type.
    fn number_as(&self, key: &str, expected: &str) -> Result<f64, PayloadError> {
        match self.get(key) {
            None => Ok(0.0),
            Some(value @ Value::Number(n)) => {
                n.as_f64().filter(|n| n.is_finite()).ok_or_else(|| {
                    self.error(key, expected_got("a finite number", &json::text(value)))
                })
            }
            Some(other) => Err(self.error(key, expected_got(expected, &describe(other)))),
        }
    }

    fn integer(&self, key: &str) -> Result<i64, PayloadError> {
        let number = self.number_as(key, "an integer")?;
        safe_integer(number)
            .ok_or_else(|| self.error(key, expected_got("an integer", &describe(&self.map[key]))))
    }
}

fn expected_got(what: &str, got: &str) -> String {
    format!("expected {what}, got {got}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actions_wire() -> Value {
        json!({
            "type": "actions",
            "product_id": "prod_1",
            "session_id": "ps_abc",
            "user_id": "",
            "email": "a@example.com",
            "actions": [
                {"title": "Dashboard", "description": "User landed on the Dashboard",
                 "canonical_url": "https://app.example.com/dashboard", "index": 0, "type": "pageview",
                 "timestamp_start": 1.5, "timestamp_end": 2.5, "raw_url": "https://app.example.com/dashboard?x=1",
                 "session_id": "ps_abc", "user_id": null, "email": "", "extra": true},
                {"title": "Export", "description": "User clicked Export CSV",
                 "canonical_url": "https://app.example.com/dashboard", "index": 1, "type": "click"}
            ],
            "count": 7,
            "forwarded_at": 1700000000.25
        })
    }

    fn parse_actions_ok(value: &Value) -> ActionsPayload {
        match parse_payload(value).unwrap() {
            Payload::Actions(batch) => batch,
            other => panic!("expected actions, got {other:?}"),
        }
    }

    #[test]
    fn actions_are_normalised() {
        let batch = parse_actions_ok(&actions_wire());
        assert_eq!(batch.count, 2, "count is corrected to actions.len()");
        assert_eq!(batch.user_id, None, "empty identity string becomes null");
        assert_eq!(batch.email.as_deref(), Some("a@example.com"));
        assert_eq!(batch.conversation_id, None);
        assert_eq!(batch.actions[0].email, None);
        assert_eq!(batch.actions[1].raw_url, "");
        assert_eq!(batch.actions[1].timestamp_start, 0.0);
        assert_eq!(batch.forwarded_at, 1700000000.25);
    }

    #[test]
    fn serialised_shape_is_the_wire_shape() {
        let value = serde_json::to_value(parse_payload(&actions_wire()).unwrap()).unwrap();
        assert_eq!(value["type"], "actions");
        assert_eq!(value["count"], 2);
        assert_eq!(value["user_id"], Value::Null);
        assert_eq!(value["actions"][1]["type"], "click");
        assert!(
            value["actions"][0].get("extra").is_none(),
            "unknown fields are dropped"
        );
        let keys: Vec<_> = value["actions"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys.len(), 12);
        // A normalised payload parses to itself.
        let again = parse_payload(&value).unwrap();
        assert_eq!(serde_json::to_value(again).unwrap(), value);
    }

    #[test]
    fn summary_defaults() {
        let payload = parse_payload(&json!({"type": "summary", "summary": "did things"})).unwrap();
        assert_eq!(
            payload,
            Payload::Summary(SummaryPayload {
                product_id: String::new(),
                session_id: None,
                summary: "did things".into(),
                replaces: 0,
                forwarded_at: 0.0,
            })
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!(42), ""),
            (json!({"product_id": "p"}), "type"),
            (json!({"type": "Actions"}), "type"),
            (json!({"type": "actions", "actions": {}}), "actions"),
            (json!({"type": "actions", "actions": [1]}), "actions[0]"),
            (
                json!({"type": "actions", "actions": [{}, {"index": "3"}]}),
                "actions[1].index",
            ),
            (
                json!({"type": "actions", "actions": [{"index": 1.5}]}),
                "actions[0].index",
            ),
            (json!({"type": "actions", "session_id": 5}), "session_id"),
            (json!({"type": "actions", "count": "2"}), "count"),
            (
                json!({"type": "summary", "forwarded_at": "now"}),
                "forwarded_at",
            ),
            (json!({"type": "summary", "replaces": true}), "replaces"),
        ];
        for (value, field) in cases {
            let error = parse_payload(&value).expect_err(&value.to_string());
            assert_eq!(error.field, field, "{value}: {error}");
        }
        let error =
            parse_payload(&json!({"type": "actions", "actions": [{"index": "3"}]})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "actions[0].index: expected an integer, got \"3\""
        );
    }

    #[test]
    fn actions_text_matches_the_reference_format() {
        let text = to_text(&parse_payload(&actions_wire()).unwrap());
        assert_eq!(
            text,
            "Session ps_abc — 2 actions\n\
             [0] pageview: User landed on the Dashboard — https://app.example.com/dashboard\n\
             [1] click: User clicked Export CSV — https://app.example.com/dashboard"
        );
        let anonymous = parse_payload(&json!({"type": "actions", "session_id": ""})).unwrap();
        assert_eq!(to_text(&anonymous), "Session unknown — 0 actions");
    }

    #[test]
    fn summary_text_is_the_summary() {
        let payload = parse_payload(&json!({"type": "summary", "summary": "a\nb"})).unwrap();
        assert_eq!(to_text(&payload), "a\nb");
    }

    #[test]
    fn merge_reindexes_and_picks_identity() {
        let mut a = parse_actions_ok(&actions_wire());
        a.forwarded_at = 10.0;
        let b = parse_actions_ok(&json!({
            "type": "actions", "product_id": "other", "session_id": "ps_other",
            "user_id": "u_2", "conversation_id": "c_9", "forwarded_at": 30.0,
            "actions": [{"index": 0, "type": "submit", "description": "sent"}]
        }));
        let c =
            parse_actions_ok(&json!({"type": "actions", "user_id": "u_3", "forwarded_at": 20.0}));
        let merged = merge_actions(&[a, b, c]).unwrap();
        assert_eq!(merged.product_id, "prod_1");
        assert_eq!(merged.session_id.as_deref(), Some("ps_abc"));
        assert_eq!(merged.user_id.as_deref(), Some("u_2"));
        assert_eq!(merged.email.as_deref(), Some("a@example.com"));
        assert_eq!(merged.conversation_id.as_deref(), Some("c_9"));
        assert_eq!(merged.forwarded_at, 30.0);
        assert_eq!(merged.count, 3);
        let indexes: Vec<i64> = merged.actions.iter().map(|a| a.index).collect();
        assert_eq!(indexes, vec![0, 1, 2]);
        assert_eq!(merged.actions[2].action_type, "submit");
    }

    #[test]
    fn merge_of_nothing_is_an_error() {
        assert!(merge_actions(&[]).is_err());
    }
}
