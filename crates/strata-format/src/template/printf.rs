//! Go's `fmt` over JSON values: `%v` printing (what `{{.X}}` shows),
//! `Sprint`, `Sprintln` and `Sprintf` with the verbs templates use.
//!
//! Supported: flags `- + # 0 space`, width and precision, and the verbs
//! `v s q d t f F e E g G x X o b c U %`. Not supported: argument indexes
//! (`%[1]d`), `*` widths, `%T`, `%p`, hex floats; `%#v` prints like `%v`.

use serde_json::Value;

use super::literal::{go_quote, go_quote_rune};
use super::value::{Val, type_name};
use crate::float::{format_e, format_f, format_g, format_shortest_g};

/// Flags, width and precision of one verb.
#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    /// Pads `s` to the width, counting runes as Go does. Zero padding goes
    /// on the left, as spaces would (numbers put it after the sign
    /// themselves before calling this).
    fn pad(&self, out: &mut String, s: &str) {
        let len = s.chars().count();
        let fill = self.width.unwrap_or(0).saturating_sub(len);
        if self.minus {
            out.push_str(s);
            out.extend(std::iter::repeat_n(' ', fill));
        } else {
            let c = if self.zero { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(c, fill));
            out.push_str(s);
        }
    }

    /// Pads a signed number: zero padding goes between sign and digits.
    fn pad_number(&self, out: &mut String, num: &str) {
        if self.zero && !self.minus && self.width.is_some() {
            let (sign, digits) = match num.as_bytes().first() {
                Some(b'+' | b'-' | b' ') => num.split_at(1),
                _ => ("", num),
            };
            let fill = self.width.unwrap_or(0).saturating_sub(num.chars().count());
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(digits);
        } else {
            Spec {
                zero: false,
                ..*self
            }
            .pad(out, num);
        }
    }

    /// The sign Go puts in front of a non-negative number.
    fn sign(&self, negative: bool) -> &'static str {
        match (negative, self.plus, self.space) {
            (true, _, _) => "-",
            (false, true, _) => "+",
            (false, false, true) => " ",
            _ => "",
        }
    }
}

/// `%v` of a value: what `{{.X}}` and `print` show.
pub(super) fn format_v(v: &Value) -> String {
    let mut out = String::new();
    fmt_value(&mut out, v, 'v', &Spec::default(), 0);
    out
}

/// Go's `fmt.Sprint`: operands are separated by a space when neither
/// neighbour is a string.
pub(super) fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let v = arg.as_value();
        let is_string = v.is_string();
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        fmt_value(&mut out, v, 'v', &Spec::default(), 0);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands always separated by spaces, newline last.
pub(super) fn sprintln(args: &[Val]) -> String {
    let parts: Vec<String> = args.iter().map(|a| format_v(a.as_value())).collect();
    parts.join(" ") + "\n"
}

/// Go's `fmt.Sprintf`, including its in-band error notes (`%!d(string=x)`,
/// `%!s(MISSING)`, `%!(EXTRA ...)`).
pub(super) fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut next_arg = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_number(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_number(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        fmt_value(&mut out, arg.as_value(), verb, &spec, 0);
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, arg) in args[next_arg..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match arg.as_value() {
                Value::Null => out.push_str("<nil>"),
                v => out.push_str(&format!("{}={}", type_name(v), format_v(v))),
            }
        }
        out.push(')');
    }
    out
}

fn read_number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

