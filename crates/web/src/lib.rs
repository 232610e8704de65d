//! The greenplan web application: the plan, its progress and its footprint in a browser.
//!
//! Routes are thin: each loads what it needs from the store, asks `greenplan-core` for the
//! figures (progress, ratings, footprint) and renders an askama template, which escapes every
//! value by default. Pages work without JavaScript; charts are SVG drawn on the server.

#![forbid(unsafe_code)]

mod charts;
mod pages;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use greenplan_core::footprint::FootprintTable;
use greenplan_store::Store;
use std::sync::Arc;
use tokio::sync::Mutex;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The footprint and the number of activity rows it was computed from.
type CachedFootprint = (i64, Arc<FootprintTable>);

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The footprint by organisation and category, recomputed when activity data changes.
    footprint: Arc<Mutex<Option<CachedFootprint>>>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            footprint: Arc::new(Mutex::new(None)),
        }
    }
}

/// Builds the application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/areas/{code}", get(pages::area))
        .route("/actions", get(pages::actions))
        .route("/actions/{id}", get(pages::action))
        .route("/metrics", get(pages::metrics))
        .route("/metrics/{id}", get(pages::metric))
        .route("/metrics/{id}/values.csv", get(pages::metric_csv))
        .route("/organisations", get(pages::organisations))
        .route("/organisations/{code}", get(pages::organisation))
        .route("/footprint.csv", get(pages::footprint_csv))
        .route("/visions", get(pages::visions))
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(css))
        .fallback(pages::not_found)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until Ctrl+C.
pub async fn serve(store: Store, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(AppState::new(store)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    if state.store.is_reachable().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
        .into_response()
}
