//! Function cases: Go's builtins, Go's `fmt` emulation behind `print`
//! and `printf`, and Docker's template functions.

use serde_json::{Value, json};

use super::printf::{sprint, sprintf, sprintln};
use super::tests::run;
use super::value::Val;

#[track_caller]
fn check(src: &str, data: Value, want: &str) {
    assert_eq!(run(src, &data).as_deref(), Ok(want), "template: {src:?}");
}

fn data() -> Value {
    json!({
        "L": ["a", "b", "c"],
        "M": {"k": "v", "n": null},
        "N": [[1, 2], [3, 4]],
        "S": "a:b:c",
        "ID": "sha256:d5565f5b9b73c1e0a2f7a4e3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3",
        "Zero": 0,
    })
}

#[test]
fn logic() {
    check(
        "{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 false}}",
        data(),
        "0 2 x false",
    );
    // and/or stop evaluating once decided: the out-of-range index never runs.
    check(
        "{{and false (index .L 5)}} {{or 1 (index .L 5)}}",
        data(),
        "false 1",
    );
    check(
        "{{not 0}} {{not .L}} {{not .Missing}}",
        data(),
        "true false true",
    );
    check("{{if and .L (not .Zero)}}yes{{end}}", data(), "yes");
    check("{{.Zero | or \"fallback\"}}", data(), "fallback");
}

#[test]
fn len_index_slice() {
    check("{{len .L}} {{len .M}} {{len .S}}", data(), "3 2 5");
    // len of a string counts bytes, as in Go.
    check("{{len \"héllo\"}}", json!(null), "6");
    check(
        "{{index .L 1}} {{index .M \"k\"}} {{index .N 1 0}} {{index \"abc\" 1}}",
        data(),
        "b v 3 98",
    );
    // index of an absent key yields the element zero value: <nil>, not <no value>.
    check(
        "{{index .M \"nokey\"}} {{index .M \"n\"}}",
        data(),
        "<nil> <nil>",
    );
    check(
        "{{slice .L 1 2}} {{slice .L 1}} {{slice .S 2 3}} {{slice .L}}",
        data(),
        "[b] [b c] b [a b c]",
    );
}

#[test]
fn printing() {
    check("{{print 1 2 \"a\" 3 \"b\" \"c\"}}", json!(null), "1 2a3bc");
    check("{{println \"a\" 1}}", json!(null), "a 1\n");
    check(
        "{{printf \"%s=%d %v %q %t %%\" \"a\" 5 .L \"q\" true}}",
        data(),
        "a=5 [a b c] \"q\" true %",
    );
    check(
        "{{printf \"%5.1f|%-4d|%x\" 3.14159 7 255}}",
        json!(null),
        "  3.1|7   |ff",
    );
    check(
        "{{printf \"%d %s\" \"x\"}}",
        json!(null),
        "%!d(string=x) %!s(MISSING)",
    );
    check(
        "{{printf \"%v|%s\" .Missing .M}}",
        data(),
        "<nil>|map[k:v n:<nil>]",
    );
}

#[test]
fn comparisons() {
    check(
        "{{eq .S \"a:b:c\"}} {{eq 1 2 3 1}} {{eq \"a\" \"b\"}}",
        data(),
        "true true false",
    );
    check(
        "{{ne \"a\" \"b\"}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}",
        json!(null),
        "true true true true false",
    );
    check("{{eq .M.n nil}} {{eq .M.k nil}}", data(), "true false");
    // Go refuses int-vs-float comparisons; JSON cannot tell them apart, so
    // numbers compare by value here.
    check("{{eq 1 1.0}} {{lt 1 1.5}}", json!(null), "true true");
    check("{{if eq .Zero 0}}zero{{end}}", data(), "zero");
}

