//! The permission matrix: every role (signed out, viewer, contributor, organisation admin,
//! system admin) × every write route × a subject of the person's own organisation and of
//! another, each asserted allowed or refused. A refused write must change nothing: the whole
//! database (every table but sessions and sign-in attempts, read through `greenplan backup`)
//! is compared before and after; staged uploads are left out, as a refused confirmation may
//! use up its staged file).
//!
//! The write routes and who may use each are read from the application's route table
//! (`greenplan_web::route_table`, built by the same calls as the router), so the matrix tries
//! every role against the rule the served route declares, and a new POST route fails this
//! test until it is given a request in `RULES` (or a line in `NOT_IN_THE_MATRIX`). SQLite or
//! PostgreSQL (`GREENPLAN_TEST_POSTGRES`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_web::{WebConfig, Write};

/// Who is asking. The viewer, contributor and organisation admin belong to RTG (University
/// Hospitals of Derby and Burton); the system admin to the ICB (QJ2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    SignedOut,
    Viewer,
    Contributor,
    OrganisationAdmin,
    SystemAdmin,
}

const EVERYONE: [Who; 5] = [
    Who::SignedOut,
    Who::Viewer,
    Who::Contributor,
    Who::OrganisationAdmin,
    Who::SystemAdmin,
];

impl Who {
    fn email(self) -> Option<&'static str> {
        match self {
            Who::SignedOut => None,
            Who::Viewer => Some("viewer@uhdb.nhs.uk"),
            Who::Contributor => Some("rtg@uhdb.nhs.uk"),
            Who::OrganisationAdmin => Some("admin@uhdb.nhs.uk"),
            Who::SystemAdmin => Some("lead@derbyshire.nhs.uk"),
        }
    }
}

/// Whose data the write touches: the asker's own trust (RTG) or another (RFS, Chesterfield
/// Royal). Plan-wide writes (areas, reporting periods, reports) have no organisation: they
/// are tried once, as `Own`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Own,
    Other,
}

impl Scope {
    fn org(self) -> &'static str {
        match self {
            Scope::Own => "RTG",
            Scope::Other => "RFS",
        }
    }
}

/// How a request is spoiled, for the CSRF checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tamper {
    /// Sent as the page would send it.
    None,
    /// The form without its `csrf_token` field.
    NoToken,
    /// Another token than the session's.
    WrongToken,
    /// The right token, from another site (`Origin`).
    ForeignOrigin,
    /// The right token, but the browser says the request came from another site.
    CrossSite,
    /// An API write with the session cookie instead of a bearer token.
    CookieNotToken,
}

/// Does the route's rule let `who` write to `scope`'s data? (Anyone and one's own account are
/// tested elsewhere: see `NOT_IN_THE_MATRIX`.)
fn allows(rule: Write, who: Who, scope: Scope) -> bool {
    match (rule, who) {
        (_, Who::SystemAdmin) => true,
        (Write::Contributors, Who::Contributor | Who::OrganisationAdmin) => scope == Scope::Own,
        (Write::OrganisationAdmins, Who::OrganisationAdmin) => scope == Scope::Own,
        _ => false,
    }
}

/// The rule the application declares for the write route `path`.
fn declared(path: &str) -> Write {
    greenplan_web::route_table()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == path)
        .and_then(|r| r.write)
        .unwrap_or_else(|| panic!("{path} is not a write route of the application"))
}

struct Rule {
    /// The route as the route table gives it.
    route: &'static str,
    /// Does the write concern one organisation (tried for own and other)?
    scoped: bool,
}

const fn rule(route: &'static str, scoped: bool) -> Rule {
    Rule { route, scoped }
}

/// Every write route of organisation data. Add a line here for each new POST route (and a
/// request for it in `request`), saying whether it concerns one organisation; who may write
/// is the route's own rule (`declared`).
const RULES: &[Rule] = &[
    rule("/actions/{id}/updates", true),
    rule("/actions/{id}/edit", true),
    rule("/actions/{id}/archive", true),
    rule("/actions/{id}/milestones/{number}/done", true),
    rule("/areas/{code}/edit", false),
    rule("/areas/{code}/actions", false),
    rule("/metrics/{id}/edit", false),
    rule("/metrics/{id}/values", true),
    rule("/admin/organisations", false),
    rule("/admin/organisations/{code}", true),
    rule("/admin/organisations/{code}/archive", true),
    rule("/admin/users", true),
    rule("/admin/users/roles/remove", true),
    rule("/admin/users/disable", true),
    rule("/admin/users/tokens/revoke", true),
    rule("/returns/periods", false),
    rule("/returns/{id}/approve", true),
    rule("/api/v1/actions/{id}/updates", true),
    rule("/api/v1/metrics/{id}/values", true),
    rule("/api/v1/returns/{id}/approve", true),
    rule("/returns/preview", true),
    rule("/returns/confirm", true),
    rule("/reports/publish", false),
    rule("/admin/reminders", false),
];

