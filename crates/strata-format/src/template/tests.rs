//! Template syntax and printing cases. Expected outputs are what Go's
//! `text/template` prints for the same template over the equivalent
//! `map[string]interface{}` data, unless a comment says otherwise.

use serde_json::{Value, json};

use super::Template;

/// Parses and renders; errors come back as their message.
pub(super) fn run(src: &str, data: &Value) -> Result<String, String> {
    Template::parse(src)
        .and_then(|t| t.render(data))
        .map_err(|e| e.to_string())
}

#[track_caller]
fn check(src: &str, data: Value, want: &str) {
    assert_eq!(run(src, &data).as_deref(), Ok(want), "template: {src:?}");
}

#[test]
fn fields_and_dot() {
    check("hello", json!(null), "hello");
    check("{{.}}", json!("str"), "str");
    check("{{.Name}}", json!({"Name": "busybox"}), "busybox");
    check("{{.A.B}}", json!({"A": {"B": "x"}}), "x");
    check("{{ .A.B }}", json!({"A": {"B": "x"}}), "x");
    // A key that is absent prints Go's <no value>, at any depth.
    check("{{.Missing}}", json!({}), "<no value>");
    check("{{.A.B.C}}", json!({}), "<no value>");
    // Beyond Go (which reports a nil pointer): a field of null is absent too.
    check("{{.A.B}}", json!({"A": null}), "<no value>");
    // A key holding null prints <nil>.
    check("{{.N}}", json!({"N": null}), "<nil>");
    check(
        "{{with .A}}{{$.B}}{{end}}",
        json!({"A": 1, "B": "root"}),
        "root",
    );
    check("{{$}}", json!("top"), "top");
    check("{{$.A.B}}", json!({"A": {"B": 7}}), "7");
    check("{{(.A).B}}", json!({"A": {"B": 7}}), "7");
}

#[test]
fn values_print_like_go_v() {
    check("{{.}}", json!(42), "42");
    check("{{.}}", json!(-7), "-7");
    check("{{.}}", json!(1.5), "1.5");
    check("{{.}}", json!(3.0), "3");
    check("{{.}}", json!(1e6), "1e+06");
    check("{{.}}", json!(123456.0), "123456");
    check("{{.}}", json!(9007199254740993_i64), "9007199254740993");
    check("{{.}}", json!(true), "true");
    check("{{.}}", json!(null), "<nil>");
    check("{{.}}", json!(["a", "b", "c"]), "[a b c]");
    check(
        "{{.}}",
        json!([1, "x", null, true, []]),
        "[1 x <nil> true []]",
    );
    check("{{.}}", json!({"b": 1, "a": "x"}), "map[a:x b:1]");
    check(
        "{{.}}",
        json!({"m": {"k": [1, 2]}, "e": {}}),
        "map[e:map[] m:map[k:[1 2]]]",
    );
    check("{{.}}", json!("日本 ✓"), "日本 ✓");
}

