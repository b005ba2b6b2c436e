//! The function table: Go's builtins plus Docker's template functions
//! (`json split join title lower upper pad truncate`), with Go's argument
//! checking, and Docker's header variants.
//!
//! Docker renders a table header with `HeaderFunctions` swapped in, so that
//! `{{.Size | upper}}` or `{{json .Labels}}` still prints the plain column
//! title: in header mode the string functions return their first argument
//! unchanged (`pad` keeps working, to stay aligned with the rows).

use serde_json::Value;

use super::builtins;
use super::json;
use super::printf::{sprint, sprintf, sprintln};
use super::value::{Val, as_int};

/// Which variant of Docker's function set is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Rows: `templates.basicFunctions`.
    Normal,
    /// The header: `templates.HeaderFunctions`.
    Header,
    /// Rows of a Docker listing (`images`, `history`, ...). docker/cli wraps
    /// each row in a context whose `MarshalJSON` uses `json.Marshal`, which
    /// escapes `<`, `>` and `&`; so `{{json .}}` on a row is escaped, while
    /// `json` of a plain value is not.
    Row,
}

/// How a call failed. Go prefixes errors a function returns with
/// `error calling NAME:`; a mistyped argument is reported at that argument,
/// with a message that depends on whether it is a literal, so the executor
/// words it.
pub(super) enum CallError {
    Call(String),
    /// Argument `index` (counting the piped value last) is not a `want`.
    ArgType {
        index: usize,
        want: &'static str,
    },
}

/// A function's parameter count, and whether more may follow.
pub(super) struct Signature {
    pub(super) fixed: usize,
    pub(super) variadic: bool,
}

const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt",
    "le", "gt", "ge", "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// Whether templates may call `name` (checked at parse time, as Go does).
pub(super) fn is_defined(name: &str) -> bool {
    NAMES.contains(&name)
}

/// The parameters of the Go function behind `name` (the same for the
/// header variants), which Go checks before evaluating any argument.
pub(super) fn signature(name: &str) -> Signature {
    let (fixed, variadic) = match name {
        "print" | "println" => (0, true),
        "and" | "or" | "index" | "slice" | "printf" | "eq" => (1, true),
        "ne" | "lt" | "le" | "gt" | "ge" | "split" | "join" | "truncate" => (2, false),
        "pad" => (3, false),
        _ => (1, false),
    };
    Signature { fixed, variadic }
}

/// Checks argument `index` against a `string` parameter.
fn want_str(args: &[Val], index: usize) -> Result<&str, CallError> {
    match &args[index] {
        Val::Data(Value::String(s)) => Ok(s),
        _ => Err(CallError::ArgType {
            index,
            want: "string",
        }),
    }
}

/// Checks argument `index` against an `int` parameter.
fn want_int(args: &[Val], index: usize) -> Result<i64, CallError> {
    match &args[index] {
        Val::Data(d) => as_int(d).ok_or(CallError::ArgType { index, want: "int" }),
        Val::Missing => Err(CallError::ArgType { index, want: "int" }),
    }
}

fn string(s: impl Into<String>) -> Val {
    Val::Data(Value::String(s.into()))
}

fn boolean(b: bool) -> Val {
    Val::Data(Value::Bool(b))
}

