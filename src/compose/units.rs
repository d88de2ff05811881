//! Durations and byte sizes, read and printed the way Docker Compose v2 does.
//!
//! This module owns the string forms only: `parse_duration`/`format_duration`
//! (compose-go reads durations with `go-str2duration`, i.e. Go's
//! `time.ParseDuration` plus `d` and `w`, and prints them with Go's
//! `time.Duration.String()`) and `parse_bytes` (docker/go-units v0.5
//! `RAMInBytes`). It must not know about YAML, services or which field a value
//! came from: integers straight from YAML and field names in error messages
//! are the caller's business. Nothing here panics on input.

const NANOSECOND: i64 = 1;
const MICROSECOND: i64 = 1_000 * NANOSECOND;
const MILLISECOND: i64 = 1_000 * MICROSECOND;
const SECOND: i64 = 1_000 * MILLISECOND;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Why a duration or size string was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum UnitError {
    #[error("invalid duration {input:?}: expected a duration like 1m30s")]
    InvalidDuration { input: String },
    #[error(
        "missing unit in duration {input:?}: expected a duration like 1m30s \
         (only 0 may be written without a unit)"
    )]
    MissingUnit { input: String },
    #[error(
        "unknown unit {unit:?} in duration {input:?}: expected a duration like 1m30s \
         (units: ns, us, µs, ms, s, m, h, d, w)"
    )]
    UnknownUnit { unit: String, input: String },
    #[error(
        "duration {input:?} is out of range: expected a duration like 1m30s, \
         at most 2562047h47m16.854775807s either way"
    )]
    DurationOutOfRange { input: String },
    #[error("invalid size {input:?}: expected a size like 512m")]
    InvalidSize { input: String },
    #[error("invalid size {input:?}: a size cannot be negative; expected a size like 512m")]
    NegativeSize { input: String },
    #[error("invalid number {number:?} in size {input:?}: expected a size like 512m")]
    InvalidSizeNumber { number: String, input: String },
    #[error(
        "invalid suffix {suffix:?} in size {input:?}: expected a size like 512m \
         (suffixes: b, k, m, g, t, p, optionally followed by b or ib)"
    )]
    InvalidSizeSuffix { suffix: String, input: String },
    #[error("size {input:?} is out of range: expected a size like 512m, below 8 EiB")]
    SizeOutOfRange { input: String },
}

/// Parses a Compose duration and returns nanoseconds.
///
/// Grammar and limits follow `go-str2duration/v2`, which compose-go uses:
/// Go's `time.ParseDuration` (units ns, us, µs, μs, ms, s, m, h; fractions;
/// several terms; optional sign; a lone "0") extended with `d` (24h) and
/// `w` (168h). Like that library, and unlike current Go, the magnitude is
/// capped at `i64::MAX`, so `i64::MIN` nanoseconds is out of range.
pub fn parse_duration(s: &str) -> Result<i64, UnitError> {
    let invalid = || UnitError::InvalidDuration {
        input: s.to_owned(),
    };
    let out_of_range = || UnitError::DurationOutOfRange {
        input: s.to_owned(),
    };

    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // Go special-cases a lone zero: it is the only number allowed without a unit.
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }

    let mut total: i64 = 0;
    while let Some(&first) = rest.as_bytes().first() {
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }

        let int_len = digit_run(rest);
        let int_value = leading_int(&rest[..int_len]).ok_or_else(out_of_range)?;
        rest = &rest[int_len..];

        let mut frac_len = 0;
        let (mut frac, mut scale) = (0_i64, 1_f64);
        if let Some(after_dot) = rest.strip_prefix('.') {
            let len = digit_run(after_dot);
            (frac, scale) = leading_fraction(&after_dot[..len]);
            frac_len = len;
            rest = &after_dot[len..];
        }
        // A term needs a digit on one side of the dot: ".s" is not a number.
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }

        // The unit is everything up to the next digit or dot, so "1s " has the
        // unit "s " and "1m-1s" the unit "m-".
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(UnitError::MissingUnit {
                input: s.to_owned(),
            });
        }
        let unit_text = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit = match unit_text {
            "ns" => NANOSECOND,
            // U+00B5 micro sign and U+03BC Greek mu are both accepted.
            "us" | "µs" | "μs" => MICROSECOND,
            "ms" => MILLISECOND,
            "s" => SECOND,
            "m" => MINUTE,
            "h" => HOUR,
            "d" => DAY,
            "w" => WEEK,
            _ => {
                return Err(UnitError::UnknownUnit {
                    unit: unit_text.to_owned(),
                    input: s.to_owned(),
                });
            }
        };

        let mut term = int_value.checked_mul(unit).ok_or_else(out_of_range)?;
        if frac > 0 {
            // Go computes the fraction in float64 exactly this way; keeping the
            // same operations keeps results bit-identical (e.g. "0.1h").
            // The product is below one unit, so the cast cannot saturate.
            let frac_nanos = (frac as f64 * (unit as f64 / scale)) as i64;
            term = term.checked_add(frac_nanos).ok_or_else(out_of_range)?;
        }
        total = total.checked_add(term).ok_or_else(out_of_range)?;
    }
    Ok(if neg { -total } else { total })
}

