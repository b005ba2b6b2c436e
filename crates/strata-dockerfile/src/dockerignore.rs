//! `.dockerignore` matching with BuildKit's semantics.
//!
//! Three layers, each a port of the behaviour (not the code) of the project
//! Docker uses for it:
//!
//! * **Reading the file** ([`DockerIgnore::parse`]): moby/patternmatcher's
//!   `ignorefile.ReadAll`. A UTF-8 BOM is dropped from the first line; a line
//!   whose *first byte* is `#` is a comment (` #x` is the pattern `#x`);
//!   whitespace is trimmed; after a leading `!` whitespace is trimmed again;
//!   the rest goes through Go's `filepath.Clean` and loses one leading `/`.
//! * **Compiling patterns** ([`DockerIgnore::from_patterns`]):
//!   `patternmatcher.New`. Each pattern is trimmed and cleaned, a leading `!`
//!   makes it an exception, and Go's `filepath.Match(pattern, ".")` decides
//!   whether it is a syntax error (as in Go 1.19, only as much of the
//!   pattern as that match reads is checked: `a*[-_]` passes). The pattern is
//!   then turned into the Go regular expression moby builds (`*` → `[^/]*`,
//!   `?` → `[^/]`, `**` → `(.*/)?` or `.*`, `.+()$` escaped, everything else
//!   passed through, `|{}` included), and that Go (RE2) expression is
//!   translated into an equivalent `regex` one. So classes (`[a-z]`, `[^a]`,
//!   `[[:digit:]]`) and escapes (`\*`) work as in Docker, and so do its
//!   oddities: `[!a]` is not negation, `\d` is a digit, `^` is an anchor,
//!   `a|b*` is an alternation, `a{2}*` a repetition. Literal patterns,
//!   `literal**` and `**literal` use moby's non-regex fast paths, which
//!   differ from the regex in corner cases (`**.md` matches `a/b.md`).
//! * **Walking the context** ([`DockerIgnore::excludes`],
//!   [`DockerIgnore::can_skip_dir`]): the exclude half of fsutil's filtered
//!   walk, which BuildKit uses to send the context. For each path the
//!   patterns are evaluated in order, a later match winning; a pattern that
//!   matched the parent directory counts as matching (fsutil's
//!   `MatchesUsingParentResults`). A pattern is not evaluated where it cannot
//!   change the outcome (an exception while nothing is excluded), and then
//!   does not count for the children either: with `**/*.log` and
//!   `!important`, `important/a.log` stays excluded. An excluded directory is
//!   not sent, but the walk enters it unless it can be skipped, and it
//!   reappears as the parent of anything below it that is sent.
//!
//! This is current BuildKit's behaviour. Docker 20.10, whose CLI sends the
//! context with a 2020 fsutil walker and the old `pkg/fileutils` matcher,
//! differs in corner cases: it escapes only `.` and `$` and always uses the
//! regex, checks a pattern against the path and a single ancestor (the one
//! as deep as the pattern), skips an excluded directory unless an exception
//! literally starts with its path, and sends such a directory even when
//! nothing in it survives. The tests list the cases.
//!
//! Everything here is pure: no file system access.

use regex::{Regex, RegexBuilder};
use strata_core::go_clean;

/// Compiled-size limit of one pattern's regex (`regex` defaults to 10 MiB).
const REGEX_SIZE_LIMIT: usize = 256 << 20;

/// The ignore file at the root of the build context.
pub const DEFAULT_IGNORE_FILE: &str = ".dockerignore";

/// A compiled `.dockerignore`.
#[derive(Clone, Debug, Default)]
pub struct DockerIgnore {
    /// What `patterns()` returns.
    patterns: Vec<String>,
    compiled: Vec<Pattern>,
    /// Some pattern is an exception (`!pattern`).
    has_exclusions: bool,
    /// Every exception is a plain path, so an excluded directory can be
    /// skipped when no exception names something below it (fsutil's
    /// `onlyPrefixExcludeExceptions`).
    only_prefix_exceptions: bool,
}

/// Why a pattern (or ignore file) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct PatternError {
    pattern: String,
    kind: PatternErrorKind,
}

impl PatternError {
    fn new(pattern: &str, kind: PatternErrorKind) -> Self {
        Self {
            pattern: pattern.to_owned(),
            kind,
        }
    }