/// Calls function `name` (not `and`/`or`) with evaluated arguments, whose
/// count already matches [`signature`].
pub(super) fn call(name: &str, args: &[Val], mode: Mode) -> Result<Val, CallError> {
    let call_err = CallError::Call;
    if mode == Mode::Header
        && matches!(
            name,
            "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate"
        )
    {
        // Docker's header variants take (string, ignored) and return the
        // string; Go still checks the ignored argument's type.
        let title = want_str(args, 0)?;
        if name == "truncate" {
            want_int(args, 1)?;
        } else if args.len() == 2 {
            want_str(args, 1)?;
        }
        return Ok(string(title));
    }
    match name {
        "not" => Ok(boolean(!args[0].truthy())),
        "len" => builtins::len(&args[0]).map_err(call_err),
        "index" => builtins::index(args).map_err(call_err),
        "slice" => builtins::slice(args).map_err(call_err),
        "print" => Ok(string(sprint(args))),
        "println" => Ok(string(sprintln(args))),
        "printf" => Ok(string(sprintf(want_str(args, 0)?, &args[1..]))),
        "eq" => builtins::eq(args).map(boolean).map_err(call_err),
        "ne" | "lt" | "le" | "gt" | "ge" => {
            let (a, b) = (&args[0], &args[1]);
            let eq = || builtins::eq(args);
            let result = match name {
                "ne" => eq().map(|e| !e),
                "lt" => builtins::lt(a, b),
                "le" => builtins::lt(a, b).and_then(|l| if l { Ok(true) } else { eq() }),
                "gt" => {
                    builtins::lt(a, b).and_then(|l| if l { Ok(false) } else { eq().map(|e| !e) })
                }
                _ => builtins::lt(a, b).map(|l| !l),
            };
            result.map(boolean).map_err(call_err)
        }
        "json" => {
            // docker/cli's encoder has SetEscapeHTML(false), but a listing
            // row marshals itself with escaping (see `Mode::Row`); in a row,
            // the only object is the row itself.
            let v = args[0].as_value();
            let escape = mode == Mode::Row && v.is_object();
            Ok(string(json::encode(v, escape)))
        }
        "split" => {
            let parts = go_split(want_str(args, 0)?, want_str(args, 1)?);
            Ok(Val::Data(Value::Array(
                parts.into_iter().map(Value::String).collect(),
            )))
        }
        "join" => {
            let Val::Data(Value::Array(items)) = &args[0] else {
                return Err(CallError::ArgType {
                    index: 0,
                    want: "[]string",
                });
            };
            let sep = want_str(args, 1)?;
            // Go's strings.Join takes []string; non-strings print with %v.
            let parts: Vec<String> = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map_or_else(|| super::printf::format_v(v), str::to_owned)
                })
                .collect();
            Ok(string(parts.join(sep)))
        }
        "title" => Ok(string(go_title(want_str(args, 0)?))),
        "lower" | "upper" => Ok(string(go_case(want_str(args, 0)?, name == "upper"))),
        "pad" => {
            let s = want_str(args, 0)?;
            let (before, after) = (want_int(args, 1)?, want_int(args, 2)?);
            // Docker pads only non-empty strings; strings.Repeat panics on
            // a negative count, which text/template reports as an error.
            if s.is_empty() {
                return Ok(string(""));
            }
            let count = |n: i64| {
                usize::try_from(n)
                    .map_err(|_| call_err("strings: negative Repeat count".to_owned()))
            };
            Ok(string(format!(
                "{}{s}{}",
                " ".repeat(count(before)?),
                " ".repeat(count(after)?)
            )))
        }
        "truncate" => {
            let s = want_str(args, 0)?;
            let n = want_int(args, 1)?;
            Ok(string(go_truncate(s, n).map_err(call_err)?))
        }
        _ => Err(CallError::Call(format!(
            "{name:?} is not a defined function"
        ))),
    }
}

/// Go's `strings.Split`: an empty separator splits into characters, and
/// an empty string gives one empty element.
fn go_split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(str::to_owned).collect()
}

/// Go's `strings.ToUpper`/`ToLower` map each character on its own (simple
/// case mapping): a character whose full mapping is several characters,
/// like `ß`, stays as it is.
fn go_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut mapped: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if mapped.len() == 1 {
                mapped.pop().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Go's deprecated `strings.Title`: the first letter after a separator is
/// upper-cased and nothing else changes. ASCII letters, digits and `_` are
/// not separators, other ASCII is; beyond ASCII only spaces separate.
fn go_title(s: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) {
                go_case(&c.to_string(), true)
            } else {
                c.to_string()
            };
            prev = c;
            out
        })
        .collect()
}

/// Docker's `truncate`: the first `n` bytes when the string is at least
/// that long. Go slices bytes; this backs off to a character boundary
/// because a Rust string cannot hold a partial character.
fn go_truncate(s: &str, n: i64) -> Result<String, String> {
    let Ok(n) = usize::try_from(n) else {
        return Err(format!("runtime error: slice bounds out of range [:{n}]"));
    };
    if s.len() < n {
        return Ok(s.to_owned());
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(s[..end].to_owned())
}