/// Length in bytes of the leading run of ASCII digits.
fn digit_run(s: &str) -> usize {
    s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())
}

/// Value of a run of ASCII digits, or `None` when it exceeds `i64::MAX`.
fn leading_int(digits: &str) -> Option<i64> {
    digits.bytes().try_fold(0_i64, |acc, b| {
        acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
}

/// Fraction digits as Go's `leadingFraction` reads them: once another digit
/// would overflow, later digits are dropped instead of failing.
fn leading_fraction(digits: &str) -> (i64, f64) {
    let mut value = 0_i64;
    let mut scale = 1_f64;
    for b in digits.bytes() {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
        {
            Some(next) => {
                value = next;
                scale *= 10.0;
            }
            None => break,
        }
    }
    (value, scale)
}

/// Formats nanoseconds like Go's `time.Duration.String()`.
///
/// From one second up, hours/minutes/seconds with a fractional second
/// ("1h0m0s", "1m30s", "1.5s"); below one second, the largest of ms, µs
/// (U+00B5) or ns that keeps the integer part non-zero ("100ms", "1.5µs");
/// zero is "0s". Fractions never carry trailing zeros.
pub fn format_duration(nanos: i64) -> String {
    let magnitude = nanos.unsigned_abs();
    if magnitude == 0 {
        return "0s".to_owned();
    }
    let body = if magnitude < SECOND as u64 {
        let (unit, prec) = if magnitude < MICROSECOND as u64 {
            ("ns", 0)
        } else if magnitude < MILLISECOND as u64 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        let (whole, frac) = split_fraction(magnitude, prec);
        format!("{whole}{frac}{unit}")
    } else {
        let (whole_seconds, frac) = split_fraction(magnitude, 9);
        let seconds = whole_seconds % 60;
        let minutes = whole_seconds / 60;
        // Go stops at hours because days vary in length; once a larger unit
        // appears, the smaller ones are always printed, even when zero.
        if minutes == 0 {
            format!("{seconds}{frac}s")
        } else if minutes < 60 {
            format!("{minutes}m{seconds}{frac}s")
        } else {
            format!("{}h{}m{seconds}{frac}s", minutes / 60, minutes % 60)
        }
    };
    if nanos < 0 { format!("-{body}") } else { body }
}

/// Splits `value` into `value / 10^prec` and the fraction as ".ddd" without
/// trailing zeros (empty when the fraction is zero), like Go's `fmtFrac`.
fn split_fraction(value: u64, prec: u32) -> (u64, String) {
    let divisor = 10_u64.pow(prec);
    let frac = value % divisor;
    if frac == 0 {
        return (value / divisor, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (
        value / divisor,
        format!(".{}", digits.trim_end_matches('0')),
    )
}

/// Parses a memory size into bytes like docker/go-units v0.5 `RAMInBytes`.
///
/// The number is everything up to the last digit, dot or space (a single
/// space may separate it from the suffix: "1 k"); it is read as a Go float,
/// so "1.5g", "1e3k", "1_000" and hex floats such as "0x1p4" are accepted and
/// the result is truncated towards zero. Suffixes are case-insensitive binary
/// multipliers `k m g t p`, optionally followed by `b` or `ib`, or a bare `b`.
/// Go turns results of 8 EiB and more into `i64::MIN`; here they are errors.
pub fn parse_bytes(s: &str) -> Result<i64, UnitError> {
    let input = || s.to_owned();
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(UnitError::InvalidSize { input: input() });
    };
    // One space may separate number and suffix; a second one stays in the
    // number and makes it invalid ("1  k").
    let (number, suffix) = if s[sep..].starts_with(' ') {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };

    let size = match parse_go_float(number) {
        Ok(size) => size,
        Err(FloatError::Syntax) => {
            return Err(UnitError::InvalidSizeNumber {
                number: number.to_owned(),
                input: input(),
            });
        }
        Err(FloatError::Range) => return Err(UnitError::SizeOutOfRange { input: input() }),
    };
    // go-units rejects negatives but lets "-0" through as zero.
    if size < 0.0 {
        return Err(UnitError::NegativeSize { input: input() });
    }
    if suffix.is_empty() {
        return float_to_bytes(size, s);
    }

    let bad_suffix = |suffix: &str| UnitError::InvalidSizeSuffix {
        suffix: suffix.to_owned(),
        input: input(),
    };
    // The length limit is checked on the suffix as written, in bytes, before
    // lowercasing; the rest of the checks look at bytes of the lowercased
    // form, which is why "1kȺ" (lowercase 'ⱥ' is three bytes) still means 1k.
    if suffix.len() > 3 {
        return Err(bad_suffix(suffix));
    }
    let lower = go_to_lower(suffix);
    let bytes = lower.as_bytes();
    let multiplier: i64 = match bytes.first() {
        Some(b'b') if bytes.len() == 1 => return float_to_bytes(size, s),
        Some(b'k') => 1 << 10,
        Some(b'm') => 1 << 20,
        Some(b'g') => 1 << 30,
        Some(b't') => 1 << 40,
        Some(b'p') => 1 << 50,
        _ => return Err(bad_suffix(&lower)),
    };
    let valid_tail = match bytes.len() {
        2 => bytes[1] == b'b',
        3 => &bytes[1..] == b"ib",
        _ => true,
    };
    if !valid_tail {
        return Err(bad_suffix(&lower));
    }
    float_to_bytes(size * multiplier as f64, s)
}

/// Go's `int64(f)` for a finite, non-negative float: truncation, with values
/// that do not fit reported instead of wrapped to `i64::MIN`.
fn float_to_bytes(size: f64, input: &str) -> Result<i64, UnitError> {
    // 2^63 is exactly representable; everything below it fits in an i64.
    if size.is_finite() && size < 9_223_372_036_854_775_808.0 {
        Ok(size as i64)
    } else {
        Err(UnitError::SizeOutOfRange {
            input: input.to_owned(),
        })
    }
}

/// Go's `strings.ToLower`, which maps each rune on its own: for the few
/// characters whose full lowercase is several characters, Go keeps one.
fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FloatError {
    Syntax,
    Range,
}

/// Go's `strconv.ParseFloat(s, 64)` for the inputs `parse_bytes` can pass:
/// those end in a digit or dot, so the "inf"/"nan" spellings never reach it
/// and are not accepted. Decimal: optional sign, digits with at most one dot,
/// optional `e` exponent. Hex: `0x` mantissa with a mandatory `p` exponent.
/// Underscores may separate digits as in Go literals. Overflow is `Range`;
/// underflow is zero.
fn parse_go_float(s: &str) -> Result<f64, FloatError> {
    let scan = scan_go_float(s).ok_or(FloatError::Syntax)?;
    let value = match scan.hex {
        None => {
            let cleaned: String = s.chars().filter(|&c| c != '_').collect();
            // Rust's parser accepts the same decimal syntax (once underscores
            // are gone) and is correctly rounded, as Go's is.
            cleaned.parse::<f64>().map_err(|_| FloatError::Syntax)?
        }
        Some(hex) => hex_to_f64(hex).ok_or(FloatError::Range)?,
    };
    if value.is_infinite() {
        return Err(FloatError::Range);
    }
    Ok(value)
}

struct FloatScan {
    /// For hex floats, the value as mantissa × 2^exponent; `None` for decimal.
    hex: Option<HexFloat>,
}

struct HexFloat {
    negative: bool,
    mantissa: u64,
    exponent: i64,
    /// Non-zero digits were dropped beyond the 16 that fit in the mantissa.
    truncated: bool,
}

/// Checks `s` against the syntax Go's `readFloat` accepts (requiring the whole
/// string to be consumed) and, for hex floats, collects the value.
fn scan_go_float(s: &str) -> Option<FloatScan> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut negative = false;
    match b.first() {
        Some(b'+') => i += 1,
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    // Go only takes the hex path when something follows the "0x".
    let hex = i + 2 < b.len() && b[i] == b'0' && b[i + 1].eq_ignore_ascii_case(&b'x');
    if hex {
        i += 2;
    }

    let mut underscores = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    let (mut nd, mut nd_mant, mut dp) = (0_i64, 0_i64, 0_i64);
    let mut mantissa = 0_u64;
    let mut truncated = false;
    while i < b.len() {
        let c = b[i];
        let digit = if c.is_ascii_digit() {
            Some(c - b'0')
        } else if hex && c.is_ascii_hexdigit() {
            Some(c.to_ascii_lowercase() - b'a' + 10)
        } else {
            None
        };
        match (c, digit) {
            (b'_', _) => underscores = true,
            (b'.', _) if !saw_dot => {
                saw_dot = true;
                dp = nd;
            }
            (_, Some(d)) => {
                saw_digits = true;
                if d == 0 && nd == 0 {
                    // Leading zeros only move the point.
                    dp -= 1;
                } else {
                    nd += 1;
                    if nd_mant < 16 {
                        mantissa = mantissa * 16 + u64::from(d);
                        nd_mant += 1;
                    } else if d != 0 {
                        truncated = true;
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        dp = nd;
    }
    if hex {
        dp *= 4;
        nd_mant *= 4;
    }

    let exp_char = if hex { b'p' } else { b'e' };
    if i < b.len() && b[i].eq_ignore_ascii_case(&exp_char) {
        i += 1;
        let mut sign = 1;
        match b.get(i) {
            Some(b'+') => i += 1,
            Some(b'-') => {
                sign = -1;
                i += 1;
            }
            _ => {}
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut e = 0_i64;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                underscores = true;
            } else if e < 10_000 {
                // Go stops accumulating here; the value is far out of range anyway.
                e = e * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        dp += sign * e;
    } else if hex {
        return None;
    }

    if i != b.len() || (underscores && !underscores_ok(s)) {
        return None;
    }
    let hex = hex.then(|| HexFloat {
        negative,
        mantissa,
        exponent: if mantissa == 0 { 0 } else { dp - nd_mant },
        truncated,
    });
    Some(FloatScan { hex })
}

/// Go's `underscoreOK`: an underscore must sit between digits, or between a
/// base prefix and a digit.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    // What came last: '^' start, '0' digit or prefix, '_' underscore, '!' other.
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2
        && b[i] == b'0'
        && matches!(b[i + 1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        hex = b[i + 1].eq_ignore_ascii_case(&b'x');
        saw = b'0';
        i += 2;
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// mantissa × 2^exponent rounded to nearest-even, or `None` on overflow.
/// Subnormal results may be rounded twice; they are far below one byte.
fn hex_to_f64(hex: HexFloat) -> Option<f64> {
    let HexFloat {
        negative,
        mut mantissa,
        mut exponent,
        truncated,
    } = hex;
    let sign = if negative { -1.0 } else { 1.0 };
    if mantissa == 0 {
        return Some(sign * 0.0);
    }
    let bits = 64 - i64::from(mantissa.leading_zeros());
    if bits > 53 {
        let shift = bits - 53;
        let dropped = mantissa & ((1_u64 << shift) - 1);
        let half = 1_u64 << (shift - 1);
        mantissa >>= shift;
        exponent += shift;
        let round_up = dropped > half || (dropped == half && (truncated || mantissa & 1 == 1));
        if round_up {
            mantissa += 1;
        }
    }
    // Past these bounds the result is certainly infinite or zero; clamping
    // keeps the scaling loop short for absurd exponents.
    if exponent > 2_100 {
        return None;
    }
    let mut value = mantissa as f64;
    let mut remaining = exponent.max(-2_200);
    while remaining != 0 {
        let step = remaining.clamp(-1_000, 1_000);
        value *= 2_f64.powi(step as i32);
        remaining -= step;
    }
    if value.is_infinite() {
        None
    } else {
        Some(sign * value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dur(s: &str) -> i64 {
        parse_duration(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn bytes(s: &str) -> i64 {
        parse_bytes(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    // --- parse_duration: accepted forms (each checked against compose v2.40.3)

    #[test]
    fn duration_lone_zero_needs_no_unit_with_or_without_sign() {
        assert_eq!(dur("0"), 0);
        assert_eq!(dur("-0"), 0);
        assert_eq!(dur("+0"), 0);
        assert_eq!(dur("0s"), 0);
        assert_eq!(dur("-0s"), 0);
    }

    #[test]
    fn duration_every_unit_is_recognised() {
        assert_eq!(dur("1ns"), 1);
        assert_eq!(dur("1us"), 1_000);
        assert_eq!(dur("1µs"), 1_000); // U+00B5 micro sign
        assert_eq!(dur("1μs"), 1_000); // U+03BC Greek mu
        assert_eq!(dur("1ms"), 1_000_000);
        assert_eq!(dur("1s"), SECOND);
        assert_eq!(dur("1m"), MINUTE);
        assert_eq!(dur("1h"), HOUR);
        assert_eq!(dur("1d"), 24 * HOUR);
        assert_eq!(dur("1w"), 168 * HOUR);
    }

    #[test]
    fn duration_fractions_and_several_terms_add_up() {
        assert_eq!(dur("1.5s"), 1_500_000_000);
        assert_eq!(dur("1h2m3.5s"), HOUR + 2 * MINUTE + 3_500_000_000);
        assert_eq!(dur("1m30s"), 90 * SECOND);
        assert_eq!(dur("1.5us"), 1_500);
        assert_eq!(dur("1.5d"), 36 * HOUR);
        assert_eq!(dur("0.5w"), 84 * HOUR);
        assert_eq!(dur("1w2d3h"), 219 * HOUR);
        assert_eq!(dur("1h1d"), 25 * HOUR);
        assert_eq!(dur("1h1h"), 2 * HOUR);
    }

    #[test]
    fn duration_dot_may_lead_or_trail_the_digits() {
        assert_eq!(dur(".5s"), 500_000_000);
        assert_eq!(dur("5.s"), 5 * SECOND);
        assert_eq!(dur("-.5s"), -500_000_000);
        assert_eq!(dur("00001s"), SECOND);
    }

    #[test]
    fn duration_sign_applies_to_the_whole_value() {
        assert_eq!(dur("-1s"), -SECOND);
        assert_eq!(dur("+1s"), SECOND);
        assert_eq!(dur("-1m30s"), -90 * SECOND);
    }

    #[test]
    fn duration_sub_nanosecond_fractions_truncate() {
        assert_eq!(dur("0.5ns"), 0);
        assert_eq!(dur("1.9ns"), 1);
        assert_eq!(dur("0.1ns"), 0);
        assert_eq!(dur("0.0000000001s"), 0);
        assert_eq!(dur("1.0000000009s"), SECOND);
    }

    #[test]
    fn duration_overlong_fraction_digits_are_ignored_not_rejected() {
        assert_eq!(dur("1.000000000000000000001s"), SECOND);
        assert_eq!(dur("1.123456789123456789123456789s"), 1_123_456_789);
    }

    #[test]
    fn duration_fraction_uses_go_float_arithmetic() {
        // f * (unit / scale) in float64, then truncation.
        assert_eq!(dur("0.1h"), 360_000_000_000);
        assert_eq!(
            dur("0.3333333333333h"),
            (3_333_333_333_333_f64 * (3.6e12 / 1e13)) as i64
        );
    }

    #[test]
    fn duration_range_ends_at_i64_max_in_both_directions() {
        assert_eq!(dur("9223372036854775807ns"), i64::MAX);
        assert_eq!(dur("2562047h47m16.854775807s"), i64::MAX);
        assert_eq!(dur("-2562047h47m16.854775807s"), -i64::MAX);
        assert_eq!(dur("2562047h"), 2_562_047 * HOUR);
        assert_eq!(dur("106751d"), 106_751 * DAY);
        assert_eq!(dur("15250w"), 15_250 * WEEK);
    }

    // --- parse_duration: rejected forms, with compose's wording in comments

    fn dur_err(s: &str) -> UnitError {
        match parse_duration(s) {
            Ok(v) => panic!("{s:?} should be rejected, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn duration_bare_number_other_than_zero_is_missing_its_unit() {
        // compose: time: missing unit in duration "1"
        assert_eq!(dur_err("1"), UnitError::MissingUnit { input: "1".into() });
        assert_eq!(
            dur_err("1m1"),
            UnitError::MissingUnit {
                input: "1m1".into()
            }
        );
        assert_eq!(
            dur_err("1.5.5s"),
            UnitError::MissingUnit {
                input: "1.5.5s".into()
            }
        );
        assert_eq!(
            dur_err("1..5s"),
            UnitError::MissingUnit {
                input: "1..5s".into()
            }
        );
    }

    #[test]
    fn duration_units_are_case_sensitive_and_exact() {
        // compose: time: unknown unit "S" in duration "1S"
        let unknown = |unit: &str, input: &str| UnitError::UnknownUnit {
            unit: unit.into(),
            input: input.into(),
        };
        assert_eq!(dur_err("1S"), unknown("S", "1S"));
        assert_eq!(dur_err("1D"), unknown("D", "1D"));
        assert_eq!(dur_err("1W"), unknown("W", "1W"));
        assert_eq!(dur_err("1µ"), unknown("µ", "1µ"));
        assert_eq!(dur_err("1e3s"), unknown("e", "1e3s"));
        assert_eq!(dur_err("1_0s"), unknown("_", "1_0s"));
    }

    #[test]
    fn duration_unit_runs_until_the_next_digit_or_dot() {
        assert_eq!(
            dur_err("1s "),
            UnitError::UnknownUnit {
                unit: "s ".into(),
                input: "1s ".into()
            }
        );
        assert_eq!(
            dur_err("1m-1s"),
            UnitError::UnknownUnit {
                unit: "m-".into(),
                input: "1m-1s".into()
            }
        );
    }

    #[test]
    fn duration_without_digits_is_invalid() {
        for s in [
            "", ".", "s", "-", "+", "-.", "+s", " 1s", ".s", "1s.s", "--1s",
        ] {
            assert_eq!(
                dur_err(s),
                UnitError::InvalidDuration { input: s.into() },
                "{s:?}"
            );
        }
    }

    #[test]
    fn duration_past_i64_max_is_out_of_range() {
        // compose: time: invalid duration "2562048h"
        for s in [
            "2562048h",
            "106752d",
            "15251w",
            "9223372036854775808ns",
            "100000000000000000000ns",
            "2562047h47m16.854775808s",
            "-2562047h47m16.854775808s",
            "-9223372036854775808ns",
            "9223372036854775807ns1ns",
        ] {
            assert_eq!(
                dur_err(s),
                UnitError::DurationOutOfRange { input: s.into() },
                "{s:?}"
            );
        }
    }

    #[test]
    fn duration_errors_name_the_input_and_show_an_example() {
        assert_eq!(
            dur_err("1").to_string(),
            "missing unit in duration \"1\": expected a duration like 1m30s \
             (only 0 may be written without a unit)"
        );
        assert_eq!(
            dur_err("1S").to_string(),
            "unknown unit \"S\" in duration \"1S\": expected a duration like 1m30s \
             (units: ns, us, µs, ms, s, m, h, d, w)"
        );
        assert_eq!(
            dur_err("x").to_string(),
            "invalid duration \"x\": expected a duration like 1m30s"
        );
        assert!(dur_err("2562048h").to_string().contains("out of range"));
    }

    // --- format_duration (outputs as printed by `docker compose config`)

    #[test]
    fn format_zero_is_zero_seconds() {
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn format_below_a_microsecond_uses_nanoseconds() {
        assert_eq!(format_duration(1), "1ns");
        assert_eq!(format_duration(999), "999ns");
    }

    #[test]
    fn format_below_a_millisecond_uses_micro_sign() {
        assert_eq!(format_duration(1_000), "1µs");
        assert_eq!(format_duration(1_500), "1.5µs");
        assert_eq!(format_duration(2_000), "2µs");
        assert_eq!(format_duration(999_999), "999.999µs");
        assert_eq!(format_duration(1_000).chars().nth(1), Some('\u{b5}'));
    }

    #[test]
    fn format_below_a_second_uses_milliseconds() {
        assert_eq!(format_duration(1_000_000), "1ms");
        assert_eq!(format_duration(1_001_000), "1.001ms");
        assert_eq!(format_duration(100_000_000), "100ms");
        assert_eq!(format_duration(500_000_000), "500ms");
        assert_eq!(format_duration(999_999_999), "999.999999ms");
    }

    #[test]
    fn format_from_a_second_uses_seconds_with_fraction() {
        assert_eq!(format_duration(SECOND), "1s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(59 * SECOND), "59s");
        assert_eq!(format_duration(SECOND + 1), "1.000000001s");
    }

    #[test]
    fn format_larger_units_always_carry_the_smaller_ones() {
        assert_eq!(format_duration(MINUTE), "1m0s");
        assert_eq!(format_duration(90 * SECOND), "1m30s");
        assert_eq!(format_duration(HOUR), "1h0m0s");
        assert_eq!(format_duration(HOUR + SECOND), "1h0m1s");
        assert_eq!(
            format_duration(HOUR + 2 * MINUTE + 3_500_000_000),
            "1h2m3.5s"
        );
    }

    #[test]
    fn format_has_no_day_or_week_unit() {
        assert_eq!(format_duration(DAY), "24h0m0s");
        assert_eq!(format_duration(WEEK), "168h0m0s");
        assert_eq!(format_duration(36 * HOUR), "36h0m0s");
    }

    #[test]
    fn format_negative_values_get_a_leading_minus() {
        assert_eq!(format_duration(-SECOND), "-1s");
        assert_eq!(format_duration(-500_000_000), "-500ms");
        assert_eq!(format_duration(-90 * SECOND), "-1m30s");
    }

    #[test]
    fn format_extremes_do_not_overflow() {
        assert_eq!(format_duration(i64::MAX), "2562047h47m16.854775807s");
        assert_eq!(format_duration(i64::MIN), "-2562047h47m16.854775808s");
    }

    // --- parse_bytes: accepted forms (each checked against compose v2.40.3)

    #[test]
    fn bytes_plain_numbers_are_bytes() {
        assert_eq!(bytes("0"), 0);
        assert_eq!(bytes("1024"), 1024);
        assert_eq!(bytes("00012"), 12);
        assert_eq!(bytes("+5"), 5);
        assert_eq!(bytes("-0"), 0);
    }

    #[test]
    fn bytes_suffixes_are_binary_and_case_insensitive() {
        assert_eq!(bytes("1k"), 1024);
        assert_eq!(bytes("1K"), 1024);
        assert_eq!(bytes("512m"), 536_870_912);
        assert_eq!(bytes("512M"), 536_870_912);
        assert_eq!(bytes("64M"), 67_108_864);
        assert_eq!(bytes("1g"), 1_073_741_824);
        assert_eq!(bytes("1t"), 1_099_511_627_776);
        assert_eq!(bytes("1p"), 1_125_899_906_842_624);
    }

    #[test]
    fn bytes_suffix_may_end_in_b_or_ib() {
        assert_eq!(bytes("1kb"), 1024);
        assert_eq!(bytes("1gb"), 1_073_741_824);
        assert_eq!(bytes("1GB"), 1_073_741_824);
        assert_eq!(bytes("1KiB"), 1024);
        assert_eq!(bytes("1KIB"), 1024);
        assert_eq!(bytes("1mib"), 1_048_576);
        assert_eq!(bytes("2.5kib"), 2560);
    }

    #[test]
    fn bytes_bare_b_suffix_means_bytes() {
        assert_eq!(bytes("1b"), 1);
        assert_eq!(bytes("1B"), 1);
        assert_eq!(bytes("1.5b"), 1);
    }

    #[test]
    fn bytes_decimals_are_accepted_and_truncated() {
        assert_eq!(bytes("1.5g"), 1_610_612_736);
        assert_eq!(bytes("1.5"), 1);
        assert_eq!(bytes("1.9"), 1);
        assert_eq!(bytes("0.9"), 0);
        assert_eq!(bytes(".5k"), 512);
        assert_eq!(bytes("5.k"), 5120);
    }

    #[test]
    fn bytes_number_is_a_go_float_literal() {
        assert_eq!(bytes("1e3"), 1000);
        assert_eq!(bytes("1E2"), 100);
        assert_eq!(bytes("1e+2"), 100);
        assert_eq!(bytes("5.e1"), 50);
        assert_eq!(bytes("1e3k"), 1_024_000);
        assert_eq!(bytes("1.5e3m"), 1_572_864_000);
        assert_eq!(bytes("1e-400"), 0);
        assert_eq!(bytes("1_000"), 1000);
        assert_eq!(bytes("1_0k"), 10240);
        assert_eq!(bytes("1e1_0"), 10_000_000_000);
    }

    #[test]
    fn bytes_hex_floats_need_a_binary_exponent() {
        assert_eq!(bytes("0x1p4"), 16);
        assert_eq!(bytes("0X1P4"), 16);
        assert_eq!(bytes("+0x1p4"), 16);
        assert_eq!(bytes("0x.8p1"), 1);
        assert_eq!(bytes("0x1.8p1k"), 3072);
        assert_eq!(bytes("0x_1p4"), 16);
        assert_eq!(bytes("0xAp0"), 10);
        assert_eq!(bytes("0x.01p8"), 1);
        assert_eq!(
            bytes("0x1fffffffffffffffffp-20"),
            (0x1f_ffff_ffff_ffff_ffff_u128 >> 20) as i64 + 1
        );
    }

    #[test]
    fn bytes_one_space_may_separate_number_and_suffix() {
        assert_eq!(bytes("1 k"), 1024);
        assert_eq!(bytes("1 kb"), 1024);
        assert_eq!(bytes("1 "), 1);
    }

    #[test]
    fn bytes_suffix_is_lowercased_per_character_like_go() {
        // Kelvin sign lowercases to 'k'; 'Ⱥ' lowercases to a three-byte
        // character, which makes go-units skip its tail check.
        assert_eq!(bytes("1\u{212a}"), 1024);
        assert_eq!(bytes("1kȺ"), 1024);
    }

    #[test]
    fn bytes_largest_values_below_8_eib_are_kept() {
        assert_eq!(bytes("9223372036854774784"), 9_223_372_036_854_774_784);
        // Rounds to the same float64 in Go.
        assert_eq!(bytes("9223372036854774785"), 9_223_372_036_854_774_784);
        assert_eq!(bytes("8191p"), 9_222_246_136_947_933_184);
        assert_eq!(bytes("8191.99999999999p"), 9_223_372_036_854_764_544);
    }

    // --- parse_bytes: rejected forms, with go-units' wording in comments

    fn bytes_err(s: &str) -> UnitError {
        match parse_bytes(s) {
            Ok(v) => panic!("{s:?} should be rejected, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bytes_without_any_digit_is_invalid() {
        // compose: invalid size: 'k'
        for s in ["", "k", "inf", "NaN", "１k", "-"] {
            assert_eq!(
                bytes_err(s),
                UnitError::InvalidSize { input: s.into() },
                "{s:?}"
            );
        }
    }

    #[test]
    fn bytes_negative_is_rejected() {
        // compose: invalid size: '-1k'
        for s in ["-1", "-1k", "-0x1p4", "-0.5", "-1x"] {
            assert_eq!(
                bytes_err(s),
                UnitError::NegativeSize { input: s.into() },
                "{s:?}"
            );
        }
    }

    #[test]
    fn bytes_malformed_number_is_rejected() {
        // compose: strconv.ParseFloat: parsing "1 ": invalid syntax
        let cases = [
            ("1  k", "1 "),
            (" 1k", " 1"),
            ("1k ", "1k"),
            (".", "."),
            ("1.5.5k", "1.5.5"),
            ("0x10", "0x10"),
            ("0x1p", "0x1"),
            ("0b1", "0b1"),
            ("1,5g", "1,5"),
            ("_1", "_1"),
            ("1__0", "1__0"),
            ("1_.5", "1_.5"),
            (".e1", ".e1"),
        ];
        for (s, number) in cases {
            assert_eq!(
                bytes_err(s),
                UnitError::InvalidSizeNumber {
                    number: number.into(),
                    input: s.into()
                },
                "{s:?}"
            );
        }
    }

    #[test]
    fn bytes_unknown_suffix_is_rejected() {
        // compose: invalid suffix: 'bb' (lowercased, except when too long)
        let cases = [
            ("10bb", "bb"),
            ("1e", "e"),
            ("1e+", "e+"),
            ("1x", "x"),
            ("1ki", "ki"),
            ("1kbb", "kbb"),
            ("1gi", "gi"),
            ("1KBBB", "KBBB"),
            ("1KBB", "kbb"),
            ("1_", "_"),
        ];
        for (s, suffix) in cases {
            assert_eq!(
                bytes_err(s),
                UnitError::InvalidSizeSuffix {
                    suffix: suffix.into(),
                    input: s.into()
                },
                "{s:?}"
            );
        }
    }

    #[test]
    fn bytes_of_8_eib_or_more_are_out_of_range() {
        // Go turns these into i64::MIN (compose prints -9223372036854775808).
        for s in [
            "9223372036854775807",
            "9223372036854775808",
            "8192p",
            "1e30",
            "1e400",
            "1e308k",
            "0x1p63",
            "0x1p99999",
        ] {
            assert_eq!(
                bytes_err(s),
                UnitError::SizeOutOfRange { input: s.into() },
                "{s:?}"
            );
        }
    }

    #[test]
    fn bytes_errors_name_the_input_and_show_an_example() {
        assert_eq!(
            bytes_err("10bb").to_string(),
            "invalid suffix \"bb\" in size \"10bb\": expected a size like 512m \
             (suffixes: b, k, m, g, t, p, optionally followed by b or ib)"
        );
        assert_eq!(
            bytes_err("-1").to_string(),
            "invalid size \"-1\": a size cannot be negative; expected a size like 512m"
        );
        assert_eq!(
            bytes_err("k").to_string(),
            "invalid size \"k\": expected a size like 512m"
        );
        assert_eq!(
            bytes_err("1,5g").to_string(),
            "invalid number \"1,5\" in size \"1,5g\": expected a size like 512m"
        );
    }

    // --- properties

    const UNITS: [(&str, i64); 10] = [
        ("ns", NANOSECOND),
        ("us", MICROSECOND),
        ("µs", MICROSECOND),
        ("μs", MICROSECOND),
        ("ms", MILLISECOND),
        ("s", SECOND),
        ("m", MINUTE),
        ("h", HOUR),
        ("d", DAY),
        ("w", WEEK),
    ];

    proptest! {
        #[test]
        fn prop_format_then_parse_round_trips(n in (i64::MIN + 1)..=i64::MAX) {
            prop_assert_eq!(parse_duration(&format_duration(n)), Ok(n));
        }

        #[test]
        fn prop_format_then_parse_round_trips_small(n in -10_000_000_000_000_i64..10_000_000_000_000) {
            prop_assert_eq!(parse_duration(&format_duration(n)), Ok(n));
        }

        #[test]
        fn prop_integer_with_unit_multiplies(n in 0_i64..1_000_000, idx in 0..UNITS.len()) {
            let (unit, nanos) = UNITS[idx];
            match n.checked_mul(nanos) {
                Some(v) => {
                    prop_assert_eq!(parse_duration(&format!("{n}{unit}")), Ok(v));
                    prop_assert_eq!(parse_duration(&format!("-{n}{unit}")), Ok(-v));
                }
                None => {
                    let input = format!("{n}{unit}");
                    prop_assert!(parse_duration(&input).is_err());
                }
            }
        }

        #[test]
        fn prop_parse_duration_never_panics(s in any::<String>()) {
            let _ = parse_duration(&s);
        }

        #[test]
        fn prop_parse_duration_never_panics_on_near_misses(s in "[-+]?[0-9.]{0,25}[a-zµμ. _-]{0,3}([0-9.]{0,22}[a-zµμ]{0,2}){0,3}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn prop_parse_bytes_never_panics(s in any::<String>()) {
            let _ = parse_bytes(&s);
        }

        #[test]
        fn prop_parse_bytes_never_panics_on_near_misses(s in "[-+]?(0[xXbo])?[0-9a-fA-F._]{0,25}([eEpP][-+]?[0-9_]{0,6})? ?[kKmMgGtTpPbBiIȺ\u{212a}]{0,4}") {
            let _ = parse_bytes(&s);
        }

        #[test]
        fn prop_plain_integers_are_bytes(n in 0_i64..(1 << 53)) {
            prop_assert_eq!(parse_bytes(&n.to_string()), Ok(n));
            prop_assert_eq!(parse_bytes(&format!("{n}b")), Ok(n));
        }

        #[test]
        fn prop_suffix_multiplies_by_powers_of_1024(n in 0_i64..1_000_000, idx in 0_usize..5, tail in prop::sample::select(vec!["", "b", "B", "ib", "iB", "IB"])) {
            let letters = ["k", "M", "g", "T", "p"];
            let shift = 10 * (idx as u32 + 1);
            let input = format!("{n}{}{tail}", letters[idx]);
            // n < 2^53, so n × 2^shift is exact in float64 as in Go.
            match n.checked_mul(1 << shift) {
                Some(v) => prop_assert_eq!(parse_bytes(&input), Ok(v)),
                None => prop_assert!(parse_bytes(&input).is_err()),
            }
        }
    }
}
