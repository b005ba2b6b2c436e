//! JSON the way Go's `encoding/json` writes it: compact, object keys
//! sorted, `\u2028`/`\u2029` always escaped, and optionally the HTML-safe
//! escaping of `<`, `>` and `&` that `json.Marshal` applies by default.

use serde_json::Value;

use crate::float::format_json;

/// Encodes `v` like Go's encoder. `escape_html` is `json.Marshal`'s
/// default; Docker's `json` template function turns it off
/// (`SetEscapeHTML(false)`).
pub(crate) fn encode(v: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, v, escape_html);
    out
}

fn write_value(out: &mut String, v: &Value, escape_html: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (None, Some(u), _) => out.push_str(&u.to_string()),
            (None, None, Some(f)) => out.push_str(&format_json(f)),
            // Only possible with serde_json's arbitrary-precision numbers.
            (None, None, None) => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s, escape_html),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, escape_html);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go sorts map keys; serde_json may be built to keep insertion
            // order, so sort explicitly.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key, escape_html);
                out.push(':');
                write_value(out, value, escape_html);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal with Go's escapes. Go (since 1.22) writes `\b`
/// and `\f` in short form; other control characters are `\u00XX` in lower
/// case hex.
fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[track_caller]
    fn check(v: Value, html: bool, want: &str) {
        assert_eq!(encode(&v, html), want);
    }

    #[test]
    fn like_go() {
        check(
            json!({"b": 1, "a": [true, null, 1.5]}),
            false,
            r#"{"a":[true,null,1.5],"b":1}"#,
        );
        check(json!("<a&b>"), true, r#""\u003ca\u0026b\u003e""#);
        check(json!("<a&b>"), false, r#""<a&b>""#);
        check(json!("\u{2028}\u{2029}"), false, r#""\u2028\u2029""#);
        check(
            json!("\u{1}\u{8}\u{c}\n\"\\"),
            false,
            r#""\u0001\b\f\n\"\\""#,
        );
        check(json!(1e21), false, "1e+21");
        check(json!(0.0000001), false, "1e-7");
        check(json!(-3), false, "-3");
        check(json!(u64::MAX), false, "18446744073709551615");
        check(json!({}), false, "{}");
        check(json!([]), false, "[]");
    }
}
