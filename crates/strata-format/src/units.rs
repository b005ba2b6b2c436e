//! Sizes and durations the way go-units (`github.com/docker/go-units`)
//! prints them, which is what every Docker listing shows: `1.98MB`,
//! `2 hours ago`.

use crate::float::format_g;

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/// Divides by `base` while the value is at least `base`, stopping at the
/// largest unit, and returns the scaled value with its unit.
fn scale(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// go-units `HumanSizeWithPrecision`: decimal units (`kB` = 1000 bytes) and
/// Go's `%.{precision}g`, so at most `precision` significant digits with
/// trailing zeros dropped. Docker's image listings use precision 3.
///
/// The scaling happens before rounding, so a value that rounds up to 1000
/// stays in the smaller unit and prints in exponent form: 999500 bytes at
/// precision 3 is `1e+03kB`, exactly as Docker shows it.
///
/// ```
/// use strata_format::units::human_size_with_precision;
/// assert_eq!(human_size_with_precision(1982291.0, 3), "1.98MB");
/// ```
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (value, unit) = scale(size, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", format_g(value, precision))
}

/// go-units `HumanSize`: [`human_size_with_precision`] with precision 4.
pub fn human_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units `BytesSize`: binary units (`KiB` = 1024 bytes) with `%.4g`.
pub fn bytes_size(size: f64) -> String {
    let (value, unit) = scale(size, 1024.0, &BINARY_UNITS);
    format!("{}{unit}", format_g(value, 4))
}

/// go-units `HumanDuration` for a whole number of seconds, as used for
/// Docker's `CreatedSince` (`"2 hours"`; Docker appends `" ago"`).
///
/// go-units rounds hours to nearest (`int(d.Hours() + 0.5)`) for every
/// branch from "About an hour" to "months", but truncates for "years";
/// minutes and seconds truncate. Negative durations count as less than a
/// second.
pub fn human_duration(secs: i64) -> String {
    if secs < 1 {
        return "Less than a second".to_owned();
    }
    if secs == 1 {
        return "1 second".to_owned();
    }
    if secs < 60 {
        return format!("{secs} seconds");
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return "About a minute".to_owned();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Rounded, as go-units does: 1h30m is already "2 hours".
    let hours = (secs + 1800) / 3600;
    if hours == 1 {
        return "About an hour".to_owned();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    // Only the years branch truncates (`int(d.Hours())`).
    format!("{} years", secs / 3600 / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(got: String, want: &str) {
        assert_eq!(got, want);
    }

    #[test]
    fn human_size_table() {
        let p3 = |s: f64| human_size_with_precision(s, 3);
        check(p3(1982291.0), "1.98MB");
        check(p3(0.0), "0B");
        check(p3(999.0), "999B");
        check(p3(1000.0), "1kB");
        check(p3(4860.0), "4.86kB");
        // Rounds to 1000 after scaling, so Go prints the exponent form.
        check(p3(999500.0), "1e+03kB");
        check(p3(1.5e9), "1.5GB");
        check(p3(77_800_000.0), "77.8MB");
        check(p3(1e27), "1e+03YB");
        check(p3(0.5), "0.5B");
        // go-units HumanSize test vectors (precision 4).
        check(human_size(1000.0), "1kB");
        check(human_size(1024.0), "1.024kB");
        check(human_size(1_000_000.0), "1MB");
        check(human_size(1_048_576.0), "1.049MB");
        check(human_size(2.0 * 1e6), "2MB");
        check(human_size(3.42 * 1e9), "3.42GB");
        check(human_size(5.372 * 1e12), "5.372TB");
        check(human_size(2.22 * 1e15), "2.22PB");
        check(human_size(1e20), "100EB");
    }

    #[test]
    fn bytes_size_table() {
        check(bytes_size(1024.0), "1KiB");
        check(bytes_size(1024.0 * 1024.0), "1MiB");
        check(bytes_size(1_048_576.0), "1MiB");
        check(bytes_size(2.0 * 1_048_576.0), "2MiB");
        check(bytes_size(3.42 * 1_073_741_824.0), "3.42GiB");
        check(bytes_size(5.372 * 1_099_511_627_776.0), "5.372TiB");
        check(bytes_size(2.22 * 1_125_899_906_842_624.0), "2.22PiB");
        check(bytes_size(1023.0), "1023B");
        check(bytes_size(1536.0), "1.5KiB");
    }

    #[test]
    fn human_duration_table() {
        const MIN: i64 = 60;
        const HOUR: i64 = 60 * MIN;
        const DAY: i64 = 24 * HOUR;
        check(human_duration(-5), "Less than a second");
        check(human_duration(0), "Less than a second");
        check(human_duration(1), "1 second");
        check(human_duration(2), "2 seconds");
        check(human_duration(59), "59 seconds");
        check(human_duration(MIN), "About a minute");
        check(human_duration(2 * MIN - 1), "About a minute");
        check(human_duration(2 * MIN), "2 minutes");
        check(human_duration(59 * MIN), "59 minutes");
        // 60..89 minutes round to one hour.
        check(human_duration(HOUR), "About an hour");
        check(human_duration(HOUR + 29 * MIN), "About an hour");
        check(human_duration(HOUR + 30 * MIN), "2 hours");
        check(human_duration(47 * HOUR), "47 hours");
        // 47h30m rounds up to 48 hours, which is already "2 days".
        check(human_duration(47 * HOUR + 30 * MIN), "2 days");
        check(human_duration(13 * DAY), "13 days");
        check(human_duration(14 * DAY), "2 weeks");
        check(human_duration(59 * DAY), "8 weeks");
        check(human_duration(60 * DAY), "2 months");
        check(human_duration(364 * DAY), "12 months");
        check(human_duration(729 * DAY), "24 months");
        check(human_duration(730 * DAY), "2 years");
        check(human_duration(3 * 365 * DAY + 100 * DAY), "3 years");
    }
}
