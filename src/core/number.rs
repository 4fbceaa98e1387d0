//! JS's one number type, as the cores read it: an integer is a finite number without a
//! fractional part whose magnitude is at most `Number.MAX_SAFE_INTEGER`.

/// `Number.MAX_SAFE_INTEGER`: the largest integer a JS number holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// `value` as an integer when it is a safe integer (`Number.isSafeInteger`).
pub fn safe_integer(value: f64) -> Option<i64> {
    let whole = value.is_finite() && value.fract() == 0.0;
    (whole && value.abs() <= MAX_SAFE_INTEGER as f64).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_integers_are_whole_finite_and_in_range() {
        assert_eq!(safe_integer(3.0), Some(3));
        assert_eq!(safe_integer(-0.0), Some(0));
        assert_eq!(
            safe_integer(MAX_SAFE_INTEGER as f64),
            Some(MAX_SAFE_INTEGER)
        );
        assert_eq!(
            safe_integer(-(MAX_SAFE_INTEGER as f64)),
            Some(-MAX_SAFE_INTEGER)
        );
        for bad in [2.5, f64::NAN, f64::INFINITY, 2f64.powi(53), 2f64.powi(60)] {
            assert_eq!(safe_integer(bad), None, "{bad}");
        }
    }
}
