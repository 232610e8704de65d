//! Organisation codes from the NHS Organisation Data Service (ODS).
//!
//! Trusts have three-character codes (`RTG`), ICBs three (`QJ2`), sub-ICB locations three
//! (`15M`), GP practices six (`C81001`). Partners outside the NHS have no ODS code; plans give
//! them a slug such as `DERBY-CC`. We accept both, upper-case them and refuse anything else,
//! so a code typed with a stray space or lower case still matches the stored one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated organisation code: 2 to 20 characters of `A-Z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OdsCode(String);

/// Why an organisation code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an organisation code: use the ODS code (e.g. RTG, QJ2, C81001) or a slug of letters, digits and hyphens"
)]
pub struct InvalidOdsCode(pub String);

impl OdsCode {
    /// Parses a code, trimming spaces and upper-casing it.
    pub fn parse(raw: &str) -> Result<Self, InvalidOdsCode> {
        let code = raw.trim().to_ascii_uppercase();
        let valid = (2..=20).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(Self(code))
        } else {
            Err(InvalidOdsCode(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
        code.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
    }
}
