//! Values during execution, and the Go notions that depend only on a value:
//! truth, type names, integer views.
//!
//! Go distinguishes a JSON `null` (a nil `interface{}` stored in a map,
//! printed `<nil>`) from a key that is absent (an invalid `reflect.Value`,
//! printed `<no value>`); [`Val`] keeps that distinction.

use serde_json::{Number, Value};

/// A value flowing through a template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    /// The result of looking up a key an object does not have.
    Missing,
    /// Any JSON value, including `null`.
    Data(Value),
}

impl Val {
    /// The value as JSON; `Missing` becomes `null`, as it does when Go
    /// passes an invalid value to a function taking `interface{}`.
    pub(super) fn as_value(&self) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Val::Missing => &NULL,
            Val::Data(v) => v,
        }
    }

    /// Go's `isTrue`: false, 0, "", null, empty arrays and objects, and
    /// missing values are false; everything else is true.
    pub(super) fn truthy(&self) -> bool {
        match self {
            Val::Missing => false,
            Val::Data(v) => match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
            },
        }
    }
}

impl From<Value> for Val {
    fn from(v: Value) -> Val {
        Val::Data(v)
    }
}

/// The Go type a JSON value stands for, as Go's error messages and
/// `%!verb(type=value)` spell it. JSON does not say how wide an integer
/// was, so integers are called `int` (Docker's counts are `int`).
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "interface {}",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(n) if n.is_u64() && n.as_i64().is_none() => "uint64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// The value as an integer, if it is an integer or a whole float (Go
/// accepts whole float constants where an `int` is wanted).
pub(super) fn as_int(v: &Value) -> Option<i64> {
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // The range check keeps the cast exact.
    (n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
}

/// A JSON number for `f`; non-finite values have no JSON form.
pub(super) fn float_value(f: f64) -> Option<Value> {
    Number::from_f64(f).map(Value::Number)
}

/// An integer JSON value.
pub(super) fn int_value(i: i64) -> Value {
    Value::Number(Number::from(i))
}
