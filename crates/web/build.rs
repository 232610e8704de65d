//! Builds the NHS design system (the `nhsuk-frontend` package, pinned in
//! `frontend/package-lock.json`) into the server, so the server is one file.
//!
//! The package is installed with `npm ci` when it is not there yet (a fresh checkout needs
//! Node.js and npm once; nothing is fetched at run time). The stylesheet's `@font-face` rules
//! are left out: they load the Frutiger font from assets.nhs.uk, and greenplan's pages make
//! no third-party requests (a strict Content-Security-Policy and readers' privacy); text falls
//! back to Arial, the design system's own fallback.

use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "frontend/node_modules/nhsuk-frontend";

/// Icons the stylesheet refers to (as `/assets/images/NAME`).
const IMAGES: &[&str] = &[
    "nhsuk-icon-arrow-down.svg",
    "nhsuk-icon-arrow-up-down.svg",
    "nhsuk-icon-arrow-up.svg",
    "nhsuk-icon-cross.svg",
    "favicon.svg",
];

fn main() {
    println!("cargo:rerun-if-changed=frontend/package-lock.json");
    println!("cargo:rerun-if-changed=build.rs");
    let dist = Path::new(PACKAGE).join("dist/nhsuk");
    if !dist.join("nhsuk-frontend.min.css").exists() {
        install();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let css = read(&dist.join("nhsuk-frontend.min.css"));
    let css = without_font_faces(&String::from_utf8(css).expect("the stylesheet is UTF-8"));
    let css = match css.rfind("/*# sourceMappingURL=") {
        Some(at) => css[..at].to_string(),
        None => css,
    };
    let css = with_enhanced_contrast(&css);
    write(&out.join("nhsuk-frontend.min.css"), css.as_bytes());
    write(
        &out.join("nhsuk-frontend.min.js"),
        &without_source_map(&read(&dist.join("nhsuk-frontend.min.js"))),
    );
    for image in IMAGES {
        write(
            &out.join(image),
            &read(&dist.join("assets/images").join(image)),
        );
    }
}

/// The design system's colours that fall short of WCAG's enhanced contrast (AAA, 7:1, on
/// white and on the page's #f0f4f5), each replaced by a darker colour of the NHS palette:
/// NHS blue by NHS dark blue (header, links, secondary buttons: 6.4 → 11.9), grey 1 by a
/// darker grey (hints, secondary text: 5.8 → 7.8), the button greens a shade darker (white on
/// the button 5.1 → 7.1), the error red by NHS dark red (5.1 → 8.7). The browser tests run every
/// axe-core rule, AAA included. Done here, in one table, because the stylesheet is compiled
/// Sass: its components carry literal colours, not the custom properties.
const ENHANCED_CONTRAST: &[(&str, &str)] = &[
    ("#005eb8", "#003087"),
    ("#4c6272", "#3d4e5a"),
    ("#00662f", "#004c23"),
    ("#007f3b", "#00662f"),
    ("#d5281b", "#8a1538"),
];

/// The stylesheet with [`ENHANCED_CONTRAST`]'s colours replaced, each in one pass (so a
/// replacement is never replaced again).
fn with_enhanced_contrast(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let candidate = rest[at..].get(..7).unwrap_or_default().to_ascii_lowercase();
        match ENHANCED_CONTRAST
            .iter()
            .find(|(from, _)| *from == candidate)
        {
            Some((_, to)) => {
                out.push_str(to);
                rest = &rest[at + 7..];
            }
            None => {
                out.push('#');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn install() {
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir("frontend")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci` in crates/web/frontend failed ({s}): the NHS design system package is needed to build greenplan"
        ),
        Err(e) => panic!(
            "cannot run npm ({e}): install Node.js and npm once to build greenplan (they fetch the pinned nhsuk-frontend package)"
        ),
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The stylesheet without its `@font-face { ... }` blocks (they hold no nested braces).
fn without_font_faces(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find("@font-face{") {
        out.push_str(&rest[..at]);
        match rest[at..].find('}') {
            Some(end) => rest = &rest[at + end + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// The script without its `sourceMappingURL` comment (the map is not served).
fn without_source_map(js: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(js);
    match text.rfind("//# sourceMappingURL=") {
        Some(at) => text[..at].as_bytes().to_vec(),
        None => js.to_vec(),
    }
}