/// POST routes that are not organisation data, and where each is tested instead.
const NOT_IN_THE_MATRIX: &[(&str, &str)] = &[
    (
        "/login",
        "signing in: account.rs and security.rs (throttling, fixation)",
    ),
    (
        "/logout",
        "signing out: account.rs (the old cookie no longer signs in)",
    ),
    (
        "/account/password",
        "one's own password: account.rs (needs the current password)",
    ),
    (
        "/account/tokens",
        "one's own API tokens: account.rs tokens_are_listed_revoked_expire_and_can_end_with_a_password_change",
    ),
    (
        "/account/tokens/revoke",
        "one's own API tokens: account.rs tokens_are_listed_revoked_expire_and_can_end_with_a_password_change (another person's token: 404)",
    ),
    (
        "/account/reminders",
        "one's own digest frequency: reminders.rs each_person_chooses_how_often_they_hear",
    ),
    (
        "/account/invitations",
        "one's own invitations: admin.rs adding_an_existing_person_invites_them_and_answers_as_for_anyone (another person's invitation: 404)",
    ),
    // The registers' and tools' write routes: each has its own table-driven permission
    // test over its records (named here), run on both databases.
    (
        "/registers/{slug}/new",
        "registers.rs one_trust_cannot_change_anothers_records_in_any_register (every register: other trust, viewer, forged CSRF token, handing a record to another trust, system admin)",
    ),
    (
        "/registers/{slug}/import",
        "registers.rs one_trust_cannot_change_anothers_records_in_any_register (every register: other trust, viewer, forged CSRF token, handing a record to another trust, system admin)",
    ),
    (
        "/registers/{slug}/{id}/edit",
        "registers.rs one_trust_cannot_change_anothers_records_in_any_register (every register: other trust, viewer, forged CSRF token, handing a record to another trust, system admin)",
    ),
    (
        "/registers/{slug}/{id}/archive",
        "registers.rs one_trust_cannot_change_anothers_records_in_any_register (every register: other trust, viewer, forged CSRF token, handing a record to another trust, system admin)",
    ),
    (
        "/tools/care-activities/{id}",
        "schemes.rs (system administrators only edit the care-activity library)",
    ),
    (
        "/tools/scenarios",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/scenarios/{id}",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/schemes",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/schemes/import",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/schemes/{id}",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/schemes/{id}/archive",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/schemes/{id}/reason",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/sias",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/sias/{id}",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/sias/{id}/submit",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/sias/{id}/review",
        "schemes.rs one_trust_cannot_change_anothers_records_and_viewers_only_read (15 cases by role and organisation, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/travel-surveys",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/travel-surveys/{id}/open",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/travel-surveys/{id}/close",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/travel-surveys/{id}/invitations",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/travel-surveys/{id}/import",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/travel-surveys/{id}/exclusions",
        "travel.rs excluding_a_burst_leaves_it_out_of_the_figures_and_footprint_but_keeps_it (other trust, viewer, unsigned, cross-site, no CSRF token)",
    ),
    (
        "/tools/travel-surveys/take/{link}",
        "travel.rs: a respondent's public form, authorised by its single-use token (reuse 409, closed 410, cross-site refused)",
    ),
    (
        "/tools/travel-surveys/respond/{token}",
        "travel.rs: a respondent's public form, authorised by its single-use token (reuse 409, closed 410, cross-site refused)",
    ),
    (
        "/tools/digital-benefits",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
    (
        "/tools/digital-benefits/{id}",
        "travel.rs one_trust_cannot_manage_anothers_survey (organiser roles, other trust, cross-site)",
    ),
];

/// The application's write routes (every method but GET), from its route table.
fn write_routes() -> Vec<String> {
    let routes: Vec<String> = greenplan_web::route_table()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.path.to_string())
        .collect();
    assert!(routes.len() >= 40, "found too few write routes: {routes:?}");
    routes
}