#[test]
fn docker_json() {
    check(
        "{{json .}}",
        json!({"b": [1, "<x>&"], "a": null, "c": 1.5}),
        r#"{"a":null,"b":[1,"<x>&"],"c":1.5}"#,
    );
    // Docker disables HTML escaping, but U+2028/2029 are always escaped.
    check("{{json .}}", json!("a\u{2028}b\"c\n"), r#""a\u2028b\"c\n""#);
    check(
        "{{json .L}} {{json .Missing}} {{json 3}}",
        data(),
        r#"["a","b","c"] null 3"#,
    );
}

#[test]
fn docker_strings() {
    check(
        "{{split .S \":\"}} {{index (split .S \":\") 1}} {{len (split \"\" \",\")}}",
        data(),
        "[a b c] b 1",
    );
    check("{{split \"ab\" \"\"}}", json!(null), "[a b]");
    check(
        "{{join .L \", \"}} {{join (split \"a:b\" \":\") \"-\"}}",
        data(),
        "a, b, c a-b",
    );
    check(
        "{{upper \"abc\"}} {{lower \"ÀB\"}} {{\"x\" | upper}}",
        json!(null),
        "ABC àb X",
    );
    // Go's ToUpper maps rune by rune: ß has no single-rune upper case.
    check("{{upper \"straße\"}}", json!(null), "STRAßE");
    // strings.Title: only letters after separators change; "_" joins words.
    check(
        "{{title \"hello world-foo_bar éa\"}}",
        json!(null),
        "Hello World-Foo_bar Éa",
    );
    check(
        "{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}} {{truncate .ID 19}}",
        data(),
        "abc ab sha256:d5565f5b9b73",
    );
    check(
        "[{{pad \"x\" 2 1}}] [{{pad \"\" 2 1}}]",
        json!(null),
        "[  x ] []",
    );
}

#[track_caller]
fn check_sprintf(format: &str, args: &[Value], want: &str) {
    let args: Vec<Val> = args.iter().cloned().map(Val::Data).collect();
    assert_eq!(sprintf(format, &args), want, "{format}");
}

#[test]
fn sprintf_like_go() {
    check_sprintf("%s-%d", &[json!("a"), json!(5)], "a-5");
    check_sprintf("%5s|%-5s|", &[json!("ab"), json!("cd")], "   ab|cd   |");
    check_sprintf(
        "%05d %+d %x %X %o %b %c %U",
        &[
            json!(42),
            json!(3),
            json!(255),
            json!(255),
            json!(8),
            json!(5),
            json!(65),
            json!(65),
        ],
        "00042 +3 ff FF 10 101 A U+0041",
    );
    check_sprintf(
        "%.2f %e %g %.3g",
        &[json!(1.23456), json!(1234.5), json!(1e6), json!(2.0 / 3.0)],
        "1.23 1.234500e+03 1e+06 0.667",
    );
    check_sprintf(
        "%v %t %q %q",
        &[json!(true), json!(false), json!("hi\n"), json!(97)],
        "true false \"hi\\n\" 'a'",
    );
    check_sprintf("%d", &[json!("x")], "%!d(string=x)");
    check_sprintf("%s", &[json!(5)], "%!s(int=5)");
    check_sprintf("%d %d", &[json!(1)], "1 %!d(MISSING)");
    check_sprintf(
        "%d",
        &[json!(1), json!("x"), Value::Null],
        "1%!(EXTRA string=x, <nil>)",
    );
    check_sprintf("%v %d", &[Value::Null, Value::Null], "<nil> %!d(<nil>)");
    check_sprintf("%s", &[json!(["a", "b"])], "[a b]");
    check_sprintf("%q", &[json!(["a", "b"])], "[\"a\" \"b\"]");
    check_sprintf(
        "%v",
        &[json!({"b": [1, null], "a": {"c": 1.5}})],
        "map[a:map[c:1.5] b:[1 <nil>]]",
    );
    check_sprintf(
        "%.2s|%x|%%|%",
        &[json!("héllo"), json!("hi")],
        "hé|6869|%|%!(NOVERB)",
    );
    check_sprintf(
        "%6.2f|%-8.3e|%08.3f",
        &[json!(-1.5), json!(12345.678), json!(-1.23456)],
        " -1.50|1.235e+04|-001.235",
    );
}

#[test]
fn sprint_spacing() {
    let args = |vs: &[Value]| vs.iter().cloned().map(Val::Data).collect::<Vec<_>>();
    assert_eq!(sprint(&args(&[json!("a"), json!("b")])), "ab");
    assert_eq!(
        sprint(&args(&[json!(1), json!(2), json!("x"), json!(3)])),
        "1 2x3"
    );
    assert_eq!(sprintln(&args(&[json!("a"), json!(1)])), "a 1\n");
    assert_eq!(sprint(&[Val::Missing]), "<nil>");
}
