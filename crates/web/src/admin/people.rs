//! People: roles, invitations, API tokens and disabling accounts.

use super::*;

// ---------------------------------------------------------------- people

#[derive(Template)]
#[template(path = "admin_users.html")]
pub(crate) struct UsersAdminPage {
    title: String,
    chrome: Chrome,
    users: Vec<UserRow>,
    organisations: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    /// Invitations to the organisations this viewer manages, awaiting an answer:
    /// (email, role label, organisation name, invited by).
    invitations: Vec<(String, String, String, String)>,
}

pub(crate) struct UserRow {
    email: String,
    name: String,
    disabled: bool,
    /// (organisation code, organisation name, role label, may this viewer remove it)
    roles: Vec<(String, String, String, bool)>,
    /// May this viewer disable the person (a system admin only).
    can_disable: bool,
    /// The person's API tokens, when this viewer manages every role they hold.
    tokens: Vec<crate::kit::TokenRow>,
}

/// The people a viewer may manage: everyone for a system admin; for an organisation admin,
/// the people of their organisations.
pub async fn users_page(viewer: Viewer, State(state): State<AppState>) -> PageResult {
    let user = viewer
        .user
        .as_ref()
        .ok_or_else(|| PageError::SignInNeeded("Sign in to manage people.".into()))?;
    if !user.access.manages_people() {
        return Err(PageError::Forbidden(
            "Only organisation and system administrators manage people.".into(),
        ));
    }
    let plan = plan(&state).await?;
    let name_of = |code: &OdsCode| {
        plan.organisation(code)
            .map_or_else(|| code.to_string(), |o| o.name.clone())
    };
    let managed: Vec<&Organisation> = plan
        .organisations
        .iter()
        .filter(|o| user.access.can_manage_users_of(&o.code, Role::Viewer))
        .collect();
    let now = chrono::Utc::now().timestamp();
    let all_tokens = state.store.api_tokens(None).await?;
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| {
            user.access.is_system_admin()
                || u.memberships.iter().any(|m| {
                    user.access
                        .can_manage_users_of(&m.organisation, Role::Viewer)
                })
        })
        .map(|u| {
            let person = greenplan_core::access::Access::new(u.memberships.clone());
            let tokens = if user.access.can_manage_person(&person) {
                all_tokens
                    .iter()
                    .filter(|t| t.email == u.email)
                    .map(|t| crate::kit::TokenRow::of(t, now))
                    .collect()
            } else {
                Vec::new()
            };
            UserRow {
                roles: u
                    .memberships
                    .iter()
                    .map(|m| {
                        (
                            m.organisation.to_string(),
                            name_of(&m.organisation),
                            m.role.label().to_string(),
                            user.access.can_manage_users_of(&m.organisation, m.role),
                        )
                    })
                    .collect(),
                email: u.email,
                name: u.name,
                disabled: u.disabled,
                can_disable: user.access.is_system_admin(),
                tokens,
            }
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .filter(|r| user.access.is_system_admin() || **r != Role::SystemAdmin)
        .map(|r| (r.slug(), r.label()))
        .collect();
    let invitations = state
        .store
        .invitations(None)
        .await?
        .into_iter()
        .filter(|i| {
            user.access
                .can_manage_users_of(&i.organisation, Role::Viewer)
        })
        .map(|i| {
            (
                i.email,
                i.role.label().to_string(),
                name_of(&i.organisation),
                i.invited_by,
            )
        })
        .collect();
    html(UsersAdminPage {
        title: "Manage people".into(),
        chrome: Chrome::of(&viewer),
        users,
        organisations: managed
            .iter()
            .map(|o| (o.code.to_string(), o.name.clone()))
            .collect(),
        roles,
        invitations,
    })
}

#[derive(serde::Deserialize)]
pub struct AddUserForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    organisation: String,
    role: String,
}

/// A refused role change: 403 with the rule's reason.
pub(crate) fn role_refused(e: greenplan_core::access::RoleChangeRefused) -> PageError {
    PageError::Forbidden(e.to_string())
}

