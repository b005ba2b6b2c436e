//! Error cases. Parse errors carry Go's messages verbatim; execution
//! errors follow Go's `template: :LINE:COL: executing "" at <NODE>: MSG`.

use serde_json::{Value, json};

use super::tests::run;

#[track_caller]
fn check(src: &str, data: Value, want: &str) {
    assert_eq!(run(src, &data), Err(want.to_owned()), "template: {src:?}");
}

#[track_caller]
fn check_parse(src: &str, want_msg: &str) {
    assert_eq!(
        run(src, &json!(null)),
        Err(format!("template: :1: {want_msg}")),
        "template: {src:?}"
    );
}

#[test]
fn parse_errors() {
    check_parse("{{.Foo}", r#"unexpected "}" in operand"#);
    check_parse("{{.Foo", "unclosed action");
    check_parse("{{foo}}", r#"function "foo" not defined"#);
    check_parse("{{if .X}}", "unexpected EOF");
    check_parse("{{end}}", "unexpected {{end}}");
    check_parse("{{else}}", "unexpected {{else}}");
    check_parse(
        "{{if .A}}{{else}}{{else}}{{end}}",
        "expected end; found {{else}}",
    );
    check_parse("{{$x}}", r#"undefined variable "$x""#);
    check_parse(
        "{{with $x := 1}}{{end}}{{$x}}",
        r#"undefined variable "$x""#,
    );
    check_parse("{{\"abc}}", "unterminated quoted string");
    check_parse("{{`abc}}", "unterminated raw quoted string");
    check_parse(r#"{{"a\q"}}"#, "invalid syntax");
    check_parse("{{}}", "missing value for command");
    check_parse("{{range}}{{end}}", "missing value for range");
    check_parse("{{if}}{{end}}", "missing value for if");
    check_parse("{{/* x }}", "unclosed comment");
    check_parse("{{/* x */ .A}}", "comment ends before closing delimiter");
    check_parse("{{.A | 3}}", "non executable command in pipeline stage 2");
    check_parse("{{break}}", "{{break}} outside {{range}}");
    check_parse("{{(.A}}", "unclosed left paren");
    check_parse("{{.A)}}", "unexpected right paren");
    check_parse("{{3x}}", r#"bad number syntax: "3x""#);
    check_parse("{{.A.}}", "unexpected <.> in operand");
    check_parse(
        "{{range $i, $j, $k := .L}}{{end}}",
        "too many declarations in range",
    );
    check_parse(r#"{{"x".A}}"#, r#"unexpected . after term "\"x\"""#);
    check_parse("{{.A ^}}", r#"unexpected "^" in operand"#);
    check_parse("{{template \"x\"}}", "{{template}} is not supported");
    // Errors report the line they are on.
    assert_eq!(
        run("line1\n{{foo}}", &json!(null)),
        Err(r#"template: :2: function "foo" not defined"#.to_owned())
    );
}

#[test]
fn exec_errors() {
    let d = json!({"L": ["a"], "A": "s", "M": {"k": 1}});
    // A bad literal argument is reported at the literal, a bad value at
    // the node that produced it.
    check(
        "{{upper 1}}",
        json!(null),
        r#"template: :1:8: executing "" at <1>: expected string; found 1"#,
    );
    check(
        "{{upper .N}}",
        json!({"N": 1}),
        r#"template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int"#,
    );
    // A piped value is checked after the arguments, so Go reports it at
    // the last node it looked at: here the function name.
    check(
        "{{.N | upper}}",
        json!({"N": 1}),
        r#"template: :1:7: executing "" at <upper>: wrong type for value; expected string; got int"#,
    );
    check(
        r#"{{truncate "abc" "2"}}"#,
        json!(null),
        r#"template: :1:17: executing "" at <"2">: expected integer; found "2""#,
    );
    check(
        "{{upper}}",
        json!(null),
        r#"template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0"#,
    );
    check(
        "{{upper .Missing}}",
        json!({}),
        r#"template: :1:8: executing "" at <.Missing>: invalid value; expected string"#,
    );
    check(
        "{{index .L 5}}",
        d.clone(),
        r#"template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5"#,
    );
    check(
        "{{len 3}}",
        json!(null),
        r#"template: :1:2: executing "" at <len 3>: error calling len: len of type int"#,
    );
    check(
        "{{.A.B}}",
        d.clone(),
        r#"template: :1:4: executing "" at <.A.B>: can't evaluate field B in type string"#,
    );
    check(
        "{{.M 1}}",
        d.clone(),
        r#"template: :1:2: executing "" at <.M>: M is not a method but has arguments"#,
    );
    check(
        "{{nil}}",
        json!(null),
        r#"template: :1:2: executing "" at <nil>: nil is not a command"#,
    );
    check(
        r#"{{"x" 1}}"#,
        json!(null),
        r#"template: :1:2: executing "" at <"x">: can't give argument to non-function "x""#,
    );
    // Go names the whole range node in the context.
    check(
        "{{range .A}}{{end}}",
        d.clone(),
        r#"template: :1:8: executing "" at <{{range .A}}{{end}}>: range can't iterate over s"#,
    );
    check(
        "{{range $i, $e := 3}}{{end}}",
        json!(null),
        r#"template: :1:8: executing "" at <{{range $i, $e := 3}...>: can't use 3 to iterate over more than one variable"#,
    );
    check(
        r#"{{eq "a" 1}}"#,
        json!(null),
        r#"template: :1:2: executing "" at <eq "a" 1>: error calling eq: incompatible types for comparison"#,
    );
    check(
        "{{lt true false}}",
        json!(null),
        r#"template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison"#,
    );
    check(
        "{{truncate \"abc\" -1}}",
        json!(null),
        r#"template: :1:2: executing "" at <truncate "abc" -1>: error calling truncate: runtime error: slice bounds out of range [:-1]"#,
    );
    // Long node texts are cut to 20 characters, and the column counts from
    // the start of the line.
    check(
        "x\n  {{index .L 1000000000000}}",
        d,
        r#"template: :2:4: executing "" at <index .L 10000000000...>: error calling index: index out of range: 1000000000000"#,
    );
}
