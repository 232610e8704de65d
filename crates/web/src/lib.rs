//! The greenplan web application: the plan, its progress and its footprint in a browser.
//!
//! Routes are thin: each loads what it needs from the store, asks `greenplan-core` for the
//! figures (progress, ratings, footprint) and renders an askama template, which escapes every
//! value by default. Pages work without JavaScript; charts are SVG drawn on the server.

// One module may call into the C library (`memory`, measured and documented); every other
// module is held to no unsafe code by this deny.
#![deny(unsafe_code)]

mod account;
mod admin;
mod api;
mod assets;
mod audit_page;
mod auth;
pub mod bounded_work;
mod cache;
mod charts;
mod climate_risks_page;
pub mod connections;
mod digital;
pub mod forms;
mod gases_page;
mod medicines_page;
pub mod memory;
mod pages;
mod periods;
mod registers_page;
pub use auth::{BadPublicUrl, PublicUrl};
pub use protection::{CONTENT_SECURITY_POLICY, protect};
mod protection;
mod reports_page;
mod returns;
mod scenarios_page;
mod schemes_page;
mod sia_page;
mod stale;
mod text_input;
mod tools;
mod travel;
mod travel_respond;
mod travel_routes;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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

pub use travel_respond::SurveyLimits;

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
    /// The plan, footprint and dashboard of the current data revision.
    cache: cache::Cache,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self::with_config(store, WebConfig::default())
    }

    pub fn with_config(store: Store, config: WebConfig) -> Self {
        Self {
            store,
            config,
            cache: cache::Cache::default(),
        }
    }
}

/// Builds the application, with the protections of `protection` around every route.
pub fn router(state: AppState) -> Router {
    protection::protect(routes(state)).layer(axum::middleware::from_fn(api::json_errors))
}

