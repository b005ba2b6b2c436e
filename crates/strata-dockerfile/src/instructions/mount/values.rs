//! The small value syntaxes `RUN --mount` inherits from Go libraries: a
//! one-line CSV record (`go-csvvalue`), booleans and integers (`strconv`),
//! RAM sizes (`go-units`) and `path.Clean`/`path.Base`.

/// Splits one CSV record like `go-csvvalue`'s `Fields`: commas separate,
/// double quotes group (`""` is a literal quote), one trailing newline is
/// allowed. Errors read like Go's `csv.ParseError`.
pub(super) fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let line = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    if line.is_empty() {
        return Err("EOF".to_owned());
    }
    let err = |pos: usize, what: &str| format!("parse error on line 1, column {}: {what}", pos + 1);
    let mut fields = Vec::new();
    let mut rest = line;
    let mut pos = 0;
    loop {
        if !rest.starts_with('"') {
            let end = rest.find(',').unwrap_or(rest.len());
            let field = &rest[..end];
            if let Some(j) = field.find('"') {
                return Err(err(pos + j, "bare \" in non-quoted-field"));
            }
            fields.push(field.to_owned());
            if end == rest.len() {
                return Ok(fields);
            }
            rest = &rest[end + 1..];
            pos += end + 1;
            continue;
        }
        // A quoted field.
        rest = &rest[1..];
        pos += 1;
        let mut field = String::new();
        loop {
            let Some(i) = rest.find('"') else {
                return Err(err(pos, "extraneous or missing \" in quoted-field"));
            };
            field.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            pos += i + 1;
            if let Some(r) = rest.strip_prefix('"') {
                field.push('"');
                rest = r;
                pos += 1;
            } else if let Some(r) = rest.strip_prefix(',') {
                fields.push(field);
                rest = r;
                pos += 1;
                break;
            } else if rest.is_empty() {
                fields.push(field);
                return Ok(fields);
            } else {
                return Err(err(pos - 1, "extraneous or missing \" in quoted-field"));
            }
        }
    }
}

/// Go's `strconv.ParseBool`.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, radix, 32)`: plain digits, no sign or prefix.
pub(super) fn parse_u32(s: &str, radix: u32) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(s, radix).ok()
}

/// go-units `RAMInBytes`: a number, optionally a space, then an optional
/// binary unit `k`, `m`, `g`, `t`, `p` with optional `b` or `ib`, any case;
/// or just `b`.
pub(super) fn ram_in_bytes(s: &str) -> Option<i64> {
    let sep = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')?;
    let (num, suffix) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 = num.parse().ok()?;
    if size < 0.0 || size.is_nan() {
        return None;
    }
    let suffix = suffix.to_lowercase();
    let mul: f64 = match suffix.as_bytes() {
        [] | [b'b'] => 1.0,
        [u, rest @ ..] => {
            let exp = match u {
                b'k' => 1,
                b'm' => 2,
                b'g' => 3,
                b't' => 4,
                b'p' => 5,
                _ => return None,
            };
            if !matches!(rest, [] | [b'b'] | [b'i', b'b']) {
                return None;
            }
            1024f64.powi(exp)
        }
    };
    // Go converts the float to int64 by truncation.
    Some((size * mul) as i64)
}

/// Go's `path.Clean`.
pub(super) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
pub(super) fn base_name(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records() {
        assert_eq!(csv_fields("a=1,b=2").unwrap(), ["a=1", "b=2"]);
        assert_eq!(csv_fields("a,,b,").unwrap(), ["a", "", "b", ""]);
        assert_eq!(csv_fields("\"a,b\",\"c\"\"d\"").unwrap(), ["a,b", "c\"d"]);
        assert_eq!(csv_fields("x\n").unwrap(), ["x"]);
        assert_eq!(csv_fields("").unwrap_err(), "EOF");
        assert_eq!(
            csv_fields("a=\"b\"").unwrap_err(),
            "parse error on line 1, column 3: bare \" in non-quoted-field"
        );
        assert_eq!(
            csv_fields("\"ab").unwrap_err(),
            "parse error on line 1, column 2: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            csv_fields("\"a\"b").unwrap_err(),
            "parse error on line 1, column 3: extraneous or missing \" in quoted-field"
        );
    }

    #[test]
    fn numbers_and_sizes() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_u32("0755", 8), Some(0o755));
        assert_eq!(parse_u32("8", 8), None);
        assert_eq!(parse_u32("-1", 10), None);
        assert_eq!(parse_u32("4294967296", 10), None);
        assert_eq!(ram_in_bytes("512"), Some(512));
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1.5 GiB"), Some(3 << 29));
        assert_eq!(ram_in_bytes("2KB"), Some(2048));
        assert_eq!(ram_in_bytes("10b"), Some(10));
        assert_eq!(ram_in_bytes("10x"), None);
        assert_eq!(ram_in_bytes("m"), None);
        assert_eq!(ram_in_bytes("1mib"), Some(1 << 20));
        assert_eq!(ram_in_bytes("1mbb"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a/./b/../c/"), "/a/c");
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path("/.."), "/");
        assert_eq!(clean_path(""), ".");
        assert_eq!(base_name("/run/secrets/x"), "x");
        assert_eq!(base_name("x/"), "x");
        assert_eq!(base_name("/"), "/");
    }
}