#[test]
fn every_write_route_has_a_rule() {
    let known: Vec<&str> = RULES
        .iter()
        .map(|r| r.route)
        .chain(NOT_IN_THE_MATRIX.iter().map(|(r, _)| *r))
        .collect();
    let missing: Vec<String> = write_routes()
        .into_iter()
        .filter(|r| !known.contains(&r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "write routes the matrix does not try: {missing:?}. Add each to RULES in \
         crates/web/tests/it/permissions.rs (whether it concerns one organisation) and build \
         its request in `request`, or name where it is tested in NOT_IN_THE_MATRIX."
    );
    // The matrix tries roles of organisations: a route open to anyone, or to one's own
    // account, is tested where NOT_IN_THE_MATRIX says.
    for r in RULES {
        assert!(
            matches!(
                declared(r.route),
                Write::Contributors | Write::OrganisationAdmins | Write::SystemAdmins
            ),
            "{} is declared {:?}: test it outside the role matrix",
            r.route,
            declared(r.route)
        );
    }
    let routes = write_routes();
    let stale: Vec<&str> = known
        .iter()
        .copied()
        .filter(|k| !routes.iter().any(|r| r == k))
        .collect();
    assert!(
        stale.is_empty(),
        "rules for routes the router no longer has: {stale:?}"
    );
}

/// A site with the people of `common::site`, subjects for each scope, and everyone signed in.
struct Matrix {
    site: Site,
    /// (cookie, CSRF token) per signed-in person, and their API tokens.
    sessions: Vec<(Who, String, String, String)>,
    /// Actions led by RTG only, and by RFS only (each with a milestone).
    own_actions: Vec<String>,
    other_actions: Vec<String>,
    /// A metric recorded per organisation.
    metric: String,
    /// Returns of RTG and RFS for Q1 2025/26, when the route needs them.
    returns: Vec<(String, i64)>,
}

const ACTIVITY: &str = "organisation,site,period_start,period_end,activity,quantity,unit\n";

impl Matrix {
    async fn new(db: &TestDatabase, route: &str) -> Self {
        let site = site(db, WebConfig::default()).await;
        let store = &site.store;
        widget_factor(store).await;
        let hash = greenplan_store::hash_password(PASSWORD).unwrap();
        // People to remove or disable (or revoke the API token of), a fresh one for every
        // allowed write.
        for n in 0..4 {
            for org in ["RTG", "RFS"] {
                let email = format!("v{n}@{}.test", org.to_lowercase());
                store
                    .add_user(
                        "test",
                        &email,
                        "Someone",
                        &hash,
                        &OdsCode::parse(org).unwrap(),
                        Role::Contributor,
                    )
                    .await
                    .unwrap();
                store
                    .create_api_token("test", &email, "victim")
                    .await
                    .unwrap();
            }
        }
        let plan = store.load_plan().await.unwrap().unwrap();
        let (mut own_actions, mut other_actions) = (Vec::new(), Vec::new());
        for (i, mut action) in plan.actions.iter().take(8).cloned().enumerate() {
            let org = if i < 4 { "RTG" } else { "RFS" };
            action.lead_organisations = vec![OdsCode::parse(org).unwrap()];
            action.milestones = vec![greenplan_core::plan::Milestone {
                title: Some("First step".into()),
                delivery: greenplan_core::period::DeliveryDate::parse("Q4 2026/27").unwrap(),
                success_measure: None,
            }];
            let revision = store
                .revision(greenplan_store::Revised::Action, &action.id)
                .await
                .unwrap()
                .unwrap();
            store
                .update_action("test", &action, revision)
                .await
                .unwrap();
            if i < 4 {
                own_actions.push(action.id);
            } else {
                other_actions.push(action.id);
            }
        }
        let metric = plan
            .metrics
            .iter()
            .find(|m| m.organisation.is_none())
            .unwrap()
            .id
            .clone();
        let mut sessions = Vec::new();
        for who in EVERYONE {
            if let Some(email) = who.email() {
                let (cookie, csrf) = site.sign_in(email).await;
                let token = store
                    .create_api_token("test", email, "matrix")
                    .await
                    .unwrap();
                sessions.push((who, cookie, csrf, token));
            }
        }
        let mut matrix = Matrix {
            site,
            sessions,
            own_actions,
            other_actions,
            metric,
            returns: Vec::new(),
        };
        if route.contains("approve") {
            matrix.returns_received().await;
        }
        matrix
    }

    /// RTG's and RFS's returns for Q1 2025/26, imported as their contributors would.
    async fn returns_received(&mut self) {
        let store = &self.site.store;
        store
            .open_reporting_period(
                "test",
                &greenplan_core::returns::ReportingPeriod {
                    quarter: greenplan_core::period::Quarter::parse("Q1 2025/26").unwrap(),
                    due_on: chrono::NaiveDate::from_ymd_opt(2025, 7, 31).unwrap(),
                },
            )
            .await
            .unwrap();
        for (email, org) in [("rtg@uhdb.nhs.uk", "RTG"), ("rfs@crh.nhs.uk", "RFS")] {
            let (cookie, csrf) = self.site.sign_in(email).await;
            let file = format!("{ACTIVITY}{org},,2025-04-01,2025-04-30,widget,4,count\n");
            let (ct, body) = multipart_body(
                &[("csrf_token", &csrf), ("period", "Q1 2025/26")],
                Some(("file", "return.csv", file.as_bytes())),
            );
            let preview = self
                .site
                .post_multipart("/returns/preview", &cookie, &ct, body)
                .await;
            assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
            let upload = preview
                .body
                .split("name=\"upload\" value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string();
            let confirm = self
                .site
                .submit(
                    "/returns/confirm",
                    &cookie,
                    &format!("csrf_token={csrf}&upload={upload}&period=Q1+2025%2F26"),
                )
                .await;
            assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
        }
        let quarter = greenplan_core::period::Quarter::parse("Q1 2025/26").unwrap();
        for r in store.returns_for(quarter).await.unwrap() {
            self.returns.push((r.organisation.to_string(), r.id));
        }
        assert_eq!(self.returns.len(), 2, "{:?}", self.returns);
    }

    fn session(&self, who: Who) -> Option<&(Who, String, String, String)> {
        self.sessions.iter().find(|s| s.0 == who)
    }

    fn action(&self, scope: Scope, n: usize) -> &str {
        match scope {
            Scope::Own => &self.own_actions[n % 4],
            Scope::Other => &self.other_actions[n % 4],
        }
    }

    fn return_of(&self, scope: Scope) -> i64 {
        self.returns
            .iter()
            .find(|(org, _)| org == scope.org())
            .unwrap()
            .1
    }

    async fn fingerprint(&self) -> Vec<String> {
        fingerprint(&self.site.store).await
    }

    /// The request for `route` by `who` on a subject of `scope`; `n` numbers the allowed
    /// writes of a route, so that each has a subject of its own (a person disabled once
    /// cannot be disabled again).
    async fn request(&self, route: &str, who: Who, scope: Scope, n: usize) -> Request<Body> {
        self.tampered(route, who, scope, n, Tamper::None).await
    }

    async fn tampered(
        &self,
        route: &str,
        who: Who,
        scope: Scope,
        n: usize,
        tamper: Tamper,
    ) -> Request<Body> {
        let (cookie, csrf, token) = match self.session(who) {
            Some((_, c, t, k)) => (Some(c.clone()), t.clone(), Some(k.clone())),
            None => (None, String::new(), None),
        };
        let csrf = match tamper {
            Tamper::WrongToken => format!("{}x", &csrf[..csrf.len().saturating_sub(1)]),
            _ => csrf,
        };
        let token_field = if tamper == Tamper::NoToken {
            String::new()
        } else {
            format!("csrf_token={csrf}&")
        };
        let from = |r: axum::http::request::Builder| {
            let r = r.header(header::HOST, HOST);
            match tamper {
                Tamper::ForeignOrigin => r.header(header::ORIGIN, "https://evil.example"),
                Tamper::CrossSite => r
                    .header(header::ORIGIN, origin())
                    .header("sec-fetch-site", "cross-site"),
                _ => r.header(header::ORIGIN, origin()),
            }
        };
        let org = scope.org();
        let form = |path: String, fields: String| {
            let mut r = from(Request::post(path))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(c) = &cookie {
                r = r.header(header::COOKIE, c);
            }
            r.body(Body::from(format!("{token_field}{fields}")))
                .unwrap()
        };
        let api = |path: String, json: String| {
            let mut r = Request::post(path)
                .header(header::HOST, HOST)
                .header(header::CONTENT_TYPE, "application/json");
            match (&token, &cookie, tamper) {
                (_, Some(c), Tamper::CookieNotToken) => r = r.header(header::COOKIE, c),
                (Some(t), _, _) => r = r.header(header::AUTHORIZATION, format!("Bearer {t}")),
                _ => {}
            }
            r.body(Body::from(json)).unwrap()
        };
        let action = self.action(scope, n).to_string();
        let victim = format!("v{n}%40{}.test", org.to_lowercase());
        // The revision an edit form would carry (crate::stale in the web crate).
        let revision = |kind: greenplan_store::Revised, key: String| {
            let store = self.site.store.clone();
            async move {
                store
                    .revision(kind, &key)
                    .await
                    .unwrap()
                    .unwrap_or_default()
            }
        };
        use greenplan_store::Revised;
        let action_revision = revision(Revised::Action, action.clone()).await;
        match route {
            "/actions/{id}/updates" => form(
                format!("/actions/{action}/updates"),
                "status=on-track&note=Matrix+update".into(),
            ),
            "/actions/{id}/edit" => form(
                format!("/actions/{action}/edit"),
                format!(
                    "title=Edited+{n}&leads=Estates&lead_organisations={org}&delivery=Ongoing&success_measure=Done&revision={action_revision}"
                ),
            ),
            "/actions/{id}/archive" => form(
                format!("/actions/{action}/archive"),
                format!("reason=Merged&revision={action_revision}"),
            ),
            "/actions/{id}/milestones/{number}/done" => form(
                format!("/actions/{action}/milestones/1/done"),
                format!("revision={action_revision}"),
            ),
            "/areas/{code}/edit" => form(
                "/areas/workforce-and-leadership/edit".into(),
                format!(
                    "name=Workforce+{n}&why=People&revision={}",
                    revision(Revised::Area, "workforce-and-leadership".into()).await
                ),
            ),
            "/areas/{code}/actions" => form(
                "/areas/workforce-and-leadership/actions".into(),
                "title=New+action&delivery=Ongoing&success_measure=Done".into(),
            ),
            "/metrics/{id}/edit" => form(
                format!("/metrics/{}/edit", self.metric),
                format!(
                    "name=Metric+{n}&unit=t&direction=lower-is-better&revision={}",
                    revision(Revised::Metric, self.metric.clone()).await
                ),
            ),
            "/metrics/{id}/values" => form(
                format!("/metrics/{}/values", self.metric),
                format!(
                    "organisation={org}&period=Q{}+2025%2F26&value=12.5",
                    n % 4 + 1
                ),
            ),
            "/admin/organisations" => form(
                "/admin/organisations".into(),
                format!(
                    "code=RX{}&name=New+trust&kind=acute",
                    char::from(b'A' + n as u8)
                ),
            ),
            "/admin/organisations/{code}" => form(
                format!("/admin/organisations/{org}"),
                format!(
                    "code={org}&name=Renamed+{n}&kind=acute&revision={}",
                    revision(Revised::Organisation, org.to_string()).await
                ),
            ),
            "/admin/organisations/{code}/archive" => form(
                format!("/admin/organisations/{org}/archive"),
                format!(
                    "archived=yes&revision={}",
                    revision(Revised::Organisation, org.to_string()).await
                ),
            ),
            "/admin/users" => form(
                "/admin/users".into(),
                format!(
                    "email=new{n}%40{}.test&name=New+person&password=a+long+first+pass+phrase&organisation={org}&role=contributor",
                    org.to_lowercase()
                ),
            ),
            "/admin/users/roles/remove" => form(
                "/admin/users/roles/remove".into(),
                format!("email={victim}&organisation={org}"),
            ),
            "/admin/users/disable" => form(
                "/admin/users/disable".into(),
                format!("email={victim}&disabled=yes"),
            ),
            "/admin/users/tokens/revoke" => {
                let email = victim.replace("%40", "@");
                form(
                    "/admin/users/tokens/revoke".into(),
                    format!(
                        "email={victim}&token={}",
                        token_of(&self.site.store, &email).await
                    ),
                )
            }
            "/admin/reminders" => form(
                "/admin/reminders".into(),
                format!(
                    "stale_after_days={}&return_warning_days=14&repeat_after_days=7&meetings=quarterly",
                    30 + n
                ),
            ),
            "/returns/periods" => form(
                "/returns/periods".into(),
                format!("quarter=Q{}+2026%2F27&due_on=2027-01-31", n % 4 + 1),
            ),
            "/returns/{id}/approve" => form(
                format!("/returns/{}/approve", self.return_of(scope)),
                String::new(),
            ),
            "/api/v1/actions/{id}/updates" => api(
                format!("/api/v1/actions/{action}/updates"),
                r#"{"status":"at-risk","note":"Matrix update"}"#.into(),
            ),
            "/api/v1/metrics/{id}/values" => api(
                format!("/api/v1/metrics/{}/values", self.metric),
                format!(
                    r#"{{"organisation":"{org}","period":"Q{} 2025/26","value":"7"}}"#,
                    n % 4 + 1
                ),
            ),
            "/api/v1/returns/{id}/approve" => api(
                format!("/api/v1/returns/{}/approve", self.return_of(scope)),
                String::new(),
            ),
            "/returns/preview" => {
                let file = format!(
                    "{ACTIVITY}{org},,2025-04-01,2025-04-30,widget,{},count\n",
                    n + 1
                );
                let fields: &[(&str, &str)] = if tamper == Tamper::NoToken {
                    &[]
                } else {
                    &[("csrf_token", &csrf)]
                };
                let (ct, body) =
                    multipart_body(fields, Some(("file", "activity.csv", file.as_bytes())));
                let mut r =
                    from(Request::post("/returns/preview")).header(header::CONTENT_TYPE, ct);
                if let Some(c) = &cookie {
                    r = r.header(header::COOKIE, c);
                }
                r.body(Body::from(body)).unwrap()
            }
            "/returns/confirm" => {
                // A file staged for this very person (as if their role changed after the
                // preview): confirming checks permissions again.
                let file = format!(
                    "{ACTIVITY}{org},,2025-05-01,2025-05-31,widget,{},count\n",
                    n + 1
                );
                let upload = match who.email() {
                    Some(email) => {
                        let users = self.site.store.users().await.unwrap();
                        let id = users.iter().find(|u| u.email == email).unwrap().id;
                        self.site
                            .store
                            .stage_upload(id, "activity.csv", file.as_bytes())
                            .await
                            .unwrap()
                    }
                    None => "not-a-staged-upload".into(),
                };
                form("/returns/confirm".into(), format!("upload={upload}"))
            }
            "/reports/publish" => form(
                "/reports/publish".into(),
                "kind=quarterly&period=Q3+2025%2F26".into(),
            ),
            other => panic!(
                "no request for {other}: add one to Matrix::request in crates/web/tests/permissions.rs"
            ),
        }
    }
}

/// True when the reply refuses: asked to sign in, or told they may not, or (for an upload,
/// whose rows are checked one by one) the rows refused.
fn refused(route: &str, status: StatusCode, headers: &axum::http::HeaderMap) -> bool {
    let to_login = status == StatusCode::SEE_OTHER
        && headers
            .get(header::LOCATION)
            .is_some_and(|l| l.to_str().unwrap_or_default().starts_with("/login"));
    let rows_refused = route.starts_with("/returns/")
        && !route.contains("approve")
        && status == StatusCode::UNPROCESSABLE_ENTITY;
    to_login || rows_refused || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
}

async fn check_route(rule: &Rule) {
    let db = site_db();
    let matrix = Matrix::new(&db, rule.route).await;
    let scopes: &[Scope] = if rule.scoped {
        &[Scope::Own, Scope::Other]
    } else {
        &[Scope::Own]
    };
    let cases: Vec<(Who, Scope, bool)> = EVERYONE
        .iter()
        .flat_map(|&w| {
            scopes
                .iter()
                .map(move |&s| (w, s, allows(declared(rule.route), w, s)))
        })
        .collect();
    // Refused first, against a database nothing has changed yet.
    for &(who, scope, _) in cases.iter().filter(|c| !c.2) {
        let request = matrix.request(rule.route, who, scope, 0).await;
        let before = matrix.fingerprint().await;
        let reply = matrix.site.send(request).await;
        assert!(
            refused(rule.route, reply.status, &reply.headers),
            "{} by {who:?} ({scope:?} organisation) should be refused, got {}: {}",
            rule.route,
            reply.status,
            reply.body
        );
        let after = matrix.fingerprint().await;
        assert!(
            after == before,
            "{} by {who:?} ({scope:?}) was refused ({}) but changed the database: {}",
            rule.route,
            reply.status,
            changes(&before, &after)
        );
    }
    for (n, &(who, scope, _)) in cases.iter().filter(|c| c.2).enumerate() {
        let request = matrix.request(rule.route, who, scope, n).await;
        let before = matrix.fingerprint().await;
        let reply = matrix.site.send(request).await;
        assert!(
            reply.status.is_success()
                || (reply.status == StatusCode::SEE_OTHER
                    && !refused(rule.route, reply.status, &reply.headers)),
            "{} by {who:?} ({scope:?} organisation) should be allowed, got {}: {}",
            rule.route,
            reply.status,
            reply.body
        );
        // A preview only stages the file (left out of the fingerprint): it offers to import it.
        let stored = if rule.route == "/returns/preview" {
            reply.body.contains("name=\"upload\" value=\"")
        } else {
            matrix.fingerprint().await != before
        };
        assert!(
            stored,
            "{} by {who:?} ({scope:?}) was allowed but stored nothing",
            rule.route
        );
    }
}

/// Every rule, one fresh database per route (allowed writes change the data the next rule
/// would rely on).
#[tokio::test]
async fn every_role_on_every_write_route_for_own_and_other_organisations() {
    for rule in RULES {
        check_route(rule).await;
    }
}

/// Every form write, by the one person allowed everything, with the session's token missing
/// or wrong, or sent from another site; every API write with a cookie instead of a token.
/// All refused, and nothing changed.
#[tokio::test]
async fn writes_need_the_session_token_and_this_site() {
    let db = site_db();
    let matrix = Matrix::new(&db, "approve").await;
    for rule in RULES {
        let tampers: &[Tamper] = if rule.route.starts_with("/api/") {
            &[Tamper::CookieNotToken]
        } else {
            &[
                Tamper::NoToken,
                Tamper::WrongToken,
                Tamper::ForeignOrigin,
                Tamper::CrossSite,
            ]
        };
        for &tamper in tampers {
            let request = matrix
                .tampered(rule.route, Who::SystemAdmin, Scope::Own, 0, tamper)
                .await;
            let before = matrix.fingerprint().await;
            let reply = matrix.site.send(request).await;
            assert!(
                matches!(
                    reply.status,
                    StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
                ),
                "{} with {tamper:?} should be refused, got {}: {}",
                rule.route,
                reply.status,
                reply.body
            );
            let after = matrix.fingerprint().await;
            assert!(
                after == before,
                "{} with {tamper:?} was refused but changed the database: {}",
                rule.route,
                changes(&before, &after)
            );
        }
    }
}

/// People who already hold a higher role than the asker may grant: an organisation admin
/// naming them in "add a person" (or removing, or revoking their tokens) must neither demote
/// nor otherwise change them. Every such attempt is refused and the database is unchanged;
/// a person of another organisation is only invited, so their roles stay as they were.
#[tokio::test]
async fn admins_cannot_demote_or_alter_people_with_higher_roles() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let store = &site.store;
    let hash = greenplan_store::hash_password(PASSWORD).unwrap();
    let code = |c: &str| OdsCode::parse(c).unwrap();
    // An organisation admin of the ICB, a system admin whose role is held in RTG, and the
    // organisation admin of another trust.
    for (email, org, role) in [
        (
            "icb-admin@derbyshire.nhs.uk",
            "QJ2",
            Role::OrganisationAdmin,
        ),
        ("lead2@uhdb.nhs.uk", "RTG", Role::SystemAdmin),
        ("admin@crh.nhs.uk", "RFS", Role::OrganisationAdmin),
    ] {
        store
            .add_user("test", email, email, &hash, &code(org), role)
            .await
            .unwrap();
    }
    for email in [
        "lead@derbyshire.nhs.uk",
        "lead2@uhdb.nhs.uk",
        "admin@crh.nhs.uk",
    ] {
        store
            .create_api_token("test", email, "script")
            .await
            .unwrap();
    }
    let (icb_admin, icb_csrf) = site.sign_in("icb-admin@derbyshire.nhs.uk").await;
    let (rtg_admin, rtg_csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let person = |csrf: &str, email: &str, org: &str, role: &str| {
        format!(
            "csrf_token={csrf}&email={}&name=Someone&password=a+long+first+pass+phrase&organisation={org}&role={role}",
            email.replace('@', "%40")
        )
    };
    let attempts: Vec<(&str, &str, String, String)> = vec![
        (
            "the ICB's organisation admin makes the ICB's system admin a viewer",
            icb_admin.as_str(),
            "/admin/users".into(),
            person(&icb_csrf, "lead@derbyshire.nhs.uk", "QJ2", "viewer"),
        ),
        (
            "the ICB's organisation admin makes the ICB's system admin an organisation admin",
            icb_admin.as_str(),
            "/admin/users".into(),
            person(&icb_csrf, "lead@derbyshire.nhs.uk", "QJ2", "org-admin"),
        ),
        (
            "the ICB's organisation admin removes the system admin's role",
            icb_admin.as_str(),
            "/admin/users/roles/remove".into(),
            format!("csrf_token={icb_csrf}&email=lead%40derbyshire.nhs.uk&organisation=QJ2"),
        ),
        (
            "RTG's organisation admin makes a system admin held in RTG a contributor",
            rtg_admin.as_str(),
            "/admin/users".into(),
            person(&rtg_csrf, "lead2@uhdb.nhs.uk", "RTG", "contributor"),
        ),
        (
            "RTG's organisation admin removes a system admin's role held in RTG",
            rtg_admin.as_str(),
            "/admin/users/roles/remove".into(),
            format!("csrf_token={rtg_csrf}&email=lead2%40uhdb.nhs.uk&organisation=RTG"),
        ),
        (
            "RTG's organisation admin demotes another trust's organisation admin in their trust",
            rtg_admin.as_str(),
            "/admin/users".into(),
            person(&rtg_csrf, "admin@crh.nhs.uk", "RFS", "viewer"),
        ),
        (
            "RTG's organisation admin removes another trust's organisation admin",
            rtg_admin.as_str(),
            "/admin/users/roles/remove".into(),
            format!("csrf_token={rtg_csrf}&email=admin%40crh.nhs.uk&organisation=RFS"),
        ),
        (
            "RTG's organisation admin revokes a system admin's API token",
            rtg_admin.as_str(),
            "/admin/users/tokens/revoke".into(),
            format!(
                "csrf_token={rtg_csrf}&email=lead2%40uhdb.nhs.uk&token={}",
                token_of(store, "lead2@uhdb.nhs.uk").await
            ),
        ),
        (
            "RTG's organisation admin revokes another trust's admin's API token",
            rtg_admin.as_str(),
            "/admin/users/tokens/revoke".into(),
            format!(
                "csrf_token={rtg_csrf}&email=admin%40crh.nhs.uk&token={}",
                token_of(store, "admin@crh.nhs.uk").await
            ),
        ),
    ];
    for (what, cookie, path, form) in &attempts {
        let before = fingerprint(store).await;
        let reply = site.submit(path, cookie, form).await;
        assert!(
            matches!(
                reply.status,
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
            ),
            "{what}: should be refused, got {}: {}",
            reply.status,
            reply.body
        );
        let after = fingerprint(store).await;
        assert!(
            after == before,
            "{what}: refused but changed the database: {}",
            changes(&before, &after)
        );
    }
    assert_eq!(
        roles_of(store, "lead@derbyshire.nhs.uk").await,
        ["system-admin QJ2"]
    );
    assert_eq!(
        roles_of(store, "lead2@uhdb.nhs.uk").await,
        ["system-admin RTG"]
    );
    assert_eq!(roles_of(store, "admin@crh.nhs.uk").await, ["org-admin RFS"]);

    // Naming a system admin of another organisation in one's own only invites them: their
    // roles are unchanged until they accept.
    let reply = site
        .submit(
            "/admin/users",
            &rtg_admin,
            &person(&rtg_csrf, "lead@derbyshire.nhs.uk", "RTG", "viewer"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        roles_of(store, "lead@derbyshire.nhs.uk").await,
        ["system-admin QJ2"]
    );

    // A system admin may change another system admin's role.
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/admin/users",
            &lead,
            &person(&lead_csrf, "lead2@uhdb.nhs.uk", "RTG", "org-admin"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        roles_of(store, "lead2@uhdb.nhs.uk").await,
        ["org-admin RTG"]
    );
}

/// A person's roles as "role ORG" lines.
async fn roles_of(store: &greenplan_store::Store, email: &str) -> Vec<String> {
    let users = store.users().await.unwrap();
    users
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .memberships
        .into_iter()
        .map(|m| format!("{} {}", m.role.slug(), m.organisation))
        .collect()
}

/// The id of a person's newest API token.
async fn token_of(store: &greenplan_store::Store, email: &str) -> i64 {
    let users = store.users().await.unwrap();
    let id = users.iter().find(|u| u.email == email).unwrap().id;
    store.api_tokens_of(id).await.unwrap()[0].id
}
