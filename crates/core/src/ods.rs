//! Organisation codes from the NHS Organisation Data Service (ODS).
//!
//! Trusts have three-character codes (`RTG`), ICBs three (`QJ2`), sub-ICB locations three
//! (`15M`), GP practices six (`C81001`). Partners outside the NHS have no ODS code; plans give
//! them a slug such as `DERBY-CC`. We accept both, upper-case them and refuse anything else,
//! so a code typed with a stray space or lower case still matches the stored one.
//!
//! A code is at most [`MAX_LEN`] ASCII bytes, so it is kept inline rather than in a `String`:
//! every activity row names one, and parsing a file of a million rows then allocates nothing
//! for it (nor does cloning it into each emission).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest organisation code accepted, in characters (all ASCII).
pub const MAX_LEN: usize = 20;

/// A validated organisation code: 2 to 20 characters of `A-Z`, `0-9` and `-`.
///
/// Compares, orders and hashes as its text does.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OdsCode {
    /// Number of bytes of `bytes` in use; the rest are zero.
    len: u8,
    bytes: [u8; MAX_LEN],
}

/// Why an organisation code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an organisation code: use the ODS code (e.g. RTG, QJ2, C81001) or a slug of letters, digits and hyphens"
)]
pub struct InvalidOdsCode(pub String);

impl OdsCode {
    /// Parses a code, trimming spaces and upper-casing it.
    pub fn parse(raw: &str) -> Result<Self, InvalidOdsCode> {
        let code = crate::quantity::trim(raw).as_bytes();
        let mut bytes = [0u8; MAX_LEN];
        let valid = (2..=MAX_LEN).contains(&code.len())
            && code.iter().zip(&mut bytes).all(|(&b, slot)| {
                *slot = b.to_ascii_uppercase();
                b.is_ascii_alphanumeric() || b == b'-'
            });
        if valid {
            Ok(Self {
                // At most MAX_LEN (20), checked above.
                len: code.len() as u8,
                bytes,
            })
        } else {
            Err(InvalidOdsCode(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked by `parse`), so this never falls back.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl PartialEq for OdsCode {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for OdsCode {}

impl PartialOrd for OdsCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OdsCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for OdsCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for OdsCode {
    /// As the `String` it used to hold printed: `OdsCode("RTG")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OdsCode").field(&self.as_str()).finish()
    }
}

impl TryFrom<String> for OdsCode {
    type Error = InvalidOdsCode;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OdsCode> for String {
    fn from(code: OdsCode) -> Self {
        code.as_str().to_string()
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(OdsCode::parse(" rtg ").unwrap().as_str(), "RTG");
        assert_eq!(OdsCode::parse("derby-cc").unwrap().as_str(), "DERBY-CC");
    }

    #[test]
    fn refuses_junk() {
        assert!(OdsCode::parse("R").is_err());
        assert!(OdsCode::parse("RT G").is_err());
        assert!(OdsCode::parse("").is_err());
        assert!(OdsCode::parse("ÉTG").is_err());
        assert!(OdsCode::parse(&"A".repeat(MAX_LEN + 1)).is_err());
        assert_eq!(
            OdsCode::parse(&"a".repeat(MAX_LEN)).unwrap().as_str(),
            "A".repeat(MAX_LEN)
        );
    }

    #[test]
    fn compares_and_prints_as_text() {
        let (a, b) = (
            OdsCode::parse("C81001").unwrap(),
            OdsCode::parse("RTG").unwrap(),
        );
        assert!(a < b);
        assert!(OdsCode::parse("RT").unwrap() < OdsCode::parse("RTG").unwrap());
        assert_eq!(a, OdsCode::parse("c81001 ").unwrap());
        assert_eq!(format!("{b:?}"), "OdsCode(\"RTG\")");
        assert_eq!(String::from(b.clone()), "RTG");
        assert_eq!(OdsCode::try_from("rtg".to_string()).unwrap(), b);
    }
}
