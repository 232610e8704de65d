//! What any text a person gives the service may hold, stated once: how long each kind of
//! field may be, and that no control character other than TAB, LF and CR is accepted.
//!
//! Every way text comes in applies these rules: the web app's form, JSON and query-string
//! check (one middleware, by field name), the multipart forms' text fields, and the text
//! columns of the activity and register importers. Why refuse control characters rather than
//! strip them: a NUL cannot be stored in PostgreSQL text at all (the insert fails), other C0
//! characters break the XML of workbooks and the SVG of the report charts, and none of them
//! is something a person meant to type; saying so, with the field, lets them fix it.

use std::fmt;

/// The kinds of text field, each with its longest accepted length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name, title, code, e-mail address, unit, period or any one-line value.
    Name,
    /// A note, description, reason or other free text.
    Note,
    /// A list typed one item a line (a survey's sites, an action's leads).
    List,
}

impl TextKind {
    /// The longest accepted length, in characters.
    pub const fn max_chars(self) -> usize {
        match self {
            TextKind::Name => MAX_NAME_CHARS,
            TextKind::Note => MAX_NOTE_CHARS,
            TextKind::List => MAX_LIST_CHARS,
        }
    }
}

/// The longest name or title, in characters.
pub const MAX_NAME_CHARS: usize = 500;
/// The longest note or description, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// The longest one-item-a-line list, in characters.
pub const MAX_LIST_CHARS: usize = 100_000;

/// What is wrong with a text value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is {length} characters long; the most it may be is {max}: shorten it")]
    TooLong { length: usize, max: usize },
    #[error(
        "holds a control character ({}) at character {position}: remove it (only tabs and line breaks are kept)",
        ControlName(*character)
    )]
    ControlCharacter { character: char, position: usize },
}

/// How a control character is named in a message: `U+0000 (NUL)`.
struct ControlName(char);

impl fmt::Display for ControlName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))?;
        if self.0 == '\0' {
            write!(f, " (NUL)")?;
        }
        Ok(())
    }
}

/// A character no text field accepts: the C0 controls (NUL included) other than TAB, LF, CR.
pub fn is_refused_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t' && c != '\n' && c != '\r' && c != '\u{7f}'
}

/// The first refused control character of `text`, if any.
pub fn refused_control(text: &str) -> Option<TextError> {
    // The refused characters are all ASCII, so bytes find them (importers check every cell of
    // files of hundreds of thousands of rows); characters are counted only for the message.
    let at = text
        .bytes()
        .position(|b| is_refused_control(char::from(b)))?;
    Some(TextError::ControlCharacter {
        character: char::from(text.as_bytes()[at]),
        position: text[..at].chars().count() + 1,
    })
}

/// Checks `text` as a field of `kind`: no refused control character, not too long.
pub fn check(text: &str, kind: TextKind) -> Result<(), TextError> {
    if let Some(e) = refused_control(text) {
        return Err(e);
    }
    let max = kind.max_chars();
    // Bytes bound characters from above: most text is short, so count only when it may matter.
    if text.len() > max {
        let length = text.chars().count();
        if length > max {
            return Err(TextError::TooLong { length, max });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_line_breaks_are_kept_other_controls_refused() {
        assert_eq!(check("a\tb\r\nc", TextKind::Note), Ok(()));
        for c in ['\0', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{1f}'] {
            let text = format!("ab{c}");
            assert_eq!(
                check(&text, TextKind::Name),
                Err(TextError::ControlCharacter {
                    character: c,
                    position: 3
                })
            );
        }
        let message = check("x\0", TextKind::Name).unwrap_err().to_string();
        assert!(message.contains("U+0000 (NUL)"), "{message}");
    }

    #[test]
    fn each_kind_has_its_length() {
        let name = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(check(&name, TextKind::Name), Ok(()));
        assert_eq!(
            check(&format!("{name}x"), TextKind::Name),
            Err(TextError::TooLong {
                length: MAX_NAME_CHARS + 1,
                max: MAX_NAME_CHARS
            })
        );
        assert_eq!(check(&format!("{name}x"), TextKind::Note), Ok(()));
        assert!(check(&"x".repeat(MAX_NOTE_CHARS + 1), TextKind::Note).is_err());
        assert!(check(&"x".repeat(MAX_NOTE_CHARS + 1), TextKind::List).is_ok());
    }
}