/// Formats one value with one verb. Arrays and objects apply the verb to
/// each element, as Go's `printValue` does; `depth` > 0 marks an element.
fn fmt_value(out: &mut String, v: &Value, verb: char, spec: &Spec, depth: usize) {
    let ok = match v {
        Value::Null => {
            // A nil element prints <nil> whatever the verb; a nil operand
            // only with %v.
            if verb == 'v' || depth > 0 {
                spec.pad(out, "<nil>");
                true
            } else {
                out.push_str(&format!("%!{verb}(<nil>)"));
                return;
            }
        }
        Value::Bool(b) => {
            matches!(verb, 'v' | 't') && {
                spec.pad(out, if *b { "true" } else { "false" });
                true
            }
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => fmt_integer(out, i < 0, i.unsigned_abs(), verb, spec),
            (None, Some(u)) => fmt_integer(out, false, u, verb, spec),
            _ => fmt_float(out, n.as_f64().unwrap_or(0.0), verb, spec),
        },
        Value::String(s) => fmt_string(out, s, verb, spec),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_value(out, item, verb, spec, depth + 1);
            }
            out.push(']');
            true
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("map[");
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_string_or_bad(out, key, verb, spec);
                out.push(':');
                fmt_value(out, value, verb, spec, depth + 1);
            }
            out.push(']');
            true
        }
    };
    if !ok {
        // Go's bad-verb note shows the type and the value printed with %v.
        out.push_str(&format!("%!{verb}({}={})", type_name(v), format_v(v)));
    }
}

fn fmt_string_or_bad(out: &mut String, s: &str, verb: char, spec: &Spec) {
    if !fmt_string(out, s, verb, spec) {
        out.push_str(&format!("%!{verb}(string={s})"));
    }
}

/// Returns false for a verb strings do not take.
fn fmt_string(out: &mut String, s: &str, verb: char, spec: &Spec) -> bool {
    // Precision limits the runes printed.
    let s: String = match spec.prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_owned(),
    };
    match verb {
        'v' | 's' => spec.pad(out, &s),
        'q' => spec.pad(out, &go_quote(&s)),
        'x' | 'X' => {
            let hex: String = s
                .bytes()
                .map(|b| {
                    if verb == 'x' {
                        format!("{b:02x}")
                    } else {
                        format!("{b:02X}")
                    }
                })
                .collect();
            spec.pad(out, &hex);
        }
        _ => return false,
    }
    true
}

/// Returns false for a verb integers do not take.
fn fmt_integer(out: &mut String, negative: bool, abs: u64, verb: char, spec: &Spec) -> bool {
    let digits = match verb {
        'v' | 'd' => abs.to_string(),
        'b' => format!("{abs:b}"),
        'o' => format!("{abs:o}"),
        'x' => format!("{abs:x}"),
        'X' => format!("{abs:X}"),
        'c' | 'q' | 'U' => {
            let c = u32::try_from(abs)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            let s = match verb {
                'c' => c.to_string(),
                'q' => go_quote_rune(c),
                _ => format!("U+{abs:04X}"),
            };
            spec.pad(out, &s);
            return true;
        }
        _ => return false,
    };
    // Precision is a minimum digit count; Go prints nothing for %.0d of 0.
    let digits = match spec.prec {
        Some(0) if abs == 0 => String::new(),
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        (true, 'b') => "0b",
        _ => "",
    };
    let num = format!("{}{prefix}{digits}", spec.sign(negative));
    // An explicit precision turns zero padding off, as in Go.
    let spec = Spec {
        zero: spec.zero && spec.prec.is_none(),
        ..*spec
    };
    spec.pad_number(out, &num);
    true
}

/// Returns false for a verb floats do not take.
fn fmt_float(out: &mut String, f: f64, verb: char, spec: &Spec) -> bool {
    let body = match verb {
        'v' => format_shortest_g(f.abs()),
        'g' | 'G' => match spec.prec {
            Some(p) => format_g(f.abs(), p),
            None => format_shortest_g(f.abs()),
        },
        'e' | 'E' => format_e(f.abs(), spec.prec.unwrap_or(6)),
        'f' | 'F' => format_f(f.abs(), spec.prec.unwrap_or(6)),
        _ => return false,
    };
    let body = if verb.is_ascii_uppercase() {
        body.to_ascii_uppercase()
    } else {
        body
    };
    let num = format!("{}{body}", spec.sign(f.is_sign_negative() && f != 0.0));
    spec.pad_number(out, &num);
    true
}
