//! Table tests for `shell::Lexer`, the word expansion BuildKit applies to
//! Dockerfile arguments (`frontend/dockerfile/shell/lex.go`).
//!
//! Every row is one call; expected values were worked out from BuildKit's
//! implementation rules (quotes, escapes, modifiers, pattern matching).

use std::collections::BTreeSet;

use strata_dockerfile::shell::Lexer;

/// The environment most rows use.
const ENV: &[(&str, &str)] = &[
    ("PWD", "/home"),
    ("SHELL", "bash"),
    ("EMPTY", ""),
    ("FILE", "/usr/local/lib/archive.tar.gz"),
    ("SPACED", "  ab c  "),
    ("KOREAN", "한국어"),
    ("STARS", "a***yy*"),
];

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn check_with(lex: Lexer, word: &str, vars: &[(&str, &str)], expected: Result<&str, &str>) {
    let got = lex.process_word(word, &env(vars));
    match expected {
        Ok(want) => assert_eq!(got.as_deref(), Ok(want), "word {word:?}"),
        Err(want) => assert_eq!(
            got.map_err(|e| e.to_string()),
            Err(want.to_owned()),
            "word {word:?}"
        ),
    }
}

/// Expands `word` with `\` as the escape character.
#[track_caller]
fn check(word: &str, vars: &[(&str, &str)], expected: &str) {
    check_with(Lexer::new('\\'), word, vars, Ok(expected));
}

/// Expands `word` with `` ` `` as the escape character.
#[track_caller]
fn check_bt(word: &str, vars: &[(&str, &str)], expected: &str) {
    check_with(Lexer::new('`'), word, vars, Ok(expected));
}

/// Expects expansion to fail with exactly `message`.
#[track_caller]
fn check_err(word: &str, vars: &[(&str, &str)], message: &str) {
    check_with(Lexer::new('\\'), word, vars, Err(message));
}

#[track_caller]
fn check_words(word: &str, vars: &[(&str, &str)], expected: &[&str]) {
    let got = Lexer::new('\\')
        .process_words(word, &env(vars))
        .expect("expansion");
    assert_eq!(got, expected, "word {word:?}");
}