    /// The offending pattern (or line of the ignore file), as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// What is wrong with it.
    pub fn kind(&self) -> PatternErrorKind {
        self.kind
    }
}

/// The kinds of [`PatternError`]; each displays as Docker's own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// Go's `filepath.ErrBadPattern`: malformed `[...]` or trailing `\`, or
    /// a pattern whose generated regular expression Go rejects (Docker
    /// reports the latter only when the pattern is first evaluated during
    /// the walk; it is reported here at construction).
    #[error("syntax error in pattern")]
    Syntax,
    /// A pattern that is just `!`.
    #[error("illegal exclusion pattern: \"!\"")]
    IllegalExclusion,
    /// A line of 64 KiB or more (Go's `bufio.Scanner` limit).
    #[error("bufio.Scanner: token too long")]
    LineTooLong,
}

#[derive(Clone, Debug)]
struct Pattern {
    exclusion: bool,
    /// The cleaned pattern without its `!`.
    cleaned: String,
    matcher: Matcher,
}

#[derive(Clone, Debug)]
enum Matcher {
    /// The path equals the pattern.
    Exact,
    /// `literal**`: the path starts with the pattern minus its last two bytes.
    Prefix,
    /// `**literal`: the path ends with the pattern minus its first two bytes.
    Suffix,
    Regex(Regex),
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        // Byte-wise, like Go's string slicing (`[2..]` may split a character).
        let (bytes, pat) = (path.as_bytes(), self.cleaned.as_bytes());
        match &self.matcher {
            Matcher::Exact => bytes == pat,
            Matcher::Prefix => bytes.starts_with(&pat[..pat.len() - 2]),
            Matcher::Suffix => {
                let suffix = &pat[2..];
                bytes.ends_with(suffix) || (suffix.first() == Some(&b'/') && bytes == &suffix[1..])
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore` file (`ignorefile.ReadAll`) and
    /// compiles the resulting patterns.
    pub fn parse(text: &str) -> Result<DockerIgnore, PatternError> {
        let patterns = read_all(text)?;
        Self::from_patterns(&patterns)
    }

    /// Compiles already-read patterns (`patternmatcher.New`): each is
    /// trimmed and cleaned but, unlike [`parse`](Self::parse), a leading `/`
    /// is kept (and then matches nothing). Blank patterns are ignored.
    pub fn from_patterns(patterns: &[String]) -> Result<DockerIgnore, PatternError> {
        // patternmatcher.New's checks come first, for every pattern; Go's
        // regexp errors only surface later, when the walk uses the pattern.
        let mut checked = Vec::with_capacity(patterns.len());
        for original in patterns {
            let trimmed = original.trim();
            if trimmed.is_empty() {
                continue;
            }
            let mut p = go_clean(trimmed);
            let exclusion = p.starts_with('!');
            if exclusion {
                if p.len() == 1 {
                    return Err(PatternError::new(
                        original,
                        PatternErrorKind::IllegalExclusion,
                    ));
                }
                p.remove(0);
            }
            if glob::match_is_error(&p) {
                return Err(PatternError::new(original, PatternErrorKind::Syntax));
            }
            checked.push((original, exclusion, p));
        }
        let mut compiled = Vec::with_capacity(checked.len());
        for (original, exclusion, cleaned) in checked {
            let matcher = compile(&cleaned)
                .ok_or_else(|| PatternError::new(original, PatternErrorKind::Syntax))?;
            compiled.push(Pattern {
                exclusion,
                cleaned,
                matcher,
            });
        }
        let has_exclusions = compiled.iter().any(|p| p.exclusion);
        let only_prefix_exceptions = compiled
            .iter()
            .filter(|p| p.exclusion)
            .all(|p| !without_trailing_glob(&p.cleaned).contains(['*', '[', ']', '?', '^', '\\']));
        Ok(DockerIgnore {
            patterns: patterns.to_vec(),
            compiled,
            has_exclusions,
            only_prefix_exceptions,
        })
    }

    /// Whether a context path (`/`-separated, relative, no leading `./`; a
    /// trailing `/` is ignored) is left out of the context, taking parent
    /// directories into account as BuildKit's walk does: true if an ancestor
    /// directory is skipped ([`can_skip_dir`](Self::can_skip_dir)) or if the
    /// patterns, evaluated from the top down, exclude the path itself.
    ///
    /// An excluded directory is still present in the context when something
    /// below it is not excluded (it is sent as that entry's parent).
    pub fn excludes(&self, path: &str) -> bool {
        self.walk_to(path).is_some_and(|w| w.skipped || w.matched)
    }

    /// Whether a walk may skip the directory `dir` with everything below it,
    /// as fsutil does: it (or an ancestor) is excluded and no exception can
    /// re-include anything below it. That is only decided when every
    /// exception is a plain path (no `*?[]^\` apart from a trailing `/*` or
    /// `/**`); then the directory is kept open only for exceptions that name
    /// a path below it.
    pub fn can_skip_dir(&self, dir: &str) -> bool {
        self.walk_to(dir)
            .is_some_and(|w| w.skipped || (w.matched && self.skippable(w.path)))
    }

    /// The patterns: for [`parse`](Self::parse), the list `ReadAll` produces
    /// (what BuildKit sends as the context's exclude patterns and hashes into
    /// cache keys); for [`from_patterns`](Self::from_patterns), the list as
    /// given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Evaluates the patterns for each prefix of `path` from the top down.
    /// `None` for the context root.
    fn walk_to<'p>(&self, path: &'p str) -> Option<WalkState<'p>> {
        let path = path.trim_end_matches('/');
        if path.is_empty() || path == "." {
            return None;
        }
        let mut state = WalkState {
            path,
            matched: false,
            skipped: false,
        };
        if self.compiled.is_empty() {
            return Some(state);
        }
        let n = self.compiled.len();
        let (mut parent, mut current) = (vec![false; n], vec![false; n]);
        let mut at_top = true;
        for (end, _) in path.match_indices('/') {
            let dir = &path[..end];
            let parent_info = (!at_top).then_some(parent.as_slice());
            if self.match_with_parent(dir, parent_info, &mut current) && self.skippable(dir) {
                state.skipped = true;
                return Some(state);
            }
            std::mem::swap(&mut parent, &mut current);
            at_top = false;
        }
        let parent_info = (!at_top).then_some(parent.as_slice());
        state.matched = self.match_with_parent(path, parent_info, &mut current);
        Some(state)
    }

    /// patternmatcher's `MatchesUsingParentResults`: `parent` holds, per
    /// pattern, whether it matched the parent directory (`None` at the top).
    fn match_with_parent(&self, path: &str, parent: Option<&[bool]>, out: &mut [bool]) -> bool {
        let mut matched = false;
        for (i, pattern) in self.compiled.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p[i]);
            if !hit {
                // An inclusion cannot change an already excluded path, nor an
                // exception a path that is not excluded.
                if pattern.exclusion != matched {
                    out[i] = false;
                    continue;
                }
                hit = pattern.matches(path);
            }
            out[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// For an excluded directory: whether fsutil returns `SkipDir` for it.
    fn skippable(&self, dir: &str) -> bool {
        if !self.only_prefix_exceptions {
            return false;
        }
        if !self.has_exclusions {
            return true;
        }
        // fsutil: does `exception + "/"` start with `dir + "/"`?
        !self.compiled.iter().any(|p| {
            p.exclusion
                && without_trailing_glob(&p.cleaned)
                    .strip_prefix(dir)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

struct WalkState<'p> {
    path: &'p str,
    /// The patterns exclude the path itself.
    matched: bool,
    /// An ancestor directory was skipped.
    skipped: bool,
}

/// The ignore file BuildKit uses for the Dockerfile at `dockerfile` (a path
/// relative to the context): `<dockerfile>.dockerignore` if `exists` says
/// that file exists, else `.dockerignore` at the context root.
///
/// The Dockerfile-specific file wins even when empty (the root file is then
/// not read at all).
pub fn ignore_file_for(dockerfile: &str, exists: &dyn Fn(&str) -> bool) -> String {
    let specific = format!("{dockerfile}.dockerignore");
    if exists(&specific) {
        specific
    } else {
        DEFAULT_IGNORE_FILE.to_owned()
    }
}

/// Go's `bufio.Scanner` refuses lines of this many bytes or more.
const MAX_LINE: usize = 64 * 1024;

/// `ignorefile.ReadAll`.
fn read_all(text: &str) -> Result<Vec<String>, PatternError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(raw) = lines.next() {
        if raw.is_empty() && lines.peek().is_none() {
            break; // after the final newline
        }
        if raw.len() >= MAX_LINE {
            return Err(PatternError::new(raw, PatternErrorKind::LineTooLong));
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = go_clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        out.push(if invert {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    Ok(out)
}

/// fsutil's `patternWithoutTrailingGlob`.
fn without_trailing_glob(pattern: &str) -> &str {
    let p = pattern.strip_suffix("/**").unwrap_or(pattern);
    p.strip_suffix("/*").unwrap_or(p)
}

/// patternmatcher's `Pattern.compile`: the match kind, and for regex
/// patterns the Go expression translated to `regex` syntax. `None` when Go's
/// `regexp.Compile` would fail.
fn compile(pattern: &str) -> Option<Matcher> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let chars: Vec<char> = pattern.chars().collect();
    // Go's text/scanner drops a byte order mark at the start of its input.
    let mut pos = usize::from(chars.first() == Some(&'\u{feff}'));
    let mut re = String::from("^");
    let mut kind = Kind::Exact;
    let mut first = true;
    while let Some(&ch) = chars.get(pos) {
        pos += 1;
        match ch {
            '*' if chars.get(pos) == Some(&'*') => {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = Kind::Regex;
            }
            // moby means to escape `.+()|{}$`, but its lookup table drops
            // the bits of characters above 63: `|`, `{` and `}` reach the
            // regular expression as alternation and repetition.
            '.' | '+' | '(' | ')' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                re.push('\\');
                if let Some(&next) = chars.get(pos) {
                    pos += 1;
                    re.push(next);
                    kind = Kind::Regex;
                }
            }
            '[' | ']' => {
                re.push(ch);
                kind = Kind::Regex;
            }
            _ => re.push(ch),
        }
        first = false;
    }
    Some(match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix,
        Kind::Suffix => Matcher::Suffix,
        Kind::Regex => {
            re.push('$');
            let translated = goregex::translate(&re).ok()?;
            // Go's classes are single instructions; `regex` expands Unicode
            // classes into automata, so `\pL{1000}` needs room.
            let re = RegexBuilder::new(&translated)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .ok()?;
            Matcher::Regex(re)
        }
    })
}

/// Go's `filepath.Match` as of the Go releases Docker is built with,
/// used only for its syntax check.
mod glob {
    /// Whether `filepath.Match(pattern, ".")` returns `ErrBadPattern`.
    ///
    /// Like Go 1.19, this only checks as much of the pattern as matching
    /// "." reads: after a chunk fails to match, later chunks are not
    /// examined.
    pub(super) fn match_is_error(pattern: &str) -> bool {
        strata_core::reference::go_path_match(pattern, ".", false).is_err()
    }
}

/// Translation of the Go (RE2) regular expressions patternmatcher generates
/// into `regex` syntax with the same meaning.
///
/// The parser follows Go's `regexp/syntax` with the `Perl` flags: `^`/`$`
/// match only at the ends of the text, `.` excludes `\n` while `[^x]`
/// includes it, `\d \s \w \b` and POSIX classes are ASCII, `\pL` and
/// `\p{Greek}` are Go's Unicode tables, `\Q...\E` quotes, octal (`\012`)
/// and hex (`\x41`, `\x{41}`) escapes exist, and an escaped ASCII
/// punctuation character is itself. It
/// rejects what Go rejects (`\q`, `[z-a]`, `[[:foo:]]`, a missing `]`).
/// Every class member is written as a hex escape, so `regex`-only class
/// syntax (nested classes, `&&`, `--`, `~~`) never comes into play by
/// accident.
mod goregex {
    use std::fmt::Write as _;

    /// Go rejects the expression.
    pub(super) struct Invalid;

    type Parsed<T> = Result<T, Invalid>;

    #[derive(Clone, Copy, PartialEq)]
    enum Last {
        /// Start of the expression, `(` or `|`: nothing to repeat.
        Nothing,
        Atom,
        Repeat,
    }

    /// The `regex` equivalent of the Go expression `src`.
    pub(super) fn translate(src: &str) -> Parsed<String> {
        let s: Vec<char> = src.chars().collect();
        let mut out = String::new();
        let mut pos = 0;
        let mut depth = 0usize;
        let mut last = Last::Nothing;
        while let Some(&c) = s.get(pos) {
            match c {
                '(' => {
                    if s.get(pos + 1) == Some(&'?') {
                        return Err(Invalid); // flags, named groups: never generated
                    }
                    depth += 1;
                    out.push_str("(?:");
                    pos += 1;
                    last = Last::Nothing;
                    continue;
                }
                ')' => {
                    depth = depth.checked_sub(1).ok_or(Invalid)?;
                    out.push(')');
                    pos += 1;
                }
                '|' => {
                    out.push('|');
                    pos += 1;
                    last = Last::Nothing;
                    continue;
                }
                // Wrapped so that a repetition of an assertion stays valid.
                '^' => {
                    out.push_str("(?:^)");
                    pos += 1;
                }
                '$' => {
                    out.push_str("(?:$)");
                    pos += 1;
                }
                '.' => {
                    out.push_str("[^\\n]");
                    pos += 1;
                }
                '[' => {
                    let (class, next) = parse_class(&s, pos)?;
                    out.push_str(&class);
                    pos = next;
                }
                '*' | '+' | '?' | '{' => {
                    let (op, next) = match c {
                        '{' => match parse_repeat(&s, pos) {
                            Some((min, max, next)) => {
                                if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
                                    return Err(Invalid);
                                }
                                let op = match max {
                                    Some(m) => format!("{{{min},{m}}}"),
                                    None => format!("{{{min},}}"),
                                };
                                (op, next)
                            }
                            None => {
                                // Not a repetition: a literal `{`.
                                push_literal(&mut out, u32::from('{'));
                                pos += 1;
                                last = Last::Atom;
                                continue;
                            }
                        },
                        _ => (c.to_string(), pos + 1),
                    };
                    // Nothing to repeat, or a repetition of a repetition.
                    if last != Last::Atom {
                        return Err(Invalid);
                    }
                    out.push_str(&op);
                    pos = next;
                    if s.get(pos) == Some(&'?') {
                        out.push('?'); // non-greedy
                        pos += 1;
                    }
                    last = Last::Repeat;
                    continue;
                }
                '\\' => {
                    let d = *s.get(pos + 1).ok_or(Invalid)?;
                    match d {
                        'A' => out.push_str("(?:\\A)"),
                        'z' => out.push_str("(?:\\z)"),
                        'b' => out.push_str("(?-u:\\b)"),
                        'B' => out.push_str("(?-u:\\B)"),
                        'C' => return Err(Invalid),
                        'Q' => {
                            pos += 2;
                            while let Some(&q) = s.get(pos) {
                                if q == '\\' && s.get(pos + 1) == Some(&'E') {
                                    pos += 2;
                                    break;
                                }
                                push_literal(&mut out, u32::from(q));
                                last = Last::Atom;
                                pos += 1;
                            }
                            continue;
                        }
                        _ => {}
                    }
                    if matches!(d, 'A' | 'z' | 'b' | 'B') {
                        pos += 2;
                    } else if let Some((item, next)) = class_escape(&s, pos)? {
                        write!(out, "[{item}]").map_err(|_| Invalid)?;
                        pos = next;
                    } else {
                        let (ch, next) = parse_escape(&s, pos)?;
                        push_literal(&mut out, ch);
                        pos = next;
                    }
                }
                _ => {
                    push_literal(&mut out, u32::from(c));
                    pos += 1;
                }
            }
            last = Last::Atom;
        }
        if depth != 0 {
            return Err(Invalid);
        }
        Ok(out)
    }

    /// A literal character outside a class.
    fn push_literal(out: &mut String, c: u32) {
        match char::from_u32(c) {
            Some(c) if c.is_ascii_alphanumeric() || c == '/' || c == '_' => out.push(c),
            Some(_) => {
                let _ = write!(out, "\\x{{{c:X}}}");
            }
            None => out.push_str(NOTHING), // a surrogate
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` at `pos`: (min, max (`None`: unbounded),
    /// position after `}`). `None` if it is not one (then `{` is a literal).
    fn parse_repeat(s: &[char], pos: usize) -> Option<(u32, Option<u32>, usize)> {
        let mut i = pos + 1;
        let number = |i: &mut usize| -> Option<u32> {
            let start = *i;
            while s.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            let digits = &s[start..*i];
            // Go: at least one digit, no leading zero; long numbers are too big.
            if digits.is_empty() || (digits.len() > 1 && digits[0] == '0') {
                return None;
            }
            Some(
                digits
                    .iter()
                    .collect::<String>()
                    .parse()
                    .unwrap_or(u32::MAX),
            )
        };
        let min = number(&mut i)?;
        let max = if s.get(i) == Some(&',') {
            i += 1;
            if s.get(i) == Some(&'}') {
                None
            } else {
                Some(number(&mut i)?)
            }
        } else {
            Some(min)
        };
        (s.get(i) == Some(&'}')).then_some((min, max, i + 1))
    }

    /// A class at `pos` (on `[`): the `regex` class and the position after it.
    fn parse_class(s: &[char], pos: usize) -> Parsed<(String, usize)> {
        let mut pos = pos + 1;
        let mut out = String::from("[");
        if s.get(pos) == Some(&'^') {
            out.push('^');
            pos += 1;
        }
        let mut first = true;
        loop {
            let c = *s.get(pos).ok_or(Invalid)?; // missing closing ]
            if c == ']' && !first {
                pos += 1;
                break;
            }
            first = false;
            // POSIX `[:name:]` (Go takes everything up to the next `:]`).
            if c == '[' && s.get(pos + 1) == Some(&':') && pos + 2 < s.len() {
                let rest = &s[pos + 2..];
                if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                    let name: String = s[pos..pos + end + 4].iter().collect();
                    out.push_str(&posix_class(&name).ok_or(Invalid)?);
                    pos += end + 4;
                    continue;
                }
            }
            if c == '\\'
                && let Some((item, next)) = class_escape(s, pos)?
            {
                out.push_str(&item);
                pos = next;
                continue;
            }
            let (lo, next) = class_char(s, pos)?;
            pos = next;
            let mut hi = lo;
            if s.get(pos) == Some(&'-') && s.get(pos + 1).is_some_and(|&c| c != ']') {
                let (h, next) = class_char(s, pos + 1)?;
                if h < lo {
                    return Err(Invalid);
                }
                hi = h;
                pos = next;
            }
            push_range(&mut out, lo, hi);
        }
        out.push(']');
        Ok((out, pos))
    }

    /// A class item for `lo..=hi`, less the surrogates (Go accepts them as
    /// code points; they never match).
    fn push_range(out: &mut String, lo: u32, hi: u32) {
        let lo = if (0xD800..=0xDFFF).contains(&lo) {
            0xE000
        } else {
            lo
        };
        let hi = if (0xD800..=0xDFFF).contains(&hi) {
            0xD7FF
        } else {
            hi
        };
        let _ = match lo.cmp(&hi) {
            std::cmp::Ordering::Greater => write!(out, "{NOTHING}"),
            std::cmp::Ordering::Equal => write!(out, "\\x{{{lo:X}}}"),
            std::cmp::Ordering::Less => write!(out, "\\x{{{lo:X}}}-\\x{{{hi:X}}}"),
        };
    }

    /// A nested `regex` class of the given ranges.
    fn ranges(list: &[(u32, u32)], negated: bool) -> String {
        let mut out = String::from(if negated { "[^" } else { "[" });
        for &(lo, hi) in list {
            push_range(&mut out, lo, hi);
        }
        out.push(']');
        out
    }

    /// Go's POSIX classes (ASCII), by their full `[:name:]` spelling.
    fn posix_class(name: &str) -> Option<String> {
        let (negated, bare) = match name.strip_prefix("[:^") {
            Some(rest) => (true, rest),
            None => (false, &name[2..]),
        };
        let list: &[(u32, u32)] = match bare.strip_suffix(":]")? {
            "alnum" => &[(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
            "alpha" => &[(0x41, 0x5A), (0x61, 0x7A)],
            "ascii" => &[(0x00, 0x7F)],
            "blank" => &[(0x09, 0x09), (0x20, 0x20)],
            "cntrl" => &[(0x00, 0x1F), (0x7F, 0x7F)],
            "digit" => &[(0x30, 0x39)],
            "graph" => &[(0x21, 0x7E)],
            "lower" => &[(0x61, 0x7A)],
            "print" => &[(0x20, 0x7E)],
            "punct" => &[(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
            "space" => &[(0x09, 0x0D), (0x20, 0x20)],
            "upper" => &[(0x41, 0x5A)],
            "word" => &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
            "xdigit" => &[(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
            _ => return None,
        };
        Some(ranges(list, negated))
    }

    /// `\d \D \s \S \w \W` (ASCII) or `\pX`/`\PX` at `pos` (on `\`), as a
    /// nested `regex` class. `Ok(None)` for any other escape.
    fn class_escape(s: &[char], pos: usize) -> Parsed<Option<(String, usize)>> {
        const DIGIT: &[(u32, u32)] = &[(0x30, 0x39)];
        const SPACE: &[(u32, u32)] = &[(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)];
        const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
        let Some(&d) = s.get(pos + 1) else {
            return Ok(None);
        };
        let class = match d {
            'd' | 'D' => ranges(DIGIT, d == 'D'),
            's' | 'S' => ranges(SPACE, d == 'S'),
            'w' | 'W' => ranges(WORD, d == 'W'),
            'p' | 'P' => {
                let mut negated = d == 'P';
                let (name, next): (String, usize) = match s.get(pos + 2) {
                    Some('{') => {
                        let len = s[pos + 3..].iter().position(|&c| c == '}').ok_or(Invalid)?;
                        (s[pos + 3..pos + 3 + len].iter().collect(), pos + 4 + len)
                    }
                    Some(&c) => (c.to_string(), pos + 3),
                    None => return Err(Invalid),
                };
                // `\p{^Greek}` is `\P{Greek}`.
                let name = match name.strip_prefix('^') {
                    Some(rest) => {
                        negated = !negated;
                        rest
                    }
                    None => &name,
                };
                let body = unicode_table(name).ok_or(Invalid)?;
                let negated = if negated { "^" } else { "" };
                return Ok(Some((format!("[{negated}{body}]"), next)));
            }
            _ => return Ok(None),
        };
        Ok(Some((class, pos + 2)))
    }

    /// A `regex` class item that matches nothing.
    const NOTHING: &str = "[^\\x{0}-\\x{10FFFF}]";

    /// Go's Unicode categories (as of Go 1.19; `C` lacks unassigned code
    /// points there, unlike in Unicode and `regex`).
    const CATEGORIES: &[&str] = &[
        "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
        "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm",
        "So", "Z", "Zl", "Zp", "Zs",
    ];

    /// Go's Unicode scripts (Go 1.19, plus those Go 1.21 added with Unicode
    /// 15). Go's names are case-sensitive; `regex` would accept more.
    const SCRIPTS: &[&str] = &[
        "Adlam",
        "Ahom",
        "Anatolian_Hieroglyphs",
        "Arabic",
        "Armenian",
        "Avestan",
        "Balinese",
        "Bamum",
        "Bassa_Vah",
        "Batak",
        "Bengali",
        "Bhaiksuki",
        "Bopomofo",
        "Brahmi",
        "Braille",
        "Buginese",
        "Buhid",
        "Canadian_Aboriginal",
        "Carian",
        "Caucasian_Albanian",
        "Chakma",
        "Cham",
        "Cherokee",
        "Chorasmian",
        "Common",
        "Coptic",
        "Cuneiform",
        "Cypriot",
        "Cypro_Minoan",
        "Cyrillic",
        "Deseret",
        "Devanagari",
        "Dives_Akuru",
        "Dogra",
        "Duployan",
        "Egyptian_Hieroglyphs",
        "Elbasan",
        "Elymaic",
        "Ethiopic",
        "Georgian",
        "Glagolitic",
        "Gothic",
        "Grantha",
        "Greek",
        "Gujarati",
        "Gunjala_Gondi",
        "Gurmukhi",
        "Han",
        "Hangul",
        "Hanifi_Rohingya",
        "Hanunoo",
        "Hatran",
        "Hebrew",
        "Hiragana",
        "Imperial_Aramaic",
        "Inherited",
        "Inscriptional_Pahlavi",
        "Inscriptional_Parthian",
        "Javanese",
        "Kaithi",
        "Kannada",
        "Katakana",
        "Kawi",
        "Kayah_Li",
        "Kharoshthi",
        "Khitan_Small_Script",
        "Khmer",
        "Khojki",
        "Khudawadi",
        "Lao",
        "Latin",
        "Lepcha",
        "Limbu",
        "Linear_A",
        "Linear_B",
        "Lisu",
        "Lycian",
        "Lydian",
        "Mahajani",
        "Makasar",
        "Malayalam",
        "Mandaic",
        "Manichaean",
        "Marchen",
        "Masaram_Gondi",
        "Medefaidrin",
        "Meetei_Mayek",
        "Mende_Kikakui",
        "Meroitic_Cursive",
        "Meroitic_Hieroglyphs",
        "Miao",
        "Modi",
        "Mongolian",
        "Mro",
        "Multani",
        "Myanmar",
        "Nabataean",
        "Nag_Mundari",
        "Nandinagari",
        "New_Tai_Lue",
        "Newa",
        "Nko",
        "Nushu",
        "Nyiakeng_Puachue_Hmong",
        "Ogham",
        "Ol_Chiki",
        "Old_Hungarian",
        "Old_Italic",
        "Old_North_Arabian",
        "Old_Permic",
        "Old_Persian",
        "Old_Sogdian",
        "Old_South_Arabian",
        "Old_Turkic",
        "Old_Uyghur",
        "Oriya",
        "Osage",
        "Osmanya",
        "Pahawh_Hmong",
        "Palmyrene",
        "Pau_Cin_Hau",
        "Phags_Pa",
        "Phoenician",
        "Psalter_Pahlavi",
        "Rejang",
        "Runic",
        "Samaritan",
        "Saurashtra",
        "Sharada",
        "Shavian",
        "Siddham",
        "SignWriting",
        "Sinhala",
        "Sogdian",
        "Sora_Sompeng",
        "Soyombo",
        "Sundanese",
        "Syloti_Nagri",
        "Syriac",
        "Tagalog",
        "Tagbanwa",
        "Tai_Le",
        "Tai_Tham",
        "Tai_Viet",
        "Takri",
        "Tamil",
        "Tangsa",
        "Tangut",
        "Telugu",
        "Thaana",
        "Thai",
        "Tibetan",
        "Tifinagh",
        "Tirhuta",
        "Toto",
        "Ugaritic",
        "Vai",
        "Vithkuqi",
        "Wancho",
        "Warang_Citi",
        "Yezidi",
        "Yi",
        "Zanabazar_Square",
    ];

    /// The members of Go's Unicode table `name` as `regex` class items.
    fn unicode_table(name: &str) -> Option<String> {
        Some(match name {
            "Any" => "\\x{0}-\\x{10FFFF}".to_owned(),
            "C" => "\\p{gc=Cc}\\p{gc=Cf}\\p{gc=Co}".to_owned(),
            // Surrogates never occur in a `str` (nor in Go's decoded text).
            "Cs" => NOTHING.to_owned(),
            _ if CATEGORIES.contains(&name) => format!("\\p{{gc={name}}}"),
            _ if SCRIPTS.contains(&name) => format!("\\p{{sc={name}}}"),
            _ => return None,
        })
    }

    /// One character of a class (possibly escaped) at `pos`.
    fn class_char(s: &[char], pos: usize) -> Parsed<(u32, usize)> {
        match s.get(pos).ok_or(Invalid)? {
            '\\' => parse_escape(s, pos),
            &c => Ok((u32::from(c), pos + 1)),
        }
    }

    /// Go's `parseEscape` at `pos` (on `\`): the character and the position
    /// after the escape.
    fn parse_escape(s: &[char], pos: usize) -> Parsed<(u32, usize)> {
        let c = *s.get(pos + 1).ok_or(Invalid)?;
        let mut i = pos + 2;
        let octal = |i: usize| s.get(i).and_then(|c| c.to_digit(8));
        let r = match c {
            '0'..='7' => {
                // `\1`..`\7` alone would be a backreference.
                if c != '0' && octal(i).is_none() {
                    return Err(Invalid);
                }
                let mut r = c.to_digit(8).ok_or(Invalid)?;
                for _ in 1..3 {
                    let Some(d) = octal(i) else { break };
                    r = r * 8 + d;
                    i += 1;
                }
                r
            }
            'x' => {
                let digit = |i: usize| s.get(i).and_then(|c| c.to_digit(16)).ok_or(Invalid);
                if s.get(i) == Some(&'{') {
                    let len = s[i..].iter().position(|&c| c == '}').ok_or(Invalid)?;
                    let mut r: u32 = 0;
                    for k in i + 1..i + len {
                        r = r * 16 + digit(k)?;
                        if r > 0x10FFFF {
                            return Err(Invalid);
                        }
                    }
                    if len < 2 {
                        return Err(Invalid);
                    }
                    i += len + 1;
                    r
                } else {
                    let r = digit(i)? * 16 + digit(i + 1)?;
                    i += 2;
                    r
                }
            }
            'a' => 0x07,
            'f' => 0x0C,
            'n' => 0x0A,
            'r' => 0x0D,
            't' => 0x09,
            'v' => 0x0B,
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => u32::from(c),
            _ => return Err(Invalid),
        };
        Ok((r, i))
    }
}

#[cfg(test)]
mod tests;
