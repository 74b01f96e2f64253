//! Short, secret-free excerpts of foreign text for error messages.
//!
//! When a server answers with something that is not OAuth (an HTML error page
//! from a proxy, a login page), the caller needs a hint of what came back to
//! diagnose it. But the body may echo what we sent or hold tokens, so an
//! excerpt is: markup removed, whitespace collapsed, every run that looks like
//! a credential (a long run of token characters with a digit in it, or any
//! very long run) replaced by `[redacted]`, and cut to a few hundred
//! characters.

/// Runs of token characters at least this long, and holding a digit, are redacted.
const SUSPICIOUS_RUN: usize = 16;
/// Runs of token characters at least this long are redacted whatever they hold.
const ALWAYS_REDACTED_RUN: usize = 32;

/// Returns a scrubbed excerpt of `text` of at most `max_chars` characters.
pub fn scrub(text: &str, max_chars: usize) -> String {
    let without_markup = strip_markup(text);
    let mut out = String::with_capacity(without_markup.len().min(max_chars + 16));
    let mut run = String::new();
    for ch in without_markup.chars() {
        if is_token_char(ch) {
            run.push(ch);
            continue;
        }
        flush_run(&mut run, &mut out);
        if ch.is_whitespace() || ch.is_control() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(ch);
        }
    }
    flush_run(&mut run, &mut out);
    let trimmed = out.trim();
    let mut excerpt: String = trimmed.chars().take(max_chars).collect();
    if trimmed.chars().count() > max_chars {
        excerpt.push('…');
    }
    if excerpt.is_empty() {
        excerpt.push_str("(empty body)");
    }
    excerpt
}

fn flush_run(run: &mut String, out: &mut String) {
    if run.is_empty() {
        return;
    }
    let len = run.chars().count();
    let has_digit = run.chars().any(|c| c.is_ascii_digit());
    if len >= ALWAYS_REDACTED_RUN || (len >= SUSPICIOUS_RUN && has_digit) {
        out.push_str("[redacted]");
    } else {
        out.push_str(run);
    }
    run.clear();
}

fn is_token_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '~' | '+' | '/' | '=' | '%')
}

/// Drops everything between `<` and `>`, and the content of `<script>` and
/// `<style>` elements, keeping the text a person would read.
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let after = &rest[start..];
        let lower: String = after
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            find_ci(after, "</script>").map(|i| i + "</script>".len())
        } else if lower.starts_with("<style") {
            find_ci(after, "</style>").map(|i| i + "</style>".len())
        } else {
            after.find('>').map(|i| i + 1)
        };
        match skip_to {
            Some(n) => rest = &after[n..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_error_page_becomes_its_text() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(
            scrub(page, 200),
            "502 Bad Gateway 502 Bad Gateway nginx/1.25.3"
        );
    }

    #[test]
    fn token_like_runs_are_redacted() {
        let text = "token=1c31afac-175c-3e3a-9d4b-8ecee3980cfa and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig";
        let out = scrub(text, 200);
        assert!(!out.contains("1c31afac"), "{out}");
        assert!(!out.contains("eyJhbGci"), "{out}");
        assert!(out.contains("[redacted]"));
    }

    #[test]
    fn long_text_is_cut() {
        let out = scrub(&"word ".repeat(500), 50);
        assert!(out.chars().count() <= 51);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn scripts_are_dropped() {
        let out = scrub("<script>var t='abc'</script><p>Sign in</p>", 100);
        assert_eq!(out, "Sign in");
    }
}
