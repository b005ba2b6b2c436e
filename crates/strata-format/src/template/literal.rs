//! Go literal syntax: `strconv.Unquote` for the string and character
//! literals in templates, `strconv.Quote` for `%q` and for tokens quoted in
//! parse errors, and number literals (decimal, hex, octal and binary
//! integers with underscores, floats, character constants).

use super::ast::Number;

/// Go's `unicode.IsPrint`, approximated without Unicode tables: letters,
/// marks, numbers, punctuation and symbols print, as does the ASCII space;
/// controls, other spaces, format characters and private-use characters do
/// not. (Unassigned code points, which Go also escapes, print here.)
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = u32::from(c);
    let format = matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE0001..=0xE007F
    );
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    !(c.is_control() || c.is_whitespace() || format || private)
}

/// Appends `c` as it appears inside a Go literal quoted with `quote`.
fn push_escaped(out: &mut String, c: char, quote: char) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if u32::from(c) < 0x20 || c == '\x7f' => {
            out.push_str(&format!("\\x{:02x}", u32::from(c)))
        }
        c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Go's `strconv.Quote`.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`.
pub(super) fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

/// Reads `n` hex digits from `chars`.
fn hex(chars: &mut std::str::Chars<'_>, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..n {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// One unit of a quoted literal: a character, or a raw byte from `\x` or
/// octal escapes (which Go copies into the string as bytes).
enum Unit {
    Char(char),
    Byte(u8),
}

/// Decodes the escape after a backslash, as Go's `strconv.UnquoteChar`
/// does inside a literal quoted with `quote`.
fn unescape(chars: &mut std::str::Chars<'_>, quote: char) -> Option<Unit> {
    let c = chars.next()?;
    Some(Unit::Char(match c {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        // Each quote is escapable only inside its own kind of literal.
        '\'' | '"' if c == quote => c,
        'x' => return hex(chars, 2).map(|b| Unit::Byte(b as u8)),
        'u' => char::from_u32(hex(chars, 4)?)?,
        'U' => char::from_u32(hex(chars, 8)?)?,
        '0'..='7' => {
            let mut v = c.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.to_digit(8)?;
            }
            return u8::try_from(v).ok().map(Unit::Byte);
        }
        _ => return None,
    }))
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals; `None` is
/// Go's "invalid syntax". Raw bytes from `\x`/octal escapes that do not form
/// UTF-8 become U+FFFD, since a Rust string cannot hold them.
pub(super) fn unquote(lit: &str) -> Option<String> {
    if let Some(raw) = lit.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        // Go drops carriage returns from raw strings.
        return Some(raw.replace('\r', ""));
    }
    let body = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        let unit = match c {
            '\\' => unescape(&mut chars, '"')?,
            '"' | '\n' => return None,
            c => Unit::Char(c),
        };
        match unit {
            Unit::Char(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Unit::Byte(b) => bytes.push(b),
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The value of a character constant such as `'a'` or `'\n'`.
pub(super) fn unquote_char(lit: &str) -> Option<u32> {
    let body = lit.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut chars = body.chars();
    let value = match chars.next()? {
        '\\' => match unescape(&mut chars, '\'')? {
            Unit::Char(c) => u32::from(c),
            Unit::Byte(b) => u32::from(b),
        },
        '\'' | '\n' => return None,
        c => u32::from(c),
    };
    chars.next().is_none().then_some(value)
}

/// Go's `strconv.ParseInt(text, 0, 64)`: sign, base prefix, underscores.
fn parse_int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let v = i128::from_str_radix(&body.replace('_', ""), radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Go's `parse.newNumber`: the value of a number or character literal.
/// A literal spelled with a point or exponent is a float even when it is
/// whole; an integer too large for int64 is kept as unsigned.
pub(super) fn number(text: &str) -> Result<Number, String> {
    if text.starts_with('\'') {
        return match unquote_char(text) {
            Some(v) => Ok(Number::Int(i64::from(v))),
            None => Err(format!("malformed character constant: {text}")),
        };
    }
    if text.ends_with('i') {
        return Err(format!("complex number {text} is not supported"));
    }
    let hex = text
        .trim_start_matches(['+', '-'])
        .to_ascii_lowercase()
        .starts_with("0x");
    let looks_float = if hex {
        text.contains(['.', 'p', 'P'])
    } else {
        text.contains(['.', 'e', 'E'])
    };
    if !looks_float && let Some(v) = parse_int(text) {
        if let Ok(i) = i64::try_from(v) {
            return Ok(Number::Int(i));
        }
        if let Ok(u) = u64::try_from(v) {
            return Ok(Number::Uint(u));
        }
    }
    match text.replace('_', "").parse::<f64>() {
        Ok(_) if !looks_float => Err(format!("integer overflow: {}", go_quote(text))),
        Ok(f) => Ok(Number::Float(f)),
        Err(_) => Err(format!("illegal number syntax: {}", go_quote(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(
            go_quote("a\"b\\c\n\t\u{1}é\u{a0}"),
            r#""a\"b\\c\n\t\x01é\u00a0""#
        );
        assert_eq!(go_quote_rune('\''), r"'\''");
        assert_eq!(
            unquote(r#""a\tb\x41\u00e9\101\"""#).as_deref(),
            Some("a\tbAéA\"")
        );
        assert_eq!(unquote("`a\\n\r`").as_deref(), Some("a\\n"));
        assert_eq!(unquote(r#""\'""#), None);
        assert_eq!(unquote(r#""\q""#), None);
        assert_eq!(unquote_char("'a'"), Some(97));
        assert_eq!(unquote_char(r"'\n'"), Some(10));
        assert_eq!(unquote_char(r"'\''"), Some(39));
        assert_eq!(unquote_char("'ab'"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(number("0x1F"), Ok(Number::Int(31)));
        assert_eq!(number("0777"), Ok(Number::Int(511)));
        assert_eq!(number("1_000"), Ok(Number::Int(1000)));
        assert_eq!(number("1e3"), Ok(Number::Float(1000.0)));
        assert_eq!(number("18446744073709551615"), Ok(Number::Uint(u64::MAX)));
        assert_eq!(
            number("99999999999999999999"),
            Err(r#"integer overflow: "99999999999999999999""#.to_owned())
        );
        assert_eq!(number("'\\n'"), Ok(Number::Int(10)));
    }
}
