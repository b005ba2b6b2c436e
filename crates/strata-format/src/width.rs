//! Terminal column width of text, approximating go-runewidth's
//! `StringWidth`, which Docker's copy of `text/tabwriter` measures cells
//! with.
//!
//! go-runewidth (in its default, non-East-Asian mode) counts East Asian
//! Wide and Fullwidth characters as 2 columns, combining marks, zero-width
//! format characters and control characters as 0, and everything else
//! (including ambiguous-width characters) as 1. The tables below cover the
//! blocks that occur in practice rather than every Unicode assignment; the
//! notable approximation is that go-runewidth measures emoji ZWJ sequences
//! as one grapheme of width 2, where this sums their parts.

/// Ranges (inclusive) of characters that occupy no column.
const ZERO_WIDTH: &[(u32, u32)] = &[
    (0x0300, 0x036F), // combining diacritical marks
    (0x0483, 0x0489),
    (0x0591, 0x05BD),
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0E31, 0x0E31),
    (0x0E34, 0x0E3A),
    (0x0E47, 0x0E4E),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x200B, 0x200F), // zero-width space, joiners, direction marks
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x20D0, 0x20FF), // combining marks for symbols
    (0x302A, 0x302D),
    (0x3099, 0x309A),
    (0xFE00, 0xFE0F), // variation selectors
    (0xFE20, 0xFE2F),
    (0xFEFF, 0xFEFF),
    (0xE0100, 0xE01EF),
];

/// Ranges (inclusive) of East Asian Wide and Fullwidth characters.
const WIDE: &[(u32, u32)] = &[
    (0x1100, 0x115F), // Hangul Jamo initials
    (0x231A, 0x231B),
    (0x2329, 0x232A),
    (0x23E9, 0x23EC),
    (0x23F0, 0x23F0),
    (0x23F3, 0x23F3),
    (0x25FD, 0x25FE),
    (0x2614, 0x2615),
    (0x2648, 0x2653),
    (0x267F, 0x267F),
    (0x2693, 0x2693),
    (0x26A1, 0x26A1),
    (0x26AA, 0x26AB),
    (0x26BD, 0x26BE),
    (0x26C4, 0x26C5),
    (0x26CE, 0x26CE),
    (0x26D4, 0x26D4),
    (0x26EA, 0x26EA),
    (0x26F2, 0x26F3),
    (0x26F5, 0x26F5),
    (0x26FA, 0x26FA),
    (0x26FD, 0x26FD),
    (0x2705, 0x2705),
    (0x270A, 0x270B),
    (0x2728, 0x2728),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2795, 0x2797),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x2E80, 0x3029), // CJK radicals, ideographic punctuation
    (0x302E, 0x303E),
    (0x3041, 0x3098), // Hiragana
    (0x309B, 0x33FF), // Katakana, Bopomofo, CJK compatibility
    (0x3400, 0x4DBF), // CJK extension A
    (0x4E00, 0x9FFF), // CJK unified ideographs
    (0xA000, 0xA4CF), // Yi
    (0xA960, 0xA97F),
    (0xAC00, 0xD7A3), // Hangul syllables
    (0xF900, 0xFAFF), // CJK compatibility ideographs
    (0xFE10, 0xFE19),
    (0xFE30, 0xFE6F),
    (0xFF00, 0xFF60), // fullwidth forms
    (0xFFE0, 0xFFE6),
    (0x16FE0, 0x16FE4),
    (0x17000, 0x18CFF), // Tangut
    (0x1B000, 0x1B2FF), // Kana supplement
    (0x1F004, 0x1F004),
    (0x1F0CF, 0x1F0CF),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F200, 0x1F251),
    (0x1F300, 0x1F320), // emoji: weather, food, objects, faces, transport
    (0x1F32D, 0x1F335),
    (0x1F337, 0x1F37C),
    (0x1F37E, 0x1F393),
    (0x1F3A0, 0x1F3CA),
    (0x1F3CF, 0x1F3D3),
    (0x1F3E0, 0x1F3F0),
    (0x1F3F4, 0x1F3F4),
    (0x1F3F8, 0x1F43E),
    (0x1F440, 0x1F440),
    (0x1F442, 0x1F4FC),
    (0x1F4FF, 0x1F53D),
    (0x1F54B, 0x1F54E),
    (0x1F550, 0x1F567),
    (0x1F57A, 0x1F57A),
    (0x1F595, 0x1F596),
    (0x1F5A4, 0x1F5A4),
    (0x1F5FB, 0x1F64F),
    (0x1F680, 0x1F6C5),
    (0x1F6CC, 0x1F6CC),
    (0x1F6D0, 0x1F6D2),
    (0x1F6D5, 0x1F6D7),
    (0x1F6DC, 0x1F6DF),
    (0x1F6EB, 0x1F6EC),
    (0x1F6F4, 0x1F6FC),
    (0x1F7E0, 0x1F7EB),
    (0x1F7F0, 0x1F7F0),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1F9FF),
    (0x1FA70, 0x1FAFF),
    (0x20000, 0x2FFFD), // CJK extensions B and later
    (0x30000, 0x3FFFD),
];

/// Whether `c` falls in one of the sorted, non-overlapping `ranges`.
fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = u32::from(c);
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Columns one character occupies in a terminal.
pub(crate) fn char_width(c: char) -> usize {
    if c.is_control() || in_ranges(c, ZERO_WIDTH) {
        0
    } else if in_ranges(c, WIDE) {
        2
    } else {
        1
    }
}

/// Columns `s` occupies in a terminal: the sum of its characters' widths.
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(s: &str, want: usize) {
        assert_eq!(display_width(s), want, "{s:?}");
    }

    #[test]
    fn widths() {
        check("busybox", 7);
        check("", 0);
        check("héllo", 5);
        check("e\u{301}", 1); // e + combining acute
        check("日本語", 6);
        check("한국", 4);
        check("ｆｕｌｌ", 8);
        check("🐳", 2);
        check("a\u{200b}b", 2);
        check("Ω≈", 2); // ambiguous width counts as narrow
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for table in [ZERO_WIDTH, WIDE] {
            for pair in table.windows(2) {
                assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:x?}");
            }
        }
    }
}
