//! Splitting a Windows command line into arguments, as the Microsoft C runtime does (the
//! rules `CommandLineToArgvW` and every MSVC-built program's `main` follow). Windows keeps one
//! command-line string per process; `ProcessInfo::cmdline` wants `argv`.

/// Split `line` (UTF-16) into arguments.
///
/// - The program name (first argument) ends at the first space or tab outside double quotes;
///   quotes in it only group, and backslashes are literal.
/// - Later arguments: whitespace separates; `"` toggles quoting; `2n` backslashes before a `"`
///   are `n` backslashes and the quote is special, `2n+1` are `n` backslashes and a literal
///   `"`; backslashes not before a quote are literal; inside quotes, `""` is a literal `"`.
pub(crate) fn split(line: &[u16]) -> Vec<String> {
    const SPACE: u16 = b' ' as u16;
    const TAB: u16 = b'\t' as u16;
    const QUOTE: u16 = b'"' as u16;
    const BACKSLASH: u16 = b'\\' as u16;
    let is_space = |c: u16| c == SPACE || c == TAB;

    let mut args = Vec::new();
    let mut i = 0;
    // argv[0].
    let mut arg: Vec<u16> = Vec::new();
    let mut quoted = false;
    while i < line.len() {
        let c = line[i];
        if c == QUOTE {
            quoted = !quoted;
        } else if is_space(c) && !quoted {
            break;
        } else {
            arg.push(c);
        }
        i += 1;
    }
    if line.is_empty() {
        return args;
    }
    args.push(String::from_utf16_lossy(&arg));

    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut arg: Vec<u16> = Vec::new();
        let mut quoted = false;
        while i < line.len() {
            let c = line[i];
            if c == BACKSLASH {
                let start = i;
                while i < line.len() && line[i] == BACKSLASH {
                    i += 1;
                }
                let n = i - start;
                if i < line.len() && line[i] == QUOTE {
                    arg.extend(std::iter::repeat_n(BACKSLASH, n / 2));
                    if n % 2 == 1 {
                        arg.push(QUOTE);
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n(BACKSLASH, n));
                }
                continue;
            }
            if c == QUOTE {
                if quoted && line.get(i + 1) == Some(&QUOTE) {
                    arg.push(QUOTE);
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                i += 1;
                continue;
            }
            if is_space(c) && !quoted {
                break;
            }
            arg.push(c);
            i += 1;
        }
        args.push(String::from_utf16_lossy(&arg));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(line: &str) -> Vec<String> {
        split(&line.encode_utf16().collect::<Vec<_>>())
    }

    #[test]
    fn microsoft_examples() {
        // The table in "Parsing C command-line arguments" (Microsoft C runtime docs).
        assert_eq!(s(r#"p "a b c" d e"#), ["p", "a b c", "d", "e"]);
        assert_eq!(s(r#"p "ab\"c" "\\" d"#), ["p", r#"ab"c"#, r"\", "d"]);
        assert_eq!(s(r#"p a\\\b d"e f"g h"#), ["p", r"a\\\b", "de fg", "h"]);
        assert_eq!(s(r#"p a\\\"b c d"#), ["p", r#"a\"b"#, "c", "d"]);
        assert_eq!(s(r#"p a\\\\"b c" d e"#), ["p", r"a\\b c", "d", "e"]);
        assert_eq!(s(r#"p a"b"" c d"#), ["p", r#"ab" c d"#]);
    }

    #[test]
    fn program_name_rules() {
        assert_eq!(
            s(r#""C:\Program Files\x.exe" -a"#),
            [r"C:\Program Files\x.exe", "-a"]
        );
        assert_eq!(s(r"C:\dir\x.exe"), [r"C:\dir\x.exe"]);
        assert_eq!(s("x.exe   a\t b  "), ["x.exe", "a", "b"]);
        assert_eq!(s(""), Vec::<String>::new());
        assert_eq!(s(r#"x "" y"#), ["x", "", "y"]);
    }
}
