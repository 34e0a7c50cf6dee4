//! Numbers as ngspice reads them: a decimal float, an optional scale suffix, then any unit letters.
//!
//! Suffixes (case-insensitive, ngspice 39 `INPevaluate`): `t` 1e12, `g` 1e9, `meg` 1e6, `k` 1e3,
//! `mil` 25.4e-6, `m` 1e-3, `u` or `µ` 1e-6, `n` 1e-9, `p` 1e-12, `f` 1e-15. Letters after the
//! suffix are ignored, so `10kOhm` is 1e4, `2mW` is 2e-3 and `1Meg` is 1e6 (`M` is milli).

/// Parse a complete token as an ngspice number. `None` if the token is not a number
/// (no leading digits, or characters other than letters after the number).
pub fn parse_number(token: &str) -> Option<f64> {
    let (value, used) = scan_number(token)?;
    if used == token.len() {
        Some(value)
    } else {
        None
    }
}

/// Scan a number with its suffix and unit letters from the start of `s`.
/// Returns the value and the number of bytes consumed; `None` if `s` does not start with a number.
pub fn scan_number(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    // Exponent only when `e` is followed by digits (with optional sign); otherwise `e` is a unit letter.
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let mut value: f64 = s[..i].parse().ok()?;
    let rest = &s[i..];
    let lower = rest.to_ascii_lowercase();
    let (scale, suffix_len) = if lower.starts_with("meg") {
        (1e6, 3)
    } else if lower.starts_with("mil") {
        (25.4e-6, 3)
    } else if rest.starts_with('µ') {
        (1e-6, 'µ'.len_utf8())
    } else {
        match lower.bytes().next() {
            Some(b't') => (1e12, 1),
            Some(b'g') => (1e9, 1),
            Some(b'k') => (1e3, 1),
            Some(b'm') => (1e-3, 1),
            Some(b'u') => (1e-6, 1),
            Some(b'n') => (1e-9, 1),
            Some(b'p') => (1e-12, 1),
            Some(b'f') => (1e-15, 1),
            _ => (1.0, 0),
        }
    };
    value *= scale;
    i += suffix_len;
    // Trailing unit letters (`V`, `Ohm`, `A`, `s`, `Hz`, ...) are ignored.
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    Some((value, i))
}

/// Format a value so that ngspice reads back exactly the same f64 (shortest round-trip form).
pub fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let plain = format!("{x}");
    let sci = format!("{x:e}");
    if plain.len() <= sci.len() {
        plain
    } else {
        sci
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_as_ngspice_reads_them() {
        // Expected values follow the ngspice 39 manual, section 2.1.3 (scale factors).
        let cases = [
            ("1k", 1e3),
            ("10kOhm", 1e4),
            ("1Meg", 1e6),
            ("1MEGohm", 1e6),
            ("1m", 1e-3),
            ("1M", 1e-3),
            ("2mW", 2e-3),
            ("10V", 10.0),
            ("1ohm", 1.0),
            ("1mil", 25.4e-6),
            ("2µ", 2e-6),
            ("20µA", 20e-6),
            ("3u", 3e-6),
            ("4n", 4e-9),
            ("5p", 5e-12),
            ("6f", 6e-15),
            ("7g", 7e9),
            ("8t", 8e12),
            ("1.0f", 1e-15),
            ("1.50E-07", 1.5e-7),
            (".1", 0.1),
            ("-1mA", -1e-3),
            ("+2.5", 2.5),
            ("1e3k", 1e6),
            ("20ns", 20e-9),
            ("1.", 1.0),
        ];
        for (text, want) in cases {
            let got = parse_number(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{text}: got {got}, want {want}"
            );
        }
    }

    #[test]
    fn non_numbers_are_rejected() {
        for text in ["", "k", "abc", "1k%", "1.2.3", "--1", "1k-2", ".", "e3"] {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    #[test]
    fn format_round_trips() {
        for x in [1.0, 1e-15, 0.1, 1.5e-7, 123456.789, -2.5e9, 1.0 / 3.0, 0.0] {
            assert_eq!(parse_number(&format_number(x)), Some(x));
        }
    }
}