#[test]
fn literals() {
    check(r#"{{"a\tb\u00e9"}}"#, json!(null), "a\tbé");
    check(r"{{`a\tb`}}", json!(null), r"a\tb");
    check("{{'a'}}", json!(null), "97");
    check(
        "{{1.5}} {{1e3}} {{0x1F}} {{0o17}} {{0b101}} {{1_000}} {{-3}} {{+4}}",
        json!(null),
        "1.5 1000 31 15 5 1000 -3 4",
    );
    check("{{true}} {{false}}", json!(null), "true false");
    check("{{print nil}}", json!(null), "<nil>");
}

#[test]
fn variables_and_scope() {
    check("{{$x := .A}}{{$x}}", json!({"A": "v"}), "v");
    check("{{$x := 1}}{{$x = 2}}{{$x}}", json!(null), "2");
    // A declaration inside a block shadows until its {{end}}...
    check(
        "{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}",
        json!(null),
        "21",
    );
    // ...while an assignment changes the outer variable.
    check(
        "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}",
        json!(null),
        "2",
    );
    check(
        "{{if $v := .A}}{{$v}}{{else}}none{{end}}",
        json!({"A": "set"}),
        "set",
    );
    check("{{$x := .A}}", json!({"A": 1}), "");
}

#[test]
fn control_structures() {
    let ab = |a: Value, b: Value| json!({"A": a, "B": b});
    let t = "{{if .A}}a{{else if .B}}b{{else}}c{{end}}";
    check(t, ab(json!(true), json!(true)), "a");
    check(t, ab(json!(false), json!(1)), "b");
    check(t, json!({}), "c");
    check(
        "{{with .A}}<{{.}}>{{else}}none{{end}}",
        json!({"A": "x"}),
        "<x>",
    );
    check(
        "{{with .A}}<{{.}}>{{else}}none{{end}}",
        json!({"A": ""}),
        "none",
    );
    check(
        "{{with .A}}a{{else with .B}}{{.}}{{else}}c{{end}}",
        json!({"B": "b"}),
        "b",
    );
    check(
        "{{if\n.A}}multi-line action{{end}}",
        json!({"A": 1}),
        "multi-line action",
    );
}

#[test]
fn truthiness() {
    let t = "{{if .}}T{{else}}F{{end}}";
    for falsy in [
        json!(0),
        json!(0.0),
        json!(""),
        json!(null),
        json!([]),
        json!({}),
        json!(false),
    ] {
        check(t, falsy, "F");
    }
    for truthy in [
        json!(1),
        json!(0.5),
        json!("x"),
        json!([0]),
        json!({"a": 1}),
        json!(true),
    ] {
        check(t, truthy, "T");
    }
    check("{{if .Missing}}T{{else}}F{{end}}", json!({}), "F");
}

#[test]
fn range() {
    let list = json!({"L": ["a", "b"], "P": "-"});
    check("{{range .L}}[{{.}}]{{end}}", list.clone(), "[a][b]");
    check(
        "{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}",
        list.clone(),
        "0=a 1=b ",
    );
    check("{{range $e := .L}}{{$e}}{{end}}", list.clone(), "ab");
    check("{{range .L}}{{$.P}}{{.}}{{end}}", list, "-a-b");
    // Objects iterate in sorted key order, like Go maps.
    check(
        "{{range $k, $v := .M}}{{$k}}:{{$v}},{{end}}",
        json!({"M": {"z": 1, "a": 2, "m": 3}}),
        "a:2,m:3,z:1,",
    );
    check(
        "{{range .M}}{{.}}{{end}}",
        json!({"M": {"b": 1, "a": 2}}),
        "21",
    );
    for empty in [
        json!({"L": []}),
        json!({"L": {}}),
        json!({"L": null}),
        json!({}),
    ] {
        check("{{range .L}}x{{else}}empty{{end}}", empty, "empty");
    }
    // Go 1.22 ranges over integers.
    check("{{range 3}}{{.}}{{end}}", json!(null), "012");
    check(
        "{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
        json!({"L": [1, 2, 3, 4, 5]}),
        "13",
    );
    check(
        "{{range .L}}{{range .}}{{.}}{{end}};{{end}}",
        json!({"L": [[1, 2], [3]]}),
        "12;3;",
    );
}

#[test]
fn trimming_and_comments() {
    check("a  {{- .X -}}  b", json!({"X": "X"}), "aXb");
    check("a \n\t{{- .X}} b", json!({"X": 1}), "a1 b");
    check("{{.X -}}\n\n  b", json!({"X": 1}), "1b");
    check("a{{/* comment */}}b", json!(null), "ab");
    check("a {{- /* trimmed comment */ -}} b", json!(null), "ab");
    // "{{-3}}" is a number, not a trim marker.
    check("x {{-3}}", json!(null), "x -3");
    check(
        "{{range .L -}}\n  {{.}}\n{{- end}}",
        json!({"L": [1, 2]}),
        "12",
    );
}

#[test]
fn pipelines_and_parens() {
    check(r#"{{.A | printf "%s!"}}"#, json!({"A": "x"}), "x!");
    check(
        r#"{{.A | upper | printf "<%s>"}}"#,
        json!({"A": "x"}),
        "<X>",
    );
    check(
        "{{(index .L 1).Name}}",
        json!({"L": [{"Name": "a"}, {"Name": "b"}]}),
        "b",
    );
    check(
        r#"{{printf "%d-%d" (len .L) 3}}"#,
        json!({"L": [1, 2]}),
        "2-3",
    );
    check(
        r#"{{.L | len | printf "%03d"}}"#,
        json!({"L": [1, 2]}),
        "002",
    );
}

#[test]
fn header_rendering() {
    let header = json!({"ID": "IMAGE ID", "Size": "SIZE", "Names": "NAMES"});
    let header_run = |src: &str| {
        Template::parse(src)
            .unwrap()
            .render_header(&header)
            .unwrap()
    };
    // Docker's HeaderFunctions return the title untouched...
    assert_eq!(header_run("{{json .ID}}"), "IMAGE ID");
    assert_eq!(header_run("{{.Size | lower}}"), "SIZE");
    assert_eq!(header_run(r#"{{split .Names ","}}"#), "NAMES");
    assert_eq!(
        header_run(r#"{{join .Names ","}}|{{truncate .ID 3}}|{{title .Size}}"#),
        "NAMES|IMAGE ID|SIZE"
    );
    // ...except pad, which keeps the header aligned with padded rows.
    assert_eq!(header_run("{{pad .ID 1 1}}"), " IMAGE ID ");
    // An ordinary render applies the real functions to the titles.
    check("{{json .ID}}", header.clone(), "\"IMAGE ID\"");
    check("{{.ID | lower}}", header, "image id");
}
