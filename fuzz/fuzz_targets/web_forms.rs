//! Form bodies and API bodies, deserialized into the very types the write handlers use
//! (`greenplan_web::forms`), then through the checks the handlers apply to their fields: action
//! and metric forms applied to the built-in plan, and each field through the core readers of
//! periods, delivery dates, decimals, ODS codes and targets. The first byte picks the form.
#![no_main]
use greenplan_web::forms::*;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn plan() -> &'static greenplan_core::plan::Plan {
    static PLAN: OnceLock<greenplan_core::plan::Plan> = OnceLock::new();
    PLAN.get_or_init(|| greenplan_ingest::plan_file::built_in_plan().expect("the built-in plan"))
}

fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes(body).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    match choice % 20 {
        0 => {
            let f = read_action_form(body);
            let mut action = plan().actions[0].clone();
            let _ = apply_action_form(&f, &mut action, plan());
        }
        1 => {
            if let Some(f) = form::<MetricForm>(body) {
                let mut metric = plan().metrics[0].clone();
                let _ = apply_metric_form(&f, &mut metric);
            }
        }
        2 => drop(form::<UpdateForm>(body)),
        3 => drop(form::<ValueForm>(body)),
        4 => drop(form::<AreaForm>(body)),
        5 => drop(form::<OrganisationForm>(body)),
        6 => drop(form::<ArchiveForm>(body)),
        7 => drop(form::<AddUserForm>(body)),
        8 => drop(form::<RoleForm>(body)),
        9 => drop(form::<DisableForm>(body)),
        10 => drop(form::<OpenForm>(body)),
        11 => drop(form::<ApproveForm>(body)),
        12 => drop(form::<ConfirmForm>(body)),
        13 => drop(form::<PublishForm>(body)),
        14 => drop(form::<LoginForm>(body)),
        15 => drop(form::<PasswordForm>(body)),
        16 => drop(form::<CsrfForm>(body)),
        17 => drop(serde_json::from_slice::<NewUpdateDto>(body)),
        18 => drop(serde_json::from_slice::<NewValueDto>(body)),
        _ => fields(body),
    }
});

/// Every field value through the core readers the handlers call on them.
fn fields(body: &[u8]) {
    for (_, value) in form_pairs(body) {
        let _ = greenplan_core::period::Period::parse(&value);
        let _ = greenplan_core::period::Quarter::parse(&value);
        let _ = greenplan_core::period::DeliveryDate::parse(&value);
        let _ = greenplan_core::quantity::parse_decimal(&value);
        let _ = greenplan_core::ods::OdsCode::parse(&value);
        let _ = greenplan_core::target::Target::parse_line(&value);
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}
