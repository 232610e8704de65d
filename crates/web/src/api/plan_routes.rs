//! Actions and their updates, metrics and their values, the footprint, the OpenAPI document.

use super::*;

pub(crate) async fn plan(state: &AppState) -> ApiResult<std::sync::Arc<Plan>> {
    Ok(crate::kit::plan(state).await?)
}

/// The signed-in script behind an API token; sessions are refused for writes.
pub(crate) fn token_user(viewer: &Viewer) -> ApiResult<&greenplan_store::SignedIn> {
    match (&viewer.user, viewer.by_token) {
        (Some(u), true) => Ok(u),
        _ => Err(ApiError(StatusCode::UNAUTHORIZED, "send an API token as `Authorization: Bearer gp_…` (create one with `greenplan token create EMAIL`)".into())),
    }
}

#[utoipa::path(get, path = "/api/v1/actions", responses((status = 200, body = Vec<ActionDto>, links(("GetAction" = (operation_id = "get_action", parameters(("id" = "$response.body#/0/id")))), ("PostUpdate" = (operation_id = "post_update", parameters(("id" = "$response.body#/0/id")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_actions(State(state): State<AppState>) -> ApiResult<Json<Vec<ActionDto>>> {
    Ok(Json(
        plan(&state)
            .await?
            .actions
            .iter()
            .map(ActionDto::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/actions/{id}", params(("id" = String, Path, description = "Action id, e.g. MED1")),
    responses((status = 200, body = ActionDetailDto), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn get_action(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionDetailDto>> {
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no action `{id}`")))?;
    let updates = state
        .store
        .action_updates(&id)
        .await?
        .into_iter()
        .map(UpdateDto::from)
        .collect();
    Ok(Json(ActionDetailDto {
        action: action.into(),
        updates,
    }))
}

#[utoipa::path(post, path = "/api/v1/actions/{id}/updates", request_body = NewUpdateDto, params(("id" = String, Path, description = "Action id")),
    responses((status = 201, body = UpdateDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The body is not JSON, or a path segment does not parse", body = ErrorDto), (status = 403, description = "The token's person may not do this", body = ErrorDto), (status = 413, description = "The body is larger than 2 MB", body = ErrorDto), (status = 415, description = "The body is not sent as application/json", body = ErrorDto), (status = 422, description = "A field breaks its rule; the message names it", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn post_update(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<NewUpdateDto>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<UpdateDto>)> {
    let body = read_body(body)?;
    let user = token_user(&viewer)?;
    let plan = plan(&state).await?;
    let action = plan
        .actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no action `{id}`")))?;
    if !user.access.can_update_action(action, &plan) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "you cannot post updates on {id}: only contributors of the organisations that lead it can"
            ),
        ));
    }
    UPDATE_NOTE.check(&body.note)?;
    if let Some(url) = &body.evidence_url {
        UPDATE_EVIDENCE_URL.check(url)?;
    }
    if let Some(due) = &body.revised_due {
        UPDATE_REVISED_DUE.check(due)?;
    }
    // Exactly one of the listed words (the store's reader would also take it with spaces).
    let status = ActionStatus::ALL
        .into_iter()
        .find(|k| k.slug() == body.status)
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "status: unknown status `{}`: use not-started, on-track, at-risk, off-track or complete",
                    body.status
                ),
            )
        })?;
    let revised_due = body
        .revised_due
        .as_deref()
        .map(Period::parse)
        .transpose()
        .map_err(|e| {
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("revised_due: {e}"),
            )
        })?;
    let update = greenplan_store::NewActionUpdate {
        status,
        note: body.note,
        evidence_url: body.evidence_url,
        evidence_file: None,
        revised_due,
    };
    let posted = state
        .store
        .post_action_update(&user.email, &id, &update)
        .await?;
    Ok((StatusCode::CREATED, Json(posted.into())))
}

