//! Go's predefined template functions that inspect values: comparisons,
//! `len`, `index` and `slice`. (`and`/`or` short-circuit, so the executor
//! evaluates them itself.)
//!
//! Go compares by reflect kind and refuses to compare an `int` with a
//! `float64`; JSON does not record which numbers were integers, so numbers
//! here compare by value regardless of representation.

use std::cmp::Ordering;

use serde_json::Value;

use super::value::{Val, as_int, int_value, type_name};

/// Kinds that can be compared, as Go's `basicKind` sorts them.
enum Basic<'a> {
    Bool(bool),
    Number(f64, Option<i64>),
    String(&'a str),
}

fn basic(v: &Value) -> Option<Basic<'_>> {
    match v {
        Value::Bool(b) => Some(Basic::Bool(*b)),
        Value::Number(n) => Some(Basic::Number(n.as_f64().unwrap_or(0.0), n.as_i64())),
        Value::String(s) => Some(Basic::String(s)),
        _ => None,
    }
}

/// Orders two numbers exactly when both are integers (large int64 values
/// would lose precision as floats).
fn cmp_numbers(a: (f64, Option<i64>), b: (f64, Option<i64>)) -> Option<Ordering> {
    match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.0.partial_cmp(&b.0),
    }
}

const INCOMPATIBLE: &str = "incompatible types for comparison";
const INVALID_TYPE: &str = "invalid type for comparison";

/// Go's `eq arg1 arg2...`: true if `arg1` equals any of the others. A nil
/// on either side is only equal to nil; arrays and objects are not
/// comparable.
pub(super) fn eq(args: &[Val]) -> Result<bool, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err("missing argument for comparison".to_owned());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".to_owned());
    }
    let a = first.as_value();
    if a.is_array() || a.is_object() {
        return Err(INVALID_TYPE.to_owned());
    }
    for other in rest {
        let b = other.as_value();
        let equal = match (basic(a), basic(b)) {
            (Some(Basic::Bool(x)), Some(Basic::Bool(y))) => x == y,
            (Some(Basic::String(x)), Some(Basic::String(y))) => x == y,
            (Some(Basic::Number(x, xi)), Some(Basic::Number(y, yi))) => {
                cmp_numbers((x, xi), (y, yi)) == Some(Ordering::Equal)
            }
            (Some(_), Some(_)) => return Err(INCOMPATIBLE.to_owned()),
            // Nil compares equal only to nil, without an error.
            (None, _) | (_, None) if a.is_null() || b.is_null() => a.is_null() && b.is_null(),
            _ => return Err(INVALID_TYPE.to_owned()),
        };
        if equal {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`, the basis of `le`, `gt` and `ge`: numbers and strings only.
pub(super) fn lt(a: &Val, b: &Val) -> Result<bool, String> {
    match (basic(a.as_value()), basic(b.as_value())) {
        (Some(Basic::Number(x, xi)), Some(Basic::Number(y, yi))) => {
            Ok(cmp_numbers((x, xi), (y, yi)) == Some(Ordering::Less))
        }
        (Some(Basic::String(x)), Some(Basic::String(y))) => Ok(x < y),
        (Some(Basic::Bool(_)), _) | (_, Some(Basic::Bool(_))) | (None, _) | (_, None) => {
            Err(INVALID_TYPE.to_owned())
        }
        _ => Err(INCOMPATIBLE.to_owned()),
    }
}

/// Go's `len`: bytes of a string, elements of an array or object.
pub(super) fn len(item: &Val) -> Result<Val, String> {
    let n = match item {
        Val::Missing => return Err("len of untyped nil".to_owned()),
        Val::Data(Value::Null) => return Err("len of nil pointer".to_owned()),
        Val::Data(Value::String(s)) => s.len(),
        Val::Data(Value::Array(a)) => a.len(),
        Val::Data(Value::Object(o)) => o.len(),
        Val::Data(v) => return Err(format!("len of type {}", type_name(v))),
    };
    Ok(Val::Data(int_value(i64::try_from(n).unwrap_or(i64::MAX))))
}

/// Checks an array or string index argument against `len` (`cap` allows
/// one past the end, for slicing).
fn index_arg(index: &Value, len: usize, allow_end: bool) -> Result<usize, String> {
    let Some(i) = as_int(index).filter(|_| index.is_number()) else {
        return Err(match index {
            Value::Null => "cannot index slice/array with nil".to_owned(),
            v => format!("cannot index slice/array with type {}", type_name(v)),
        });
    };
    match usize::try_from(i) {
        Ok(x) if x < len || (allow_end && x == len) => Ok(x),
        _ => Err(format!("index out of range: {i}")),
    }
}

/// Go's `index item i j...`: array elements, string bytes, object values.
/// A key the object lacks yields the element type's zero value, which for
/// JSON's `interface{}` elements is nil (printed `<nil>`, unlike a missing
/// `.Field`, which prints `<no value>`).
pub(super) fn index(args: &[Val]) -> Result<Val, String> {
    let (item, indexes) = args
        .split_first()
        .ok_or("wrong number of args for index: want at least 1 got 0")?;
    let mut item = match item {
        Val::Missing | Val::Data(Value::Null) => return Err("index of untyped nil".to_owned()),
        Val::Data(v) => v.clone(),
    };
    for index in indexes {
        let index = index.as_value();
        item = match &item {
            Value::Null => return Err("index of nil pointer".to_owned()),
            Value::Array(a) => a[index_arg(index, a.len(), false)?].clone(),
            Value::String(s) => {
                int_value(i64::from(s.as_bytes()[index_arg(index, s.len(), false)?]))
            }
            Value::Object(o) => match index {
                Value::String(key) => o.get(key).cloned().unwrap_or(Value::Null),
                Value::Null => return Err("value is nil; should be of type string".to_owned()),
                v => return Err(format!("value has type {}; should be string", type_name(v))),
            },
            v => return Err(format!("can't index item of type {}", type_name(v))),
        };
    }
    Ok(Val::Data(item))
}

/// Go's `slice item [i [j]]`: `item[i:j]` for arrays and strings (byte
/// offsets; a cut inside a UTF-8 sequence becomes U+FFFD here, where Go
/// would keep the raw bytes).
pub(super) fn slice(args: &[Val]) -> Result<Val, String> {
    let (item, indexes) = args
        .split_first()
        .ok_or("wrong number of args for slice: want at least 1 got 0")?;
    let item = match item {
        Val::Missing | Val::Data(Value::Null) => return Err("slice of untyped nil".to_owned()),
        Val::Data(v) => v,
    };
    let len = match item {
        Value::String(s) => s.len(),
        Value::Array(a) => a.len(),
        v => return Err(format!("can't slice item of type {}", type_name(v))),
    };
    // Go's third (capacity) index has no meaning for JSON arrays.
    if indexes.len() > 2 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let bounds: Vec<usize> = indexes
        .iter()
        .map(|i| index_arg(i.as_value(), len, true))
        .collect::<Result<_, _>>()?;
    let from = bounds.first().copied().unwrap_or(0);
    let to = bounds.get(1).copied().unwrap_or(len);
    if from > to {
        return Err(format!("invalid slice index: {from} > {to}"));
    }
    Ok(Val::Data(match item {
        Value::String(s) => {
            Value::String(String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned())
        }
        other => Value::Array(
            other
                .as_array()
                .map(|a| a[from..to].to_vec())
                .unwrap_or_default(),
        ),
    }))
}
