//! Shell-style word expansion as BuildKit's `shell/lex.go` does it: the
//! rules every `$VAR` in a Dockerfile instruction goes through.
//!
//! This is not a shell. It knows quotes, the escape character, `$NAME`,
//! `${NAME}` and the `${NAME<modifier>...}` forms listed on [`Lexer`], and
//! nothing else: no command substitution, no arithmetic, no globbing.
//!
//! ```
//! use std::collections::BTreeMap;
//! use strata_dockerfile::shell::Lexer;
//!
//! let env = BTreeMap::from([("NAME".to_owned(), "world".to_owned())]);
//! let lex = Lexer::new('\\');
//! assert_eq!(lex.process_word("hello ${NAME:-x}", &env).unwrap(), "hello world");
//! assert_eq!(
//!     lex.process_words("a 'b c' $NAME", &env).unwrap(),
//!     ["a", "b c", "world"]
//! );
//! ```

mod pattern;
mod word;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::gofmt;

/// Where expansion looks variables up.
///
/// `None` means unset, which differs from set-but-empty for the `-`, `+` and
/// `?` modifiers without a colon.
pub trait VarLookup {
    /// The value of `name`, or `None` when it is unset.
    fn lookup(&self, name: &str) -> Option<String>;
}

impl VarLookup for BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<S: std::hash::BuildHasher> VarLookup for HashMap<String, String, S> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A list of assignments in order; a later entry overrides an earlier one,
/// like repeated `ENV` lines.
impl VarLookup for [(String, String)] {
    fn lookup(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

impl VarLookup for Vec<(String, String)> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.as_slice().lookup(name)
    }
}

/// A word that could not be expanded. Displays as BuildKit reports it:
/// `failed to process "${V:?}": V: is not allowed to be empty`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {}: {message}", gofmt::quote(.word))]
pub struct ExpandError {
    word: String,
    message: String,
}

impl ExpandError {
    /// The word that was being expanded.
    pub fn word(&self) -> &str {
        &self.word
    }

    /// Why it failed, without the `failed to process` prefix (for
    /// `${V:?msg}` this is `V: msg`).
    pub fn reason(&self) -> &str {
        &self.message
    }
}

/// The result of [`Lexer::process_word_with_matches`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordMatches {
    /// The expanded word.
    pub value: String,
    /// Variables that were looked up and set (possibly to the empty string).
    pub matched: BTreeSet<String>,
    /// Variables that were looked up and unset.
    pub unmatched: BTreeSet<String>,
}

impl WordMatches {
    /// Every variable name the word referred to, set or not; what a cache
    /// key has to cover.
    pub fn looked_up(&self) -> BTreeSet<String> {
        self.matched.union(&self.unmatched).cloned().collect()
    }
}

/// Expands variables in Dockerfile words.
///
/// Supported: single quotes (literal), double quotes (`$` expands, the
/// escape character escapes `"`, `$` and itself), the escape character
/// outside quotes, `$NAME`, `${NAME}`, and `${NAME` followed by `:-w`, `-w`,
/// `:+w`, `+w`, `:?msg`, `?msg`, `#pat`, `##pat`, `%pat`, `%%pat`,
/// `/pat/repl` or `//pat/repl` and `}`. Patterns know `*`, `?` and the
/// escaped `\*`, `\?`, `\\`; brackets are literal characters, exactly as in
/// BuildKit. Unset variables expand to the empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    escape: char,
    raw_quotes: bool,
    raw_escapes: bool,
    skip_unset_env: bool,
    skip_process_quotes: bool,
}

impl Lexer {
    /// A lexer using `escape` (`\` or `` ` ``, from the `# escape=`
    /// directive) as its escape character.
    pub fn new(escape: char) -> Self {
        Self {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
            skip_process_quotes: false,
        }
    }

    /// The escape character.
    pub fn escape(&self) -> char {
        self.escape
    }

    /// Keep quote characters in the output (BuildKit's `RawQuotes`).
    pub fn with_raw_quotes(mut self, on: bool) -> Self {
        self.raw_quotes = on;
        self
    }

    /// Keep escape characters in the output (BuildKit's `RawEscapes`).
    pub fn with_raw_escapes(mut self, on: bool) -> Self {
        self.raw_escapes = on;
        self
    }

    /// Leave references to unset variables as written instead of expanding
    /// them to nothing (BuildKit's `SkipUnsetEnv`).
    pub fn with_skip_unset_env(mut self, on: bool) -> Self {
        self.skip_unset_env = on;
        self
    }

    /// Treat quotes as ordinary characters (BuildKit's `SkipProcessQuotes`,
    /// used when expanding heredoc contents).
    pub fn with_skip_process_quotes(mut self, on: bool) -> Self {
        self.skip_process_quotes = on;
        self
    }

    /// Expands `word` into one string; whitespace is kept as it is.
    pub fn process_word(&self, word: &str, env: &dyn VarLookup) -> Result<String, ExpandError> {
        self.process_word_with_matches(word, env).map(|m| m.value)
    }

    /// Expands `word` and splits the result into words at unquoted
    /// whitespace, after expansion: a variable's value is split, a quoted
    /// string is not. Empty words are dropped, `""` included.
    pub fn process_words(
        &self,
        word: &str,
        env: &dyn VarLookup,
    ) -> Result<Vec<String>, ExpandError> {
        let mut w = word::Word::new(self, word, env);
        w.process()
            .map(|(_, words)| words)
            .map_err(|message| ExpandError {
                word: word.to_owned(),
                message,
            })
    }

    /// Like [`Lexer::process_word`], also reporting which variables were
    /// looked up (for cache keys and unused-argument checks).
    pub fn process_word_with_matches(
        &self,
        word: &str,
        env: &dyn VarLookup,
    ) -> Result<WordMatches, ExpandError> {
        let mut w = word::Word::new(self, word, env);
        match w.process() {
            Ok((value, _)) => Ok(WordMatches {
                value,
                matched: std::mem::take(&mut w.matched),
                unmatched: std::mem::take(&mut w.unmatched),
            }),
            Err(message) => Err(ExpandError {
                word: word.to_owned(),
                message,
            }),
        }
    }
}

impl Default for Lexer {
    fn default() -> Self {
        Self::new('\\')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_assignment_wins() {
        let env = vec![
            ("A".to_owned(), "1".to_owned()),
            ("A".to_owned(), "2".to_owned()),
        ];
        assert_eq!(env.lookup("A").as_deref(), Some("2"));
        assert_eq!(env.lookup("B"), None);
    }

    #[test]
    fn error_display_matches_buildkit() {
        let env = BTreeMap::from([("V".to_owned(), String::new())]);
        let err = Lexer::new('\\').process_word("${V:?}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"failed to process "${V:?}": V: is not allowed to be empty"#
        );
        assert_eq!(err.reason(), "V: is not allowed to be empty");
        assert_eq!(err.word(), "${V:?}");
    }

    #[test]
    fn matches_report_lookups() {
        let env = BTreeMap::from([("A".to_owned(), String::new())]);
        let m = Lexer::new('\\')
            .process_word_with_matches("$A ${B:-x}", &env)
            .unwrap();
        assert_eq!(m.value, " x");
        assert_eq!(m.matched, BTreeSet::from(["A".to_owned()]));
        assert_eq!(m.unmatched, BTreeSet::from(["B".to_owned()]));
        assert_eq!(m.looked_up().len(), 2);
    }
}