#[utoipa::path(get, path = "/api/v1/metrics", responses((status = 200, body = Vec<MetricDto>, links(("ListValues" = (operation_id = "list_values", parameters(("id" = "$response.body#/0/id")))), ("PostValue" = (operation_id = "post_value", parameters(("id" = "$response.body#/0/id")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_metrics(State(state): State<AppState>) -> ApiResult<Json<Vec<MetricDto>>> {
    let plan = plan(&state).await?;
    Ok(Json(
        plan.metrics
            .iter()
            .map(|m| {
                let p = metric_progress(m, &plan.data_points);
                MetricDto {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    organisation: m.organisation.as_ref().map(|o| o.to_string()),
                    area: m.area.clone(),
                    latest_period: p.latest.map(|(period, _)| period.code()),
                    latest_value: p.latest.map(|(_, v)| v.normalize().to_string()),
                    expected: p.expected.map(|v| v.normalize().to_string()),
                    rating: match p.rating {
                        greenplan_core::target::Rating::OnTrack => "on-track",
                        greenplan_core::target::Rating::AtRisk => "at-risk",
                        greenplan_core::target::Rating::OffTrack => "off-track",
                        greenplan_core::target::Rating::NotRated => "not-rated",
                    }
                    .into(),
                }
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/metrics/{id}/values", params(("id" = String, Path, description = "Metric id")),
    responses((status = 200, body = Vec<ValueDto>), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_values(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ValueDto>>> {
    let plan = plan(&state).await?;
    plan.metric(&id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no metric `{id}`")))?;
    Ok(Json(
        plan.data_points
            .iter()
            .filter(|d| d.metric == id)
            .map(|d| ValueDto {
                organisation: d.organisation.as_ref().map(|o| o.to_string()),
                period: d.period.code(),
                value: d.value.normalize().to_string(),
                as_written: d.as_written.clone(),
                note: d.note.clone(),
                reference: d.reference.clone(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/metrics/{id}/values", request_body = NewValueDto, params(("id" = String, Path, description = "Metric id")),
    responses((status = 201, description = "Recorded"), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The body is not JSON, or a path segment does not parse", body = ErrorDto), (status = 403, description = "The token's person may not do this", body = ErrorDto), (status = 413, description = "The body is larger than 2 MB", body = ErrorDto), (status = 415, description = "The body is not sent as application/json", body = ErrorDto), (status = 422, description = "A field breaks its rule; the message names it", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn post_value(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<NewValueDto>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let body = read_body(body)?;
    let user = token_user(&viewer)?;
    let plan = plan(&state).await?;
    let metric = plan
        .metric(&id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no metric `{id}`")))?;
    let unprocessable = |m: String| ApiError(StatusCode::UNPROCESSABLE_ENTITY, m);
    if let Some(organisation) = &body.organisation {
        VALUE_ORGANISATION.check(organisation)?;
    }
    VALUE_PERIOD.check(&body.period)?;
    VALUE_VALUE.check(&body.value)?;
    if let Some(note) = &body.note {
        VALUE_NOTE.check(note)?;
    }
    let organisation = body
        .organisation
        .as_deref()
        .map(greenplan_core::ods::OdsCode::parse)
        .transpose()
        .map_err(|e| unprocessable(e.to_string()))?;
    if (metric.organisation.is_some() && organisation != metric.organisation)
        || !user.access.can_record_value(organisation.as_ref(), &plan)
    {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "you cannot record values of this metric for that organisation".into(),
        ));
    }
    let period = Period::parse(&body.period).map_err(|e| unprocessable(format!("period: {e}")))?;
    let value = greenplan_core::quantity::parse_decimal(&body.value)
        .ok_or_else(|| unprocessable(format!("value: `{}` is not a number", body.value)))?;
    let record = greenplan_store::MetricValue {
        metric: id,
        organisation,
        period,
        value,
        as_written: None,
        note: body.note,
        reference: None,
        origin: user.email.clone(),
    };
    state
        .store
        .record_metric_value(&user.email, &record)
        .await?;
    Ok(StatusCode::CREATED)
}

// Rows left out of the footprint because they could not be summed are named in the
// `Greenplan-Not-Summed` header (documented), keeping the body's shape.
#[utoipa::path(get, path = "/api/v1/footprint", responses((status = 200, body = Vec<FootprintLineDto>, headers(("Greenplan-Not-Summed" = String, description = "Present when stored rows could not be summed (too large): the organisations and how many rows each, e.g. `RTG (2 rows)`; those rows are left out of the lines"))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn footprint(
    State(state): State<AppState>,
) -> ApiResult<(axum::http::HeaderMap, Json<Vec<FootprintLineDto>>)> {
    let table = crate::kit::footprint(&state).await?;
    let mut headers = axum::http::HeaderMap::new();
    if let Some(t) = &table
        && !t.unsummed.is_empty()
        && let Ok(v) = axum::http::HeaderValue::from_str(
            &greenplan_core::footprint::Unsummed::describe(&t.unsummed),
        )
    {
        headers.insert("greenplan-not-summed", v);
    }
    let t = |kg: greenplan_core::Decimal| {
        (kg / greenplan_core::Decimal::ONE_THOUSAND)
            .round_dp(6)
            .normalize()
            .to_string()
    };
    Ok((
        headers,
        Json(
            table
                .map(|t2| {
                    t2.lines
                        .iter()
                        .map(|l| FootprintLineDto {
                            organisation: l.key[0].clone(),
                            category: l.key[1].clone(),
                            tco2e: t(l.kgco2e),
                            tco2e_market_based: t(l.market_kgco2e),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
    ))
}

/// The OpenAPI document.
pub async fn openapi() -> ApiResult<Json<serde_json::Value>> {
    let mut doc = ApiDoc::openapi();
    let scheme = utoipa::openapi::security::SecurityScheme::Http(
        utoipa::openapi::security::Http::new(utoipa::openapi::security::HttpAuthScheme::Bearer),
    );
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme("token", scheme);
    }
    let mut doc = serde_json::to_value(doc).map_err(|e| {
        tracing::error!(error = %e, "OpenAPI document");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the API document could not be written".into(),
        )
    })?;
    constrain(&mut doc);
    Ok(Json(doc))
}
