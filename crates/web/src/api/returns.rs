//! Reporting periods and their returns; approving a return.

use super::*;

/// A reporting period (a quarter open for returns).
#[derive(Serialize, ToSchema)]
pub struct PeriodDto {
    /// e.g. "Q3 2025/26"
    pub quarter: String,
    /// The address of the quarter in this API and the web app, e.g. "2025-26-Q3".
    pub slug: String,
    /// ISO date: returns received after it are late.
    pub due_on: String,
}

/// A return received for a quarter, and where it stands.
#[derive(Serialize, ToSchema)]
pub struct ReturnDto {
    pub id: i64,
    pub quarter: String,
    pub organisation: String,
    pub file: String,
    pub rows: i64,
    /// Exact decimal, kgCO2e (location-based), as text.
    pub kgco2e: String,
    pub submitted_by: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

impl From<greenplan_store::ReturnRecord> for ReturnDto {
    fn from(r: greenplan_store::ReturnRecord) -> Self {
        Self {
            id: r.id,
            quarter: r.quarter.to_string(),
            organisation: r.organisation.to_string(),
            file: r.file,
            rows: r.row_count,
            kgco2e: r.kgco2e.normalize().to_string(),
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/reporting-periods", responses((status = 200, body = Vec<PeriodDto>, links(("ListReturns" = (operation_id = "list_returns", parameters(("quarter" = "$response.body#/0/slug")))))), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_periods(State(state): State<AppState>) -> ApiResult<Json<Vec<PeriodDto>>> {
    let periods = state.store.reporting_periods().await?;
    Ok(Json(
        periods
            .into_iter()
            .map(|p| PeriodDto {
                quarter: p.quarter.to_string(),
                slug: crate::kit::quarter_slug(p.quarter),
                due_on: p.due_on.to_string(),
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/reporting-periods/{quarter}/returns", params(("quarter" = String, Path, description = "The quarter as in its address, e.g. 2025-26-Q3")),
    responses((status = 200, body = Vec<ReturnDto>, links(("ApproveReturn" = (operation_id = "approve_return", parameters(("id" = "$response.body#/0/id")))))), (status = 400, description = "A path segment that does not parse", body = ErrorDto), (status = 404, description = "The address is not a quarter (write it as 2025-26-Q3)", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)))]
pub async fn list_returns(
    State(state): State<AppState>,
    Path(quarter): Path<String>,
) -> ApiResult<Json<Vec<ReturnDto>>> {
    let quarter = crate::kit::quarter_of_slug(&quarter).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("no reporting period `{quarter}`: write it as 2025-26-Q3"),
        )
    })?;
    let returns = state.store.returns_for(quarter).await?;
    Ok(Json(returns.into_iter().map(ReturnDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/approve", params(("id" = i64, Path, minimum = 1, description = "The return's number")),
    responses((status = 200, body = ReturnDto), (status = 404, description = "There is no such record", body = ErrorDto), (status = 400, description = "The id is not a whole number", body = ErrorDto), (status = 403, description = "Only the ICB's system administrators approve returns", body = ErrorDto), (status = 409, description = "The return is already approved", body = ErrorDto), (status = 507, description = "The storage is full, nothing was changed", body = ErrorDto), (status = 401, description = "No API token, or not one in force (and, where the deployment requires signing in, any call without one)", body = ErrorDto), (status = 500, description = "Something went wrong on our side", body = ErrorDto), (status = 503, description = "The database is unavailable for now", body = ErrorDto)),
    security(("token" = [])))]
pub async fn approve_return(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReturnDto>> {
    let user = token_user(&viewer)?;
    if !user.access.can_run_the_plan() {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "only the ICB's system administrators approve returns".into(),
        ));
    }
    // A return that does not exist is a 404, as for every other id in the API (the store
    // refuses it again, in its transaction, should the return go in between).
    let current = state
        .store
        .return_record(id)
        .await?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("there is no return {id}")))?;
    // Approving twice conflicts with the return's state (409), like a stale save; the store
    // refuses it again in its transaction should two approvals race.
    if current.approved_at.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("return {id} is already approved"),
        ));
    }
    let record = state.store.approve_return(&user.email, id).await?;
    Ok(Json(record.into()))
}
