//! Static files built into the binary: the NHS design system's stylesheet, script and icons
//! (from the pinned `nhsuk-frontend` package, see `build.rs`) and greenplan's own styles.
//! Served with long cache lifetimes: their names change with the package version.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const NHSUK_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/nhsuk-frontend.min.css"));
const NHSUK_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/nhsuk-frontend.min.js"));
const APP_CSS: &str = include_str!("../../assets/app.css");
/// The print stylesheet every page links with `media="print"`: a printed SIA (or any page)
/// without the header, navigation, forms and footer.
const PRINT_CSS: &str = include_str!("../../assets/print.css");
/// Starts the design system's scripts (a module, so no inline script is needed and the
/// Content-Security-Policy can forbid them). Pages work without it. The body is not marked
/// `nhsuk-frontend-supported`: that switches the header to a single line whose overflow the
/// script moves into a "More" menu, and greenplan's header (with its sign-out form) wraps
/// onto a second line instead, with or without scripts.
const INIT_JS: &str = "import { initAll } from './nhsuk-frontend-10.6.1.js';\n\
document.body.classList.add('js-enabled');\n\
initAll();\n";

fn file(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

pub async fn nhsuk_css() -> Response {
    file("text/css; charset=utf-8", NHSUK_CSS.as_bytes())
}

pub async fn nhsuk_js() -> Response {
    file("text/javascript; charset=utf-8", NHSUK_JS.as_bytes())
}

pub async fn init_js() -> Response {
    file("text/javascript; charset=utf-8", INIT_JS.as_bytes())
}

pub async fn app_css() -> Response {
    file("text/css; charset=utf-8", APP_CSS.as_bytes())
}

/// The icons the stylesheet refers to.
pub async fn image(Path(name): Path<String>) -> Response {
    macro_rules! images {
        ($($name:literal),*) => {
            match name.as_str() {
                $($name => file("image/svg+xml", include_bytes!(concat!(env!("OUT_DIR"), "/", $name))),)*
                _ => crate::kit::not_found().await,
            }
        };
    }
    images!(
        "nhsuk-icon-arrow-down.svg",
        "nhsuk-icon-arrow-up-down.svg",
        "nhsuk-icon-arrow-up.svg",
        "nhsuk-icon-cross.svg",
        "favicon.svg"
    )
}

/// The print style sheet the report pages use.
pub async fn print_css() -> Response {
    file("text/css; charset=utf-8", PRINT_CSS.as_bytes())
}

/// The built-in files.
pub fn routes() -> super::Routes {
    super::Routes::new()
        .get("/static/app.css", app_css)
        .get("/static/print.css", print_css)
        .get("/static/nhsuk-frontend-10.6.1.css", nhsuk_css)
        .get("/static/nhsuk-frontend-10.6.1.js", nhsuk_js)
        .get("/static/init.js", init_js)
        .get("/assets/images/{name}", image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_system_is_built_in_without_third_party_fonts() {
        assert!(NHSUK_CSS.contains(".nhsuk-header"));
        assert!(
            !NHSUK_CSS.contains("assets.nhs.uk"),
            "no font requests to other sites"
        );
        assert!(!NHSUK_CSS.contains("sourceMappingURL"));
        // The routes and templates name the version: a new package needs them changed too.
        assert!(
            NHSUK_JS.contains("version=\"10.6.1\""),
            "the script is the pinned version"
        );
    }
}