/// Adds a person with a role, changes the role of someone already in the organisation, or
/// invites someone who has an account but no role there (they accept on their account page).
/// A new person needs a first password, which they should change when they first sign in.
///
/// The answer never tells an organisation admin whether an address has an account they
/// cannot already see: for such an address the form is checked (name, password) and the
/// password hashed exactly as for a new person, and both end in the same redirect.
pub async fn add_user(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AddUserForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let organisation = OdsCode::parse(form.organisation.trim())
        .map_err(|e| bad_request(format!("Organisation: {e}")))?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: greenplan_core::access::UnknownRole| bad_request(e.to_string()))?;
    // Whether the actor may grant the role at all does not depend on who is named.
    let grant = user
        .access
        .approve_role_change(&organisation, None, Some(role))
        .map_err(role_refused)?;
    let email = greenplan_store::normalise_email(&form.email).map_err(PageError::from)?;
    let existing = state.store.person(&email).await?;
    let visible = existing.as_ref().is_some_and(|p| {
        user.access.is_system_admin()
            || p.memberships.iter().any(|m| {
                user.access
                    .can_manage_users_of(&m.organisation, Role::Viewer)
            })
    });
    if let Some(held) = existing.as_ref().and_then(|p| {
        p.memberships
            .iter()
            .find(|m| m.organisation == organisation)
            .map(|m| m.role)
    }) {
        // Someone already in this organisation: the actor must be able to take away the
        // role they hold, not only grant the new one.
        let change = user
            .access
            .approve_role_change(&organisation, Some(held), Some(role))
            .map_err(role_refused)?;
        state
            .store
            .change_role(&user.email, &email, &change)
            .await
            .map_err(PageError::from)?;
        return see_other("/admin/users");
    }
    let hash = if visible {
        None
    } else {
        // Checked and hashed alike for an unknown address and for an account the actor
        // cannot see, so neither the answer nor its timing tells them apart.
        if form.name.trim().is_empty() {
            return Err(bad_request("Give the new person's name.".into()));
        }
        greenplan_store::check_password_strength(&form.password).map_err(PageError::from)?;
        let password = form.password.clone();
        Some(
            crate::kit::bounded_work::PASSWORDS
                .run(move || greenplan_store::hash_password(&password))
                .await
                .ok_or_else(|| {
                    PageError::Internal(
                        "The password could not be stored. Please try again.".into(),
                    )
                })?
                .map_err(PageError::from)?,
        )
    };
    match (existing, hash) {
        (Some(_), _) => state
            .store
            .invite(&user.email, &email, &grant)
            .await
            .map_err(PageError::from)?,
        (None, Some(hash)) => {
            state
                .store
                .create_user(&user.email, &email, form.name.trim(), &hash, &grant)
                .await
                .map_err(PageError::from)?;
        }
        (None, None) => return Err(bad_request("Give the new person's name.".into())),
    }
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    organisation: String,
}

pub async fn remove_role(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RoleForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let organisation = OdsCode::parse(form.organisation.trim())
        .map_err(|e| bad_request(format!("Organisation: {e}")))?;
    let target = state
        .store
        .person(&form.email)
        .await?
        .ok_or_else(|| not_found_error("person"))?;
    let role = target
        .memberships
        .iter()
        .find(|m| m.organisation == organisation)
        .map(|m| m.role)
        .ok_or_else(|| bad_request(format!("{} has no role in {organisation}.", form.email)))?;
    let change = user
        .access
        .approve_role_change(&organisation, Some(role), None)
        .map_err(role_refused)?;
    state
        .store
        .remove_membership(&user.email, &target.email, &change)
        .await
        .map_err(PageError::from)?;
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct RevokeTokenForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    token: String,
}

/// Revokes a person's API token: a system admin, or an organisation admin who manages every
/// role the person holds (never a system admin's token, nor that of someone who also belongs
/// to an organisation the admin does not manage).
pub async fn revoke_user_token(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RevokeTokenForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    let target = state
        .store
        .person(&form.email)
        .await?
        .ok_or_else(|| not_found_error("person"))?;
    let person = greenplan_core::access::Access::new(target.memberships.clone());
    if !user.access.can_manage_person(&person) {
        return Err(PageError::Forbidden(format!(
            "You cannot revoke {}'s API tokens: they hold a role you do not manage. Ask a system administrator.",
            target.email
        )));
    }
    let id: i64 = form
        .token
        .trim()
        .parse()
        .map_err(|_| not_found_error("API token"))?;
    if !state
        .store
        .revoke_api_token(&user.email, id, Some(target.id))
        .await?
    {
        return Err(not_found_error("API token"));
    }
    see_other("/admin/users")
}

#[derive(serde::Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    disabled: String,
}

pub async fn disable_user(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<DisableForm>,
) -> PageResult {
    let user = viewer.form_writer(&headers, &form.csrf_token, "manage people")?;
    plan_editor(&user)?;
    if form.email == user.email {
        return Err(bad_request("You cannot disable your own sign-in.".into()));
    }
    state
        .store
        .set_user_disabled(&user.email, &form.email, form.disabled == "yes")
        .await
        .map_err(PageError::from)?;
    see_other("/admin/users")
}
