//! Heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) as BuildKit
//! recognizes them on `RUN`, `COPY` and `ADD` lines.
//!
//! A marker is found by lexing the whole instruction line into shell words
//! and matching each word against `^(\d*)<<(-?)\s*([^<]*)$`. The name is
//! the word after `<<` with quotes removed; if any part of it was quoted,
//! the body is not expanded.

use serde::Serialize;

use crate::shell::Lexer;

/// A here-document attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The delimiter word, quotes removed (`EOF` for `<<'EOF'`).
    pub name: String,
    /// The body: every line up to the delimiter line, each with its line
    /// ending as in the file. See [`Heredoc::chomp`] for leading tabs.
    pub content: String,
    /// Whether variables in the body are expanded (the delimiter was not
    /// quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body lines (and the
    /// delimiter line may be indented with tabs).
    pub chomp: bool,
}

impl Heredoc {
    /// The body with `<<-` applied: leading tabs removed from every line
    /// when [`Heredoc::chomp`] is set.
    pub fn chomped_content(&self) -> String {
        if self.chomp {
            chomp(&self.content)
        } else {
            self.content.clone()
        }
    }
}

/// Removes leading tabs from every line.
pub(crate) fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

/// No variables exist while looking for markers; with `skip_unset_env`
/// references stay as written.
struct NoEnv;

impl crate::shell::VarLookup for NoEnv {
    fn lookup(&self, _: &str) -> Option<String> {
        None
    }
}

/// Parses one shell word as a heredoc marker. `Ok(None)` when it is not
/// one; an error when the delimiter cannot be lexed.
pub(crate) fn parse_marker(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let Some(rest) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\u{c}', '\r']);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let lex = Lexer::new('\\').with_skip_unset_env(true);
    let words = lex.process_words(rest, &NoEnv).map_err(|e| e.to_string())?;
    // The delimiter must be a single word (`<<EOF sh` is not a marker).
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let raw = lex
        .with_raw_quotes(true)
        .process_words(rest, &NoEnv)
        .map_err(|e| e.to_string())?;
    let [raw_name] = raw.as_slice() else {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    };
    // Quotes that only show up in the raw lexing were quoting (part of) the
    // delimiter, which turns expansion off.
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        expand: quotes(name) == quotes(raw_name),
        chomp,
    }))
}

/// Every heredoc marker on an instruction line, in order.
pub(crate) fn markers_in_line(line: &str) -> Result<Vec<Heredoc>, String> {
    let lex = Lexer::new('\\')
        .with_raw_quotes(true)
        .with_raw_escapes(true)
        .with_skip_unset_env(true);
    // BuildKit ignores lexing errors here: such a line has no heredocs.
    let words = lex.process_words(line, &NoEnv).unwrap_or_default();
    let mut docs = Vec::new();
    for word in words {
        if let Some(doc) = parse_marker(&word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(src: &str) -> Option<String> {
        parse_marker(src).unwrap().map(|h| h.name)
    }

    #[test]
    fn recognizes_markers() {
        for src in [
            "<<EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "<<-EOF",
            "<<-'EOF'",
            "<<-\"EOF\"",
            "<<EO\"F\"",
            "<< EOF",
            "<<- EOF",
            "3<<EOF",
        ] {
            assert_eq!(name(src).as_deref(), Some("EOF"), "{src}");
        }
        for src in ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"] {
            assert_eq!(name(src), None, "{src}");
        }
        for src in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_marker(src).is_err(), "{src}");
        }
    }

    #[test]
    fn quoting_disables_expansion() {
        let m = |s| parse_marker(s).unwrap().unwrap();
        assert!(m("<<EOF").expand);
        assert!(!m("<<'EOF'").expand);
        assert!(!m("<<eo'f'").expand);
        assert!(m(r"<<eo\'f").expand);
        assert_eq!(m(r"<<eo\'f").name, "eo'f");
        assert!(m("<<-EOF").chomp);
        assert_eq!(m("<<$EOF").name, "$EOF");
    }

    #[test]
    fn finds_markers_in_lines() {
        let names = |l| -> Vec<String> {
            markers_in_line(l)
                .unwrap()
                .into_iter()
                .map(|h| h.name)
                .collect()
        };
        assert_eq!(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert!(names("RUN '<<EOF'").is_empty());
        assert!(names("RUN \"<<EOF\"").is_empty());
        assert!(names("RUN echo 'unterminated <<EOF").is_empty());
    }

    #[test]
    fn chomps_leading_tabs() {
        assert_eq!(chomp("\thello\n\t\tworld\n"), "hello\nworld\n");
        let h = Heredoc {
            name: "E".into(),
            content: "\ta\r\n".into(),
            expand: true,
            chomp: true,
        };
        assert_eq!(h.chomped_content(), "a\r\n");
    }
}
