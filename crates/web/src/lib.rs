//! The greenplan web application: the plan, its progress and its footprint in a browser.
//!
//! Routes are thin: each loads what it needs from the store, asks `greenplan-core` for the
//! figures (progress, ratings, footprint) and renders an askama template, which escapes every
//! value by default. Pages work without JavaScript; charts are SVG drawn on the server.

// One module may call into the C library (`memory`, measured and documented); every other
// module is held to no unsafe code by this deny.
#![deny(unsafe_code)]

// Features: one folder each, importing only `kit` (enforced by the tidy test).
mod account;
mod admin;
mod api;
mod audit;
mod digital;
mod medicines;
mod plan;
mod registers;
mod reminders;
mod reports;
mod returns;
mod tools;
mod travel;

// What the features share, and the server around them.
pub mod connections;
pub mod forms;
pub mod kit;
pub mod memory;

pub use kit::auth::{BadPublicUrl, PublicUrl};
pub use kit::bounded_work;
pub use kit::protection::{CONTENT_SECURITY_POLICY, protect};
pub use kit::routes::{Route, Write};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use greenplan_store::Store;
use tower_http::trace::TraceLayer;

/// Settings of a deployment.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` and send HSTS: set when served over HTTPS (behind a proxy).
    pub secure_cookies: bool,
    /// Require signing in to read anything (the built-in demo lets anyone read).
    pub require_login: bool,
    /// Rate limits of the open survey link, and whose address a client has.
    pub survey_limits: SurveyLimits,
    /// The address people reach the site at (`--public-url`): unsafe requests must come
    /// from it, and links handed out start with it. Without it, the request's `Host` is used.
    pub public_url: Option<PublicUrl>,
    /// Timeouts and the cap on clients' connections (`serve` only).
    pub connections: connections::ConnectionLimits,
}

pub use travel::respond::SurveyLimits;

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
    /// The plan, footprint and dashboard of the current data revision.
    cache: kit::cache::Cache,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self::with_config(store, WebConfig::default())
    }

    pub fn with_config(store: Store, config: WebConfig) -> Self {
        Self {
            store,
            config,
            cache: kit::cache::Cache::default(),
        }
    }
}

/// Builds the application, with the protections of `protection` around every route.
pub fn router(state: AppState) -> Router {
    kit::protection::protect(app(state)).layer(axum::middleware::from_fn(api::json_errors))
}

/// Every route of the application, feature by feature: the router and its table.
fn routes() -> kit::Routes {
    kit::Routes::new()
        .merge(plan::routes())
        .merge(admin::routes())
        .merge(returns::routes())
        .merge(api::routes())
        .merge(audit::routes())
        .merge(account::routes())
        .merge(registers::routes())
        .merge(reminders::routes())
        .merge(medicines::routes())
        .merge(reports::routes())
        .merge(tools::routes())
        .merge(travel::routes())
        .merge(digital::routes())
        .merge(kit::assets::routes())
        .get("/healthz", healthz)
}

/// The route table of the application: every method and path it serves, and who may use
/// each write (read by the permission tests, so they test the router that is served).
pub fn route_table() -> Vec<Route> {
    routes().table().to_vec()
}

fn app(state: AppState) -> Router {
    routes()
        .into_router()
        .fallback(kit::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            kit::cache::after_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_login,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Where reading needs a login, sends anyone not signed in to the sign-in page (or, on the
/// API, answers 401 JSON).
async fn require_login(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    let open = matches!(path, "/login" | "/healthz")
        || path.starts_with("/static/")
        || path.starts_with("/assets/")
        || travel::is_public(path);
    // A token that signs no one in (mistyped, expired, revoked) is refused wherever it is
    // sent, even to pages anyone may read: the script must learn it, not read on as if its
    // token still worked. The viewer found here is the one the handlers get (request
    // extensions), so a request looks its session up once.
    let mut request = request;
    if !open {
        let viewer = match kit::auth::Viewer::look_up(request.headers(), path, &state).await {
            Ok(v) => v,
            Err(refused) => return refused,
        };
        if state.config.require_login && viewer.user.is_none() {
            // Scripts get the API's own answer, which they can read; browsers the sign-in page.
            if path.starts_with("/api/") {
                return kit::auth::api_unauthorised(
                    "this site requires signing in: send an API token as `Authorization: Bearer gp_…` (make one on your account page or with `greenplan token create EMAIL`)",
                );
            }
            return axum::response::Redirect::to("/login").into_response();
        }
        request.extensions_mut().insert(viewer);
    }
    let secure = state.config.secure_cookies;
    let mut response = next.run(request).await;
    if secure {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Serves the application on `listener` until Ctrl+C, within `config.connections`' timeouts
/// and connection cap.
pub async fn serve(
    store: Store,
    config: WebConfig,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let limits = config.connections;
    connections::serve(
        router(AppState::with_config(store, config)),
        limits,
        listener,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
}

/// 200 "ok" when the database answers and can take a write (a probe row written and removed
/// in one committed transaction, `Store::can_write`); 503 naming which of the two failed, so
/// that a full disk shows on the monitor before people's saves fail. A probe kept waiting
/// for the write lock (a long import) is still healthy: busy, not broken.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    if !state.store.is_reachable().await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
    }
    match state
        .store
        .can_write(std::time::Duration::from_secs(2))
        .await
    {
        Ok(true) => (StatusCode::OK, "ok").into_response(),
        Ok(false) => (
            StatusCode::OK,
            "ok (busy: another write holds the database)",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database cannot take writes");
            // The cause is logged; this address is open to anyone, so it says no more.
            let why = match e {
                greenplan_store::StoreError::StorageFull(_) => "storage is full",
                _ => "see the server's log",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("database cannot take writes: {why}"),
            )
                .into_response()
        }
    }
}