#[test]
fn quotes_and_escapes() {
    check("hello", ENV, "hello");
    check("he'll'o", ENV, "hello");
    check(r"he\'llo", ENV, "he'llo");
    check(r"abc\tdef", ENV, "abctdef");
    check(r#""abc\tdef""#, ENV, r"abc\tdef");
    check(r#""abc\\tdef""#, ENV, r"abc\tdef");
    check(r"'abc\tdef'", ENV, r"abc\tdef");
    check(r"hello\", ENV, "hello");
    check(r"hello\\", ENV, r"hello\");
    check(r#""hel'lo""#, ENV, "hel'lo");
    check(r"'hello\'", ENV, r"hello\");
    check(r#""''""#, ENV, "''");
    check(r#"'"hello"'"#, ENV, r#""hello""#);
    check(r#""a\"b""#, ENV, r#"a"b"#);
    check(r#""a\$b""#, ENV, "a$b");
    check(r#""a\xb""#, ENV, r"a\xb");
    check("안'녕'하세요", ENV, "안녕하세요");
    check(r"안녕\'하세요", ENV, "안녕'하세요");
    check("a  b", ENV, "a  b");
    check("<<EOF", ENV, "<<EOF");
}

#[test]
fn plain_variables() {
    check("$PWD", ENV, "/home");
    check("he$PWD", ENV, "he/home");
    check("he${PWD}xx", ENV, "he/homexx");
    check("he$pwd.", ENV, "he.");
    check("$NOPE", ENV, "");
    check("${NOPE}x", ENV, "x");
    check(r"he\$PWD", ENV, "he$PWD");
    check(r"he\\$PWD", ENV, r"he\/home");
    check(r#""he\$PWD""#, ENV, "he$PWD");
    check(r#""he\\$PWD""#, ENV, r"he\/home");
    check(r"\${}", ENV, "${}");
    check("'$PWD'", ENV, "$PWD");
    check(r#""he'$PWD'""#, ENV, "he'/home'");
    check("$.", ENV, "$.");
    check("$", ENV, "$");
    check("a$ b", ENV, "a$ b");
    check("he$1x", ENV, "hex");
    check("$999aaa", ENV, "aaa");
    check("$@@@", ENV, "@@");
    check("$$", ENV, "");
    check("${#}", ENV, "");
    check("$KOREAN", ENV, "한국어");
    check("$PWD_x", ENV, "");
    check("${PWD}_x", ENV, "/home_x");
}

#[test]
fn default_and_alternative() {
    check("${NOPE:-000}", ENV, "000");
    check("${PWD:-000}", ENV, "/home");
    check("${EMPTY:-fallback}", ENV, "fallback");
    check("${EMPTY-fallback}", ENV, "");
    check("${NOPE-fallback}", ENV, "fallback");
    check("${NOPE:-$PWD}", ENV, "/home");
    check("${NOPE:-${MISSING:-yyy}}", ENV, "yyy");
    check("${NOPE:-a b}", ENV, "a b");
    check(r#"${NOPE:-"quoted }"}"#, ENV, "quoted }");
    check(r"${NOPE:-\$PWD:}", ENV, "$PWD:");
    check(r"${NOPE:-\}}", ENV, "}");
    check("${PWD:+set}", ENV, "set");
    check("${EMPTY:+set}", ENV, "");
    check("${EMPTY+set}", ENV, "set");
    check("${NOPE+set}", ENV, "");
    check("${PWD:+${SHELL}}", ENV, "bash");
    check("${PWD:+${PWD}:}xx", ENV, "/home:xx");
    check("${1:-bbb}", ENV, "bbb");
    check("${@:+bbb}aaa", ENV, "aaa");
    check("${aaa:-bbb}}", ENV, "bbb}");
    check("${aaa:-bbb {foo}", ENV, "bbb {foo");
}

#[test]
fn required_variables() {
    check("${PWD?}", ENV, "/home");
    check("${PWD:?}", ENV, "/home");
    check("${EMPTY?}", ENV, "");
    check_err(
        "${EMPTY:?}",
        ENV,
        r#"failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty"#,
    );
    check_err(
        "${NOPE?}",
        ENV,
        r#"failed to process "${NOPE?}": NOPE: is not allowed to be unset"#,
    );
    check_err(
        "${NOPE:?}",
        ENV,
        r#"failed to process "${NOPE:?}": NOPE: is not allowed to be unset"#,
    );
    check_err(
        "${NOPE:?set it with --build-arg $SHELL}",
        ENV,
        r#"failed to process "${NOPE:?set it with --build-arg $SHELL}": NOPE: set it with --build-arg bash"#,
    );
    check_err(
        "x${EMPTY:?must not be empty}",
        ENV,
        r#"failed to process "x${EMPTY:?must not be empty}": EMPTY: must not be empty"#,
    );
}

#[test]
fn prefix_and_suffix_removal() {
    check("${FILE#*/}", ENV, "usr/local/lib/archive.tar.gz");
    check("${FILE##*/}", ENV, "archive.tar.gz");
    check("${FILE%.*}", ENV, "/usr/local/lib/archive.tar");
    check("${FILE%%.*}", ENV, "/usr/local/lib/archive");
    check("${FILE#/usr}", ENV, "/local/lib/archive.tar.gz");
    check("${FILE#nomatch}", ENV, "/usr/local/lib/archive.tar.gz");
    check("${FILE%/*/*}", ENV, "/usr/local");
    check("${FILE##/usr/?ocal}", ENV, "/lib/archive.tar.gz");
    check("${STARS%%\\**\\*}", ENV, "a");
    check("${STARS#a\\*}", ENV, "**yy*");
    check("${FILE#}", ENV, "/usr/local/lib/archive.tar.gz");
    check("${NOPE#x}", ENV, "");
    check("${FILE%[.]gz}", ENV, "/usr/local/lib/archive.tar.gz");
    check("${KOREAN#한}", ENV, "국어");
    check("${KOREAN%?}", ENV, "한국");
}

#[test]
fn pattern_replacement() {
    check("${FILE/l/L}", ENV, "/usr/Local/lib/archive.tar.gz");
    check("${FILE//l/L}", ENV, "/usr/LocaL/Lib/archive.tar.gz");
    check("${FILE//\\//:}", ENV, ":usr:local:lib:archive.tar.gz");
    check("${FILE/*\\//}", ENV, "archive.tar.gz");
    check("${FILE/.tar*/.zip}", ENV, "/usr/local/lib/archive.zip");
    check("${FILE/nomatch/x}", ENV, "/usr/local/lib/archive.tar.gz");
    check("${SHELL//?/-}", ENV, "----");
    check("${SHELL/a/$PWD}", ENV, "b/homesh");
    check("${SHELL///}", ENV, "bash");
    check("${NOPE///}", ENV, "");
    check("${SHELL//[a]/x}", ENV, "bash");
    // The escaped dollar survives expansion, then Go's template expands `$0`
    // to the match.
    check(r"${SHELL//s/\$0}", ENV, r"ba\sh");
}

#[test]
fn backtick_escape() {
    check_bt("C:\\path\\file", ENV, r"C:\path\file");
    check_bt("a`$PWD", ENV, "a$PWD");
    check_bt("a``b", ENV, "a`b");
    check_bt("`\"quoted`\"", ENV, "\"quoted\"");
    check_bt(r#""C:\dir $PWD""#, ENV, r"C:\dir /home");
    check_bt(r#""a`"b""#, ENV, r#"a"b"#);
    check_bt(r#""a`xb""#, ENV, "a`xb");
    check_bt("${NOPE:-`}}", ENV, "}");
    check_bt("trailing`", ENV, "trailing");
    check_bt("'`$PWD'", ENV, "`$PWD");
}

#[test]
fn syntax_errors() {
    check_err(
        "he'llo",
        ENV,
        r#"failed to process "he'llo": unexpected end of statement while looking for matching single-quote"#,
    );
    check_err(
        r#""hello"#,
        ENV,
        r#"failed to process "\"hello": unexpected end of statement while looking for matching double-quote"#,
    );
    check_err(
        "${}",
        ENV,
        r#"failed to process "${}": syntax error: bad substitution"#,
    );
    check_err(
        "${:-x}",
        ENV,
        r#"failed to process "${:-x}": syntax error: bad substitution"#,
    );
    check_err(
        "${{aaa}",
        ENV,
        r#"failed to process "${{aaa}": syntax error: bad substitution"#,
    );
    check_err(
        "he${PWD",
        ENV,
        "failed to process \"he${PWD\": unsupported modifier (\u{fffd}) in substitution",
    );
    check_err(
        "${",
        ENV,
        r#"failed to process "${": syntax error: missing '}'"#,
    );
    check_err(
        "${aaa:-bbb",
        ENV,
        r#"failed to process "${aaa:-bbb": syntax error: missing '}'"#,
    );
    check_err(
        "${PWD:=000}",
        ENV,
        r#"failed to process "${PWD:=000}": unsupported modifier (:=) in substitution"#,
    );
    check_err(
        "${PWD:YYY}",
        ENV,
        r#"failed to process "${PWD:YYY}": unsupported modifier (:Y) in substitution"#,
    );
    check_err(
        "${PWD:#x}",
        ENV,
        r#"failed to process "${PWD:#x}": unsupported modifier (:#) in substitution"#,
    );
    check_err(
        "${PWD=x}",
        ENV,
        r#"failed to process "${PWD=x}": unsupported modifier (=) in substitution"#,
    );
    check_err(
        "${.}",
        ENV,
        r#"failed to process "${.}": unsupported modifier (.) in substitution"#,
    );
    check_err(
        "${PWD//x}",
        ENV,
        r#"failed to process "${PWD//x}": syntax error: missing '/' in ${}"#,
    );
    check_err(
        "${PWD/x/y",
        ENV,
        r#"failed to process "${PWD/x/y": syntax error: missing '}'"#,
    );
    check_err(
        r"${PWD#\x}",
        ENV,
        r#"failed to process "${PWD#\\x}": invalid pattern (\x) in substitution: invalid escape '\x'"#,
    );
}

#[test]
fn word_splitting() {
    let vars = &[("SPACE", "abc  def"), ("LEADING", "  ab c"), ("HI", "hi")];
    check_words("hello", vars, &["hello"]);
    check_words("hello${HI}bye", vars, &["hellohibye"]);
    check_words("hello${SPACE}bye", vars, &["helloabc", "defbye"]);
    check_words(r#"hello"${SPACE}"bye"#, vars, &["helloabc  defbye"]);
    check_words(r#"hello "${SPACE}"bye"#, vars, &["hello", "abc  defbye"]);
    check_words("hello${LEADING}def", vars, &["hello", "ab", "cdef"]);
    check_words(r"hello\ there", vars, &["hello there"]);
    check_words(r#"hello\" there"#, vars, &["hello\"", "there"]);
    check_words("a '' b \"\"", vars, &["a", "b"]);
    check_words("8080/tcp ${NOPE} 53/udp", vars, &["8080/tcp", "53/udp"]);
    check_words("ab${NOPE:-y}", vars, &["aby"]);
    check_words("<< EOF > out", vars, &["<< EOF", ">", "out"]);
}

#[test]
fn lexer_options() {
    let vars = env(&[("SET", "v")]);
    let lex = Lexer::new('\\').with_skip_unset_env(true);
    assert_eq!(
        lex.process_word("$SET $NOPE ${NOPE} ${NOPE:-d}", &vars)
            .unwrap(),
        "v $NOPE ${NOPE} ${NOPE:-d}"
    );
    let raw = Lexer::new('\\')
        .with_raw_quotes(true)
        .with_raw_escapes(true);
    assert_eq!(
        raw.process_word(r#"'a' "b" \c"#, &vars).unwrap(),
        r#"'a' "b" \c"#
    );
    let literal_quotes = Lexer::new('\\').with_skip_process_quotes(true);
    assert_eq!(
        literal_quotes
            .process_word(r#"it's "$SET""#, &vars)
            .unwrap(),
        r#"it's "v""#
    );
    assert_eq!(Lexer::default().escape(), '\\');
}

#[test]
fn matches_are_reported() {
    let vars = env(&[("FOO", "xxx"), ("BAR", "")]);
    let m = Lexer::new('\\')
        .process_word_with_matches("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc} '$QUOTED'", &vars)
        .unwrap();
    assert_eq!(m.value, "xxx  ccc $QUOTED");
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(m.matched, set(&["BAR", "FOO"]));
    assert_eq!(m.unmatched, set(&["BAZ"]));
    assert_eq!(m.looked_up(), set(&["BAR", "BAZ", "FOO"]));
}
