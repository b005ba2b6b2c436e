//! Cases for the tabwriter, written from Go's documented `text/tabwriter`
//! behaviour and checked by hand against its algorithm.

use super::*;

/// Parameters for one [`tabwrite`] call.
struct Params {
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
}

/// Minimal geometry that makes layouts easy to read: no minimum, one space.
const TIGHT: Params = Params {
    minwidth: 0,
    tabwidth: 8,
    padding: 1,
    padchar: ' ',
};

#[track_caller]
fn check(p: &Params, input: &str, want: &str) {
    let got = tabwrite(input, p.minwidth, p.tabwidth, p.padding, p.padchar);
    assert_eq!(got, want, "input: {input:?}");
}

#[track_caller]
fn check_docker(input: &str, want: &str) {
    assert_eq!(docker_table(input), want, "input: {input:?}");
}

#[test]
fn go_semantics() {
    // The example from Go's package documentation: b and c are in distinct
    // column blocks because the "a" line has only one tab-terminated cell;
    // d and e are last cells and never aligned.
    let dots = Params {
        padchar: '.',
        ..TIGHT
    };
    check(
        &dots,
        "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n",
        "aaaa.bbb.d\naa...b...dd\na....\naa...cccc.eee\n",
    );
    // Lines with different numbers of cells: the block for column 1 ends
    // at the two-cell line and a new one starts after it.
    check(
        &TIGHT,
        "a\tb\tc\nxxxxx\ty\nz\tlong-cell\tw\n",
        "a     b c\nxxxxx y\nz     long-cell w\n",
    );
    // A line without tabs ends every block.
    check(
        &TIGHT,
        "aaaaaaa\tb\nno tabs here\nc\td\n",
        "aaaaaaa b\nno tabs here\nc d\n",
    );
    // Empty cells are padded like any other.
    let pad2 = Params {
        padding: 2,
        ..TIGHT
    };
    check(&pad2, "\ta\n\tbb\nc\t\n", "   a\n   bb\nc  \n");
    // A trailing tab makes the cell before it part of a column, so it is
    // padded (trailing spaces are kept, as Go writes them).
    check(&TIGHT, "a\tb\t\nccc\tdd\t\n", "a   b  \nccc dd \n");
    // Without a trailing newline no newline is added...
    check(&TIGHT, "a\tb\nccc\td", "a   b\nccc d");
    // ...and a trailing tab on the unterminated last line terminates an
    // empty pending cell only, so "b" stays that line's last cell.
    check(&TIGHT, "a\tb\t", "a b");
    // Widths count Unicode scalar values, not bytes.
    check(&TIGHT, "héllo\tx\n日本\ty\n", "héllo x\n日本    y\n");
    // minwidth is a floor that includes the padding.
    check(
        &Params {
            minwidth: 5,
            ..TIGHT
        },
        "a\tb\n",
        "a    b\n",
    );
    // Tab padding rounds each column up to a tab stop.
    let tabs = Params {
        padchar: '\t',
        ..TIGHT
    };
    check(&tabs, "a\tb\nccccccccc\td\n", "a\t\tb\nccccccccc\td\n");
    // A vertical tab ends a cell like a tab does.
    check(&TIGHT, "a\u{b}b\nccc\u{b}d\n", "a   b\nccc d\n");
    // A formfeed flushes: columns do not continue past it, and it prints
    // as a newline.
    check(&TIGHT, "aaaa\tb\u{c}c\td\n", "aaaa b\nc d\n");
    // Text without tabs passes through untouched.
    check(&TIGHT, "hello\n\nworld", "hello\n\nworld");
    check(&TIGHT, "", "");
}

#[test]
fn docker_tables() {
    // `docker images`: REPOSITORY is 10 wide, so its column is 10 + 3;
    // "2 hours ago" is 11 wide, so CREATED gets 14.
    check_docker(
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\nbusybox\tlatest\td5565f5b9b73\t2 hours ago\t1.98MB\n",
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
         busybox      latest    d5565f5b9b73   2 hours ago   1.98MB\n",
    );
    // A 12-wide "CREATED" cell in another row widens that column to 15.
    check_docker(
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n\
         busybox\tlatest\td5565f5b9b73\t2 hours ago\t1.98MB\n\
         hello-world\tlatest\tfeb5d9fea6a5\t6 months ago\t13.3kB\n",
        "REPOSITORY    TAG       IMAGE ID       CREATED        SIZE\n\
         busybox       latest    d5565f5b9b73   2 hours ago    1.98MB\n\
         hello-world   latest    feb5d9fea6a5   6 months ago   13.3kB\n",
    );
    // Short columns are held at minwidth 10.
    check_docker("ID\tNAME\n1\tx\n", "ID        NAME\n1         x\n");
    // A header with no rows still lays out.
    check_docker("REPOSITORY\tTAG\n", "REPOSITORY   TAG\n");
    // Docker's vendored tabwriter measures terminal columns: wide CJK
    // characters count twice (unlike `tabwrite`, which counts runes).
    check_docker("héllo\tx\n日本\ty\n", "héllo     x\n日本      y\n");
    // Several rows where a later row widens a column.
    check_docker(
        "NAME\tIMAGE\nweb\tnginx:latest\nlong-container-name\tredis\n",
        "NAME                  IMAGE\nweb                   nginx:latest\nlong-container-name   redis\n",
    );
}

#[test]
fn custom_width_measure() {
    // Any measure can be plugged in; here every cell counts as 1.
    let got = tabwrite_with("abc\tx\nd\ty\n", 0, 8, 1, ' ', |_| 1);
    assert_eq!(got, "abc x\nd y\n");
}
