//! Reading integers from JSON values the way a JS caller sees them: an "integer" is a
//! safe integer (see [`crate::core::number`]), whether serde produced it as `i64`, `u64`
//! or `f64`.

use std::ops::RangeInclusive;

use serde_json::Value;

use super::error::ActivityError;
use crate::core::describe::{self, kind};
use crate::core::number::{safe_integer, MAX_SAFE_INTEGER};

/// A JS number as an integer, or a `Range` error naming `field`.
pub fn integer_from_f64(value: f64, field: &str) -> Result<i64, ActivityError> {
    safe_integer(value)
        .ok_or_else(|| ActivityError::range(field, describe::number(value), "an integer"))
}

/// The integer in `value`, checked against `allowed`.
///
/// Not a number -> `InvalidArgument`; a number that is not an integer or outside
/// `allowed` -> `Range`, whose `expected` is `expected`.
pub(crate) fn integer_in(
    value: &Value,
    field: &str,
    allowed: RangeInclusive<i64>,
    expected: &str,
) -> Result<i64, ActivityError> {
    let Value::Number(number) = value else {
        return Err(ActivityError::wrong_type(field, "a number", kind(value)));
    };
    let integer = number
        .as_i64()
        .or_else(|| number.as_f64().and_then(safe_integer));
    match integer {
        Some(i) if allowed.contains(&i) && i.abs() <= MAX_SAFE_INTEGER => Ok(i),
        _ => Err(ActivityError::range(
            field,
            crate::core::json::text(value),
            expected,
        )),
    }
}

/// Any safe integer.
pub(crate) fn any_integer(value: &Value, field: &str) -> Result<i64, ActivityError> {
    integer_in(
        value,
        field,
        -MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER,
        "an integer",
    )
}

/// A JSON object of `fields`, in order.
pub(crate) fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_from_js_numbers() {
        assert_eq!(integer_from_f64(3.0, "x"), Ok(3));
        assert_eq!(integer_from_f64(-0.0, "x"), Ok(0));
        assert_eq!(
            integer_from_f64(MAX_SAFE_INTEGER as f64, "x"),
            Ok(MAX_SAFE_INTEGER)
        );
        for bad in [2.5, f64::NAN, f64::INFINITY, 2f64.powi(60)] {
            let err = integer_from_f64(bad, "ack_stage").unwrap_err();
            assert!(matches!(err, ActivityError::Range { ref field, .. } if field == "ack_stage"));
        }
        assert_eq!(
            integer_from_f64(f64::NAN, "x").unwrap_err().to_string(),
            "x must be an integer, got NaN"
        );
    }

    #[test]
    fn integer_in_range_accepts_whole_floats_and_rejects_the_rest() {
        let stage = |v: Value| integer_in(&v, "ack_stage", 0..=6, "an integer from 0 to 6");
        assert_eq!(stage(json!(3)), Ok(3));
        assert_eq!(stage(json!(3.0)), Ok(3));
        let err = stage(json!(7)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ack_stage must be an integer from 0 to 6, got 7"
        );
        assert!(matches!(
            stage(json!(2.5)),
            Err(ActivityError::Range { .. })
        ));
        assert!(matches!(stage(json!(-1)), Err(ActivityError::Range { .. })));
        assert!(matches!(
            stage(json!(u64::MAX)),
            Err(ActivityError::Range { .. })
        ));
        let err = stage(json!("3")).unwrap_err();
        assert_eq!(err.to_string(), "ack_stage must be a number, got a string");
    }

    #[test]
    fn any_integer_is_bounded_by_safe_integers() {
        assert_eq!(any_integer(&json!(-5), "e"), Ok(-5));
        assert!(any_integer(&json!(1i64 << 60), "e").is_err());
    }
}
