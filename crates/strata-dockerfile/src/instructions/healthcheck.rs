//! `HEALTHCHECK NONE` and `HEALTHCHECK [--interval ...] CMD command`, with
//! BuildKit's checks and messages.
//!
//! Note BuildKit's quirks kept here: options given to `HEALTHCHECK NONE`
//! are not looked at, and a zero duration means "use the default" rather
//! than zero.

use std::time::Duration;

use super::flags::{self, Kind};
use super::{Healthcheck, ShellOrExec};
use crate::diagnostic::Diagnostic;
use crate::gofmt;
use crate::parser::Node;
use crate::parser::args::LineArgs;
use strata_core::parse_go_duration;

const FLAGS: &[(&str, Kind)] = &[
    ("interval", Kind::Str),
    ("timeout", Kind::Str),
    ("start-period", Kind::Str),
    ("start-interval", Kind::Str),
    ("retries", Kind::Str),
];

/// Builds the `HEALTHCHECK` from its line arguments (type, then command).
pub(super) fn healthcheck(node: &Node, line: &LineArgs) -> Result<Healthcheck, Diagnostic> {
    let err = |msg: String| Diagnostic::error(msg, node.span);
    let Some((typ, args)) = line.args.split_first() else {
        return Err(err("HEALTHCHECK requires at least one argument".to_owned()));
    };
    let typ = typ.to_uppercase();
    if typ == "NONE" {
        if !args.is_empty() {
            return Err(err("HEALTHCHECK NONE takes no arguments".to_owned()));
        }
        return Ok(Healthcheck::None);
    }
    let flags = flags::parse(node, FLAGS)?;
    if typ != "CMD" {
        return Err(err(format!(
            "Unknown type {} in HEALTHCHECK (try CMD)",
            gofmt::quote(&typ)
        )));
    }
    let test = match (args, line.json) {
        ([], _) => return Err(err("Missing command after HEALTHCHECK CMD".to_owned())),
        (args, true) => ShellOrExec::Exec(args.to_vec()),
        (args, false) => ShellOrExec::Shell(args.join(" ")),
    };
    let option = |name: &str| {
        optional_interval(name, flags.string(name))
            .map_err(|m| Diagnostic::error(m, flags::span_of(node, name)))
    };
    // BuildKit checks the options in this order.
    let (interval, timeout) = (option("interval")?, option("timeout")?);
    let (start_period, start_interval) = (option("start-period")?, option("start-interval")?);
    let retries = match flags.string("retries").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            parse_retries(&s).map_err(|m| Diagnostic::error(m, flags::span_of(node, "retries")))?,
        ),
    };
    Ok(Healthcheck::Check {
        test,
        interval,
        timeout,
        start_period,
        start_interval,
        retries,
    })
}

/// A duration option: absent, empty or zero is `None`; anything else must
/// be at least a millisecond.
fn optional_interval(name: &str, value: Option<String>) -> Result<Option<Duration>, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let nanos = parse_go_duration(&value)?;
    if nanos == 0 {
        return Ok(None);
    }
    if nanos < 1_000_000 {
        return Err(format!(
            "Interval {} cannot be less than 1ms",
            gofmt::quote(name)
        ));
    }
    Ok(Some(Duration::from_nanos(nanos.unsigned_abs())))
}

/// `--retries`: Go's `strconv.ParseInt(s, 10, 32)` (digits are checked
/// one by one, so an overflow is reported before a later bad character),
/// then not negative.
fn parse_retries(s: &str) -> Result<u32, String> {
    let syntax = || {
        format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            gofmt::quote(s)
        )
    };
    let range = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            gofmt::quote(s)
        )
    };
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(syntax());
    }
    let mut magnitude: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(syntax());
        }
        magnitude = magnitude * 10 + u64::from(b - b'0');
        if magnitude > u64::from(u32::MAX) {
            return Err(range());
        }
    }
    let cutoff = 1u64 << 31;
    if (!negative && magnitude >= cutoff) || (negative && magnitude > cutoff) {
        return Err(range());
    }
    if negative && magnitude > 0 {
        return Err(format!("--retries cannot be negative (-{magnitude})"));
    }
    u32::try_from(magnitude).map_err(|_| range())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        let f = |v: &str| optional_interval("interval", Some(v.to_owned()));
        assert_eq!(f(""), Ok(None));
        assert_eq!(f("0s"), Ok(None));
        assert_eq!(f("1ms"), Ok(Some(Duration::from_millis(1))));
        assert_eq!(f("1m30s"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(
            f("999us").unwrap_err(),
            r#"Interval "interval" cannot be less than 1ms"#
        );
        assert_eq!(
            f("-5s").unwrap_err(),
            r#"Interval "interval" cannot be less than 1ms"#
        );
        assert_eq!(f("5").unwrap_err(), r#"time: missing unit in duration "5""#);
    }

    #[test]
    fn retries() {
        assert_eq!(parse_retries("3"), Ok(3));
        assert_eq!(parse_retries("+0"), Ok(0));
        assert_eq!(
            parse_retries("-1").unwrap_err(),
            "--retries cannot be negative (-1)"
        );
        assert_eq!(
            parse_retries("x").unwrap_err(),
            r#"strconv.ParseInt: parsing "x": invalid syntax"#
        );
        assert_eq!(
            parse_retries("5000000000x").unwrap_err(),
            r#"strconv.ParseInt: parsing "5000000000x": value out of range"#
        );
        assert_eq!(parse_retries("-0"), Ok(0));
        assert_eq!(
            parse_retries("4294967296").unwrap_err(),
            r#"strconv.ParseInt: parsing "4294967296": value out of range"#
        );
    }
}
