//! The forms and query strings the handlers read, named here so that the fuzzers (`fuzz/`) and
//! the security tests feed arbitrary bytes into exactly the types and checks the handlers use.
//! Nothing is loosened for this: the types are the handlers' own, their fields stay private,
//! and every write handler still checks who may write before it reads a field.

pub use crate::account::{CsrfForm, LoginForm, PasswordForm};
pub use crate::admin::{
    ActionForm, AddUserForm, ArchiveForm, AreaForm, DisableForm, MetricForm, MilestoneForm,
    OrganisationForm, RoleForm,
};
pub use crate::api::{NewUpdateDto, NewValueDto};
pub use crate::medicines::LeagueQuery;
pub use crate::plan::{ActionFilter, UpdateForm, ValueForm};
pub use crate::reports::{PublishForm, ReportQuery, ReportsQuery};
pub use crate::returns::ConfirmForm;
pub use crate::returns::periods::{ApproveForm, OpenForm};

use greenplan_core::plan::{Action, Metric, Plan};

/// Reads an action form body as `POST /actions/{id}/edit` and `/areas/{code}/actions` do
/// (repeated `lead_organisations` fields gathered).
pub fn read_action_form(body: &[u8]) -> ActionForm {
    crate::admin::parse_action_form(body)
}

/// Applies an action form to `action` as the edit handler does, or says what to fix.
pub fn apply_action_form(
    form: &ActionForm,
    action: &mut Action,
    plan: &Plan,
) -> Result<(), String> {
    form.apply(action, plan)
}

/// Applies a metric form to `metric` as the edit handler does, or says what to fix.
pub fn apply_metric_form(form: &MetricForm, metric: &mut Metric) -> Result<(), String> {
    form.apply(metric)
}
