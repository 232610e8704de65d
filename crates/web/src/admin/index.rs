//! The admin index, with the stored records that cannot be read.

use super::*;

#[derive(Template)]
#[template(path = "admin.html")]
pub(crate) struct AdminPage {
    title: String,
    chrome: Chrome,
    can_run_plan: bool,
    /// Stored rows left out because they cannot be read back; `None` unless a system admin.
    unreadable: Option<Vec<greenplan_store::UnreadableRecord>>,
}

/// The stored records the store leaves out because they cannot be read back (issue 21, class
/// 0), for system admins only: each with its table, id and reason, so it can be fixed.
pub(crate) async fn unreadable_records(
    state: &AppState,
    user: &SignedIn,
) -> Result<Option<Vec<greenplan_store::UnreadableRecord>>, PageError> {
    if !user.access.is_system_admin() {
        return Ok(None);
    }
    Ok(Some(state.store.unreadable_records().await?))
}

pub async fn admin_index(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to continue.".into()))?;
    if !user.access.manages_people() {
        return Err(PageError::Forbidden(
            "Only administrators have an administration page.".into(),
        ));
    }
    html(AdminPage {
        title: "Administration".into(),
        chrome: Chrome::of(&viewer),
        can_run_plan: user.access.can_run_the_plan(),
        unreadable: unreadable_records(&state, user).await?,
    })
}
