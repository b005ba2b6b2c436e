//! Go's `strconv` float formatting (`'e'`, `'f'`, `'g'`), which `fmt`,
//! `encoding/json` and go-units all sit on.
//!
//! Rust's own float formatting already produces the two things Go needs —
//! the shortest round-tripping digits (`{:e}`) and correctly rounded
//! fixed-precision digits (`{:.Ne}`, round-half-even on the exact binary
//! value, as Go's `strconv` does) — so this module only re-lays those digits
//! out the way Go prints them.

/// A finite float as decimal digits: `0.d1d2d3… × 10^dp`, like Go's
/// `decimalSlice`. `digits` has no trailing zeros and is empty for zero.
struct Decimal {
    neg: bool,
    digits: Vec<u8>,
    dp: i32,
}

impl Decimal {
    /// Parses Rust's `{:e}` output (`-1.2345e-7`) into digits and exponent.
    fn from_exp_str(s: &str) -> Decimal {
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        // Rust writes d.ddd × 10^exp; Go's dp counts digits before the point.
        Decimal {
            neg,
            digits,
            dp: exp + 1,
        }
    }

    /// The shortest digits that read back as `v`.
    fn shortest(v: f64) -> Decimal {
        Decimal::from_exp_str(&format!("{v:e}"))
    }

    /// `v` rounded to `sig` significant digits (at least one).
    fn significant(v: f64, sig: usize) -> Decimal {
        let sig = sig.max(1);
        Decimal::from_exp_str(&format!("{:.*e}", sig - 1, v))
    }

    fn digit(&self, i: i32) -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .map_or('0', |&d| char::from(d))
    }

    /// Go's `fmtE`: one digit, optional fraction of `prec` digits, and an
    /// exponent of at least two digits (`1e+06`, `1.5e-07`).
    fn fmt_e(&self, prec: usize) -> String {
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        out.push(self.digit(0));
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(self.digit(i32::try_from(i).unwrap_or(i32::MAX)));
            }
        }
        // Zero has no digits; Go prints its exponent as +00.
        let exp = if self.digits.is_empty() {
            0
        } else {
            self.dp - 1
        };
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
        out
    }

    /// Go's `fmtF`: integer part (at least `0`), then `prec` fraction digits.
    fn fmt_f(&self, prec: usize) -> String {
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        if self.dp > 0 {
            for i in 0..self.dp {
                out.push(self.digit(i));
            }
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            for i in 0..prec {
                out.push(self.digit(self.dp + i32::try_from(i).unwrap_or(i32::MAX)));
            }
        }
        out
    }

    /// Go's `%g` layout once the digits are fixed. `eprec` is the exponent
    /// threshold: the precision, or 6 for shortest formatting.
    fn fmt_g(&self, prec: usize, eprec: i32) -> String {
        let nd = self.digits.len();
        let exp = self.dp - 1;
        if exp < -4 || exp >= eprec {
            // Trailing zeros are never printed by %g.
            return self.fmt_e(prec.min(nd).saturating_sub(1));
        }
        let frac = i64::try_from(nd).unwrap_or(i64::MAX) - i64::from(self.dp);
        self.fmt_f(usize::try_from(frac).unwrap_or(0))
    }
}

/// Go's `%v` / `strconv.FormatFloat(v, 'g', -1, 64)`: shortest digits,
/// exponent form when the exponent is below -4 or at least 6 (a fixed 6, not
/// the digit count: Go prints `1e+06` and `1.234567e+06` but `123456`).
pub(crate) fn format_shortest_g(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s;
    }
    let d = Decimal::shortest(v);
    d.fmt_g(d.digits.len(), 6)
}

/// Go's `%.{prec}g`: `prec` significant digits (0 means 1), trailing zeros
/// dropped, exponent form when the exponent is below -4 or at least `prec`.
pub(crate) fn format_g(v: f64, prec: usize) -> String {
    if let Some(s) = non_finite(v) {
        return s;
    }
    let prec = prec.max(1);
    let d = Decimal::significant(v, prec);
    d.fmt_g(prec, i32::try_from(prec).unwrap_or(i32::MAX))
}

/// Go's `%.{prec}e`.
pub(crate) fn format_e(v: f64, prec: usize) -> String {
    if let Some(s) = non_finite(v) {
        return s;
    }
    Decimal::significant(v, prec + 1).fmt_e(prec)
}

/// Go's `%.{prec}f`. Rust's fixed formatting rounds the same way and lays
/// out the same way, so only the non-finite spellings differ.
pub(crate) fn format_f(v: f64, prec: usize) -> String {
    non_finite(v).unwrap_or_else(|| format!("{v:.prec$}"))
}

/// Go's `encoding/json` float encoding: shortest digits in plain decimal,
/// switching to exponent form (with `e-07` tidied to `e-7`) only below 1e-6
/// or from 1e21 up, as ES6 number formatting does.
pub(crate) fn format_json(v: f64) -> String {
    let abs = v.abs();
    let d = Decimal::shortest(v);
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = d.fmt_e(d.digits.len().saturating_sub(1));
        return match s.find("e-0") {
            Some(i) => format!("{}e-{}", &s[..i], &s[i + 3..]),
            None => s,
        };
    }
    let frac = i64::try_from(d.digits.len()).unwrap_or(0) - i64::from(d.dp);
    d.fmt_f(usize::try_from(frac).unwrap_or(0))
}

/// Go's spellings of the values that have no digits.
fn non_finite(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".to_owned())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(got: String, want: &str) {
        assert_eq!(got, want);
    }

    #[test]
    fn like_go_strconv() {
        check(format_shortest_g(1.5), "1.5");
        check(format_shortest_g(3.0), "3");
        check(format_shortest_g(123456.0), "123456");
        check(format_shortest_g(1e6), "1e+06");
        check(format_shortest_g(1234567.0), "1.234567e+06");
        check(format_shortest_g(0.0001), "0.0001");
        check(format_shortest_g(0.00001), "1e-05");
        check(format_shortest_g(0.0), "0");
        check(format_shortest_g(-2.5), "-2.5");
        check(format_shortest_g(1e100), "1e+100");
        check(format_g(1.982291, 3), "1.98");
        check(format_g(999.5, 3), "1e+03");
        check(format_g(100.0, 3), "100");
        check(format_g(0.0, 3), "0");
        check(format_g(2.0, 0), "2");
        check(format_g(0.000012345, 3), "1.23e-05");
        check(format_e(1234.5678, 2), "1.23e+03");
        check(format_e(0.0, 1), "0.0e+00");
        check(format_f(2.5, 0), "2");
        check(format_f(1.0 / 3.0, 3), "0.333");
        check(format_f(f64::INFINITY, 2), "+Inf");
        check(format_json(1.5), "1.5");
        check(format_json(1e20), "100000000000000000000");
        check(format_json(1e21), "1e+21");
        check(format_json(1e-7), "1e-7");
        check(format_json(0.000001), "0.000001");
        check(format_json(0.0), "0");
    }
}