/// The routes, one to a line (left unformatted so that each route stays one line: easy to
/// read, to merge, and for the permission tests to find).
#[rustfmt::skip]
fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/areas/{code}", get(pages::area))
        .route("/actions", get(pages::actions))
        .route("/actions/{id}", get(pages::action))
        .route("/actions/{id}/updates", axum::routing::post(pages::post_action_update).layer(axum::extract::DefaultBodyLimit::max(greenplan_store::MAX_EVIDENCE_BYTES + 64 * 1024)))
        .route("/actions/{id}/edit", get(admin::edit_action_page).post(admin::edit_action))
        .route("/actions/{id}/archive", axum::routing::post(admin::archive_action))
        .route("/actions/{id}/milestones/{number}/done", axum::routing::post(admin::milestone_done))
        .route("/areas/{code}/edit", get(admin::edit_area_page).post(admin::edit_area))
        .route("/areas/{code}/actions/new", get(admin::new_action_page))
        .route("/areas/{code}/actions", axum::routing::post(admin::add_action))
        .route("/metrics/{id}/edit", get(admin::edit_metric_page).post(admin::edit_metric))
        .route("/my/actions", get(pages::my_actions))
        .route("/evidence/{id}", get(pages::evidence))
        .route("/admin", get(admin::admin_index))
        .route("/admin/organisations", get(admin::organisations_page).post(admin::add_organisation))
        .route("/admin/organisations/{code}", axum::routing::post(admin::edit_organisation))
        .route("/admin/organisations/{code}/archive", axum::routing::post(admin::archive_organisation))
        .route("/admin/users", get(admin::users_page).post(admin::add_user))
        .route("/admin/users/roles/remove", axum::routing::post(admin::remove_role))
        .route("/admin/users/disable", axum::routing::post(admin::disable_user))
        .route("/admin/users/tokens/revoke", axum::routing::post(admin::revoke_user_token))
        .route("/returns/periods", get(periods::periods_page).post(periods::open_period))
        .route("/returns/periods/{quarter}", get(periods::period_page))
        .route("/returns/{id}/approve", axum::routing::post(periods::approve))
        .route("/api/v1/actions", get(api::list_actions))
        .route("/api/v1/actions/{id}", get(api::get_action))
        .route("/api/v1/actions/{id}/updates", axum::routing::post(api::post_update))
        .route("/api/v1/metrics", get(api::list_metrics))
        .route("/api/v1/metrics/{id}/values", get(api::list_values).post(api::post_value))
        .route("/api/v1/footprint", get(api::footprint))
        .route("/api/v1/reporting-periods", get(api::list_periods))
        .route("/api/v1/reporting-periods/{quarter}/returns", get(api::list_returns))
        .route("/api/v1/returns/{id}/approve", axum::routing::post(api::approve_return))
        .route("/api/openapi.json", get(api::openapi))
        .route("/audit", get(audit_page::audit))
        .route("/audit.csv", get(audit_page::audit_csv))
        .route("/returns", get(returns::returns_page))
        .route("/returns/preview", axum::routing::post(returns::preview).layer(axum::extract::DefaultBodyLimit::max(returns::MAX_UPLOAD_BYTES)))
        .route("/returns/confirm", axum::routing::post(returns::confirm))
        .route("/returns/template.xlsx", get(returns::template))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", axum::routing::post(account::logout))
        .route("/account", get(account::account))
        .route("/account/password", axum::routing::post(account::change_password))
        .route("/account/tokens", axum::routing::post(account::create_token))
        .route("/account/tokens/revoke", axum::routing::post(account::revoke_token))
        .route("/account/invitations", axum::routing::post(account::answer_invitation))
        .route("/metrics", get(pages::metrics))
        .route("/registers", get(registers_page::index))
        .route("/registers/{slug}", get(registers_page::list))
        .route("/registers/{slug}/new", get(registers_page::new_page).post(registers_page::add))
        .route("/registers/{slug}/import", get(registers_page::import_page).post(registers_page::import).layer(axum::extract::DefaultBodyLimit::max(registers_page::MAX_IMPORT_BYTES)))
        .route("/registers/{slug}/export.csv", get(registers_page::export_csv))
        .route("/registers/{slug}/export.xlsx", get(registers_page::export_xlsx))
        .route("/registers/{slug}/template.xlsx", get(registers_page::template))
        .route("/registers/{slug}/heat-map", get(climate_risks_page::heat_map_page))
        .route("/registers/{slug}/{id}/edit", get(registers_page::edit_page).post(registers_page::edit))
        .route("/registers/{slug}/{id}/archive", axum::routing::post(registers_page::archive))
        .route("/medicines/inhalers", get(medicines_page::inhalers))
        .route("/medicines/inhalers.csv", get(medicines_page::inhalers_csv))
        .route("/medicines/inhalers/league", get(medicines_page::inhaler_league))
        .route("/medicines/inhalers/practices/{code}", get(medicines_page::inhaler_practice))
        .route("/medicines/anaesthetic-gases", get(gases_page::anaesthetic_gases))
        .route("/medicines/anaesthetic-gases.csv", get(gases_page::anaesthetic_gases_csv))
        .route("/metrics/{id}", get(pages::metric))
        .route("/metrics/{id}/values", axum::routing::post(pages::post_metric_value))
        .route("/metrics/{id}/values.csv", get(pages::metric_csv))
        .route("/organisations", get(pages::organisations))
        .route("/organisations/{code}", get(pages::organisation))
        .route("/footprint.csv", get(pages::footprint_csv))
        .route("/visions", get(pages::visions))
        .route("/reports", get(reports_page::reports))
        .route("/reports/quarterly", get(reports_page::quarterly))
        .route("/reports/annual", get(reports_page::annual))
        .route("/reports/publish", axum::routing::post(reports_page::publish))
        .route("/reports/published/{id}", get(reports_page::published))
        .route("/reports/published/{id}/changes", get(reports_page::changes))
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(assets::app_css))
        .route("/static/nhsuk-frontend-10.6.1.css", get(assets::nhsuk_css))
        .route("/static/nhsuk-frontend-10.6.1.js", get(assets::nhsuk_js))
        .route("/static/init.js", get(assets::init_js))
        .route("/assets/images/{name}", get(assets::image))
        .merge(tools::routes())
        .merge(travel_routes::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_login))
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
        || travel_routes::is_public(path);
    // A token that signs no one in (mistyped, expired, revoked) is refused wherever it is
    // sent, even to pages anyone may read: the script must learn it, not read on as if its
    // token still worked. The viewer found here is the one the handlers get (request
    // extensions), so a request looks its session up once.
    let mut request = request;
    if !open {
        let viewer = match auth::Viewer::look_up(request.headers(), path, &state).await {
            Ok(v) => v,
            Err(refused) => return refused,
        };
        if state.config.require_login && viewer.user.is_none() {
            // Scripts get the API's own answer, which they can read; browsers the sign-in page.
            if path.starts_with("/api/") {
                return auth::api_unauthorised(
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
