//! The web crate's layout, checked: one folder per feature over `kit`, a feature never
//! importing another (what two share moves into `kit`, `greenplan-core` or
//! `greenplan-service`), the kit importing no feature, and no source file over 700 lines.
//! Read from the source tree, so a new import that breaks the rule fails here with the file
//! and line to change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The longest a source file may grow before it is split by page.
const MAX_LINES: usize = 700;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level folders of `src/` other than the kit: the features.
fn features() -> BTreeSet<String> {
    std::fs::read_dir(SRC)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "kit")
        .collect()
}

/// The top-level modules a line names through `crate::` (`crate::plan::x`, `crate::{a, b::c}`).
fn crate_modules(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            for part in inner.split(',') {
                let name = part.trim().split("::").next().unwrap_or_default();
                found.push(name.trim().to_string());
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

/// (file, line) for every use of another feature from `owner` (a feature, or
/// "kit", which may use none).
fn crossings(owner: &str, features: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&Path::new(SRC).join(owner)) {
        let text = std::fs::read_to_string(&file).unwrap();
        // A `use crate::{` list may run over several lines: read it as one.
        let joined = text.replace("{\n", "{").replace(",\n", ", ");
        for line in joined.lines() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for module in crate_modules(line) {
                if features.contains(&module) && module != owner {
                    found.push(format!(
                        "{}: `{}` uses the feature `{module}`",
                        file.strip_prefix(SRC).unwrap().display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn features_import_only_the_kit() {
    let features = features();
    assert!(
        features.len() >= 6,
        "expected the web crate's pages in feature folders, found {features:?}"
    );
    let mut found = Vec::new();
    for feature in &features {
        found.extend(crossings(feature, &features));
    }
    found.extend(crossings("kit", &features));
    assert!(
        found.is_empty(),
        "a feature (or the kit) imports another feature; move what they share into \
         crates/web/src/kit (or greenplan-core / greenplan-service):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rule_finds_a_crossing() {
    // The checker itself: a grouped import over lines, and a path in an expression.
    assert_eq!(
        crate_modules("use crate::{kit::Chrome, plan::ActionRow};"),
        ["kit", "plan"]
    );
    assert_eq!(crate_modules("let x = crate::tools::index(1);"), ["tools"]);
}

#[test]
fn no_source_file_is_over_700_lines() {
    let long: Vec<String> = rust_files(Path::new(SRC))
        .into_iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by page (a folder with a module per page, as the features do): {long:?}"
    );
}
