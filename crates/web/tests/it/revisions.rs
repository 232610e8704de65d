//! Lost updates: two people open the same record's edit form and both save. The second save,
//! from a copy drawn before the first, is refused (409) with the form shown again, holding
//! the second person's input and naming who changed what since (person, field, before and
//! after, from the audit trail); the stored record is the first save's and the trail holds
//! one entry. Every kind of edited record, and two saves from the same revision racing.
//! SQLite, or PostgreSQL with GREENPLAN_TEST_POSTGRES.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;

use axum::http::StatusCode;
use common::*;
use greenplan_core::access::Role;
use greenplan_core::ods::OdsCode;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

/// A signed-in person: (cookie, CSRF token, email).
struct Person {
    cookie: String,
    csrf: String,
    email: &'static str,
}

async fn person(site: &Site, email: &'static str) -> Person {
    let (cookie, csrf) = site.sign_in(email).await;
    Person {
        cookie,
        csrf,
        email,
    }
}

/// A second system administrator, so that two people may edit the plan.
const LEAD2: &str = "lead2@derbyshire.nhs.uk";

async fn revisions_site(db: &TestDatabase) -> Site {
    let site = site(db, WebConfig::default()).await;
    let hash = greenplan_store::hash_password(PASSWORD).unwrap();
    site.store
        .add_user(
            "test",
            LEAD2,
            "Second lead",
            &hash,
            &OdsCode::parse("QJ2").unwrap(),
            Role::SystemAdmin,
        )
        .await
        .unwrap();
    greenplan_service::tools::seed_care_pathways(&site.store)
        .await
        .unwrap();
    site
}

/// One lost-update case: the page both people open, the form's address, what each sends,
/// the record's audit entity, and what the refusal must show.
struct Case<'a> {
    page: String,
    post: String,
    first: String,
    second: String,
    entity: (&'a str, String),
    /// Besides the first person's email: the changed field's value before and after.
    shows: &'a [&'a str],
    /// The second person's own input, shown again.
    kept: &'a str,
}

/// Both open the form, `a` saves, then `b` saves from the copy drawn before `a`'s save.
async fn both_save(site: &Site, a: &Person, b: &Person, case: Case<'_>) {
    let revision_a = site.revision_on(&case.page, &a.cookie, &case.post).await;
    let revision_b = site.revision_on(&case.page, &b.cookie, &case.post).await;
    let (kind, id) = (case.entity.0, case.entity.1.as_str());
    let entries = site
        .store
        .audit_trail(Some((kind, id)), 1000)
        .await
        .unwrap()
        .len();
    let reply = site
        .submit(
            &case.post,
            &a.cookie,
            &format!("csrf_token={}&{}&{revision_a}", a.csrf, case.first),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{}: the first save: {}",
        case.post,
        reply.body
    );
    let reply = site
        .submit(
            &case.post,
            &b.cookie,
            &format!("csrf_token={}&{}&{revision_b}", b.csrf, case.second),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CONFLICT,
        "{}: the second save, from a stale form, must be refused: {}",
        case.post,
        reply.body
    );
    for shown in std::iter::once(&a.email).chain(case.shows) {
        assert!(
            reply.body.contains(shown),
            "{}: the refusal names {shown:?}: {}",
            case.post,
            reply.body
        );
    }
    assert!(
        reply.body.contains(case.kept),
        "{}: the second person's input {:?} is kept: {}",
        case.post,
        case.kept,
        reply.body
    );
    let after = site
        .store
        .audit_trail(Some((kind, id)), 1000)
        .await
        .unwrap();
    assert_eq!(
        after.len(),
        entries + 1,
        "{}: one audit entry, the first save's",
        case.post
    );
    assert_eq!(after[0].actor, a.email);
    // The form shown again carries the record's revision now: saved again, deliberately,
    // it goes through.
    let again = form_revision(&reply.body, &case.post);
    assert!(!again.is_empty() && again != revision_b, "{again}");
}

async fn rtg_people(site: &Site) -> (Person, Person) {
    (
        person(site, "rtg@uhdb.nhs.uk").await,
        person(site, "admin@uhdb.nhs.uk").await,
    )
}

async fn leads(site: &Site) -> (Person, Person) {
    (
        person(site, "lead@derbyshire.nhs.uk").await,
        person(site, LEAD2).await,
    )
}

const SITE_FIELDS: &str = "organisation=RTG&site_type=acute-hospital&as_at=2024%2F25&floor_area=100000&primary_heating=gas&hdp_status=in-place&led_coverage=45&tenure=pfi";

async fn a_register_record(site: &Site, p: &Person) -> i64 {
    let reply = site
        .submit(
            "/registers/estates-sites/new",
            &p.cookie,
            &format!(
                "csrf_token={}&site=Royal+Derby+Hospital&{SITE_FIELDS}",
                p.csrf
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let register = greenplan_core::register::find("estates-sites").unwrap();
    site.store.register_records(register, false).await.unwrap()[0].id
}

#[tokio::test]
async fn a_stale_register_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = a_register_record(&site, &a).await;
    let path = format!("/registers/estates-sites/{id}/edit");
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: path.clone(),
            post: path,
            first: format!("site=Royal+Derby+A&{SITE_FIELDS}"),
            second: format!("site=Royal+Derby+B&{SITE_FIELDS}"),
            entity: ("register-record", id.to_string()),
            shows: &["Royal Derby Hospital", "Royal Derby A"],
            kept: "Royal Derby B",
        },
    )
    .await;
    let register = greenplan_core::register::find("estates-sites").unwrap();
    let stored = site.store.register_record(register, id).await.unwrap();
    assert_eq!(stored.unwrap().record.text("site"), Some("Royal Derby A"));
}

#[tokio::test]
async fn a_stale_archive_of_a_register_record_is_refused() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = a_register_record(&site, &a).await;
    let edit = format!("/registers/estates-sites/{id}/edit");
    let archive = format!("/registers/estates-sites/{id}/archive");
    let stale = site.revision_on(&edit, &b.cookie, &archive).await;
    let fresh = site.revision_on(&edit, &a.cookie, &edit).await;
    let reply = site
        .submit(
            &edit,
            &a.cookie,
            &format!(
                "csrf_token={}&site=Royal+Derby+A&{SITE_FIELDS}&{fresh}",
                a.csrf
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = site
        .submit(
            &archive,
            &b.cookie,
            &format!("csrf_token={}&{stale}", b.csrf),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains(a.email), "{}", reply.body);
    assert!(reply.body.contains("Royal Derby A"), "{}", reply.body);
    let register = greenplan_core::register::find("estates-sites").unwrap();
    let stored = site.store.register_record(register, id).await.unwrap();
    assert!(stored.unwrap().archived_at.is_none(), "not archived");
}

#[tokio::test]
async fn a_form_without_its_revision_is_refused() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, _) = rtg_people(&site).await;
    let id = a_register_record(&site, &a).await;
    let reply = site
        .submit(
            &format!("/registers/estates-sites/{id}/edit"),
            &a.cookie,
            &format!("csrf_token={}&site=Royal+Derby+A&{SITE_FIELDS}", a.csrf),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("revision"), "{}", reply.body);
    let register = greenplan_core::register::find("estates-sites").unwrap();
    let stored = site.store.register_record(register, id).await.unwrap();
    assert_eq!(
        stored.unwrap().record.text("site"),
        Some("Royal Derby Hospital")
    );
}

const ACTION_FIELDS: &str =
    "leads=Digital+lead&lead_organisations=RTG&delivery=Q4+2026%2F27&success_measure=Portal+live";

#[tokio::test]
async fn a_stale_action_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let before = site.store.load_plan().await.unwrap().unwrap();
    let title = before
        .actions
        .iter()
        .find(|x| x.id == "DT3")
        .unwrap()
        .title
        .clone();
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: "/actions/DT3/edit".into(),
            post: "/actions/DT3/edit".into(),
            first: format!("title=Portal+A&{ACTION_FIELDS}"),
            second: format!("title=Portal+B&{ACTION_FIELDS}"),
            entity: ("action", "DT3".into()),
            shows: &["title", &title, "Portal A"],
            kept: "Portal B",
        },
    )
    .await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let dt3 = plan.actions.iter().find(|x| x.id == "DT3").unwrap();
    assert_eq!(dt3.title, "Portal A");
}

#[tokio::test]
async fn a_stale_milestone_done_and_a_stale_archive_of_an_action_are_refused() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let action = plan
        .actions
        .iter()
        .find(|x| !x.milestones.is_empty())
        .unwrap()
        .id
        .clone();
    let page = format!("/actions/{action}");
    let done = format!("/actions/{action}/milestones/1/done");
    let archive = format!("/actions/{action}/archive");
    let stale_done = site.revision_on(&page, &b.cookie, &done).await;
    let stale_archive = site
        .revision_on(&format!("{page}/edit"), &b.cookie, &archive)
        .await;
    let fresh = site
        .revision_on(&format!("{page}/edit"), &a.cookie, &format!("{page}/edit"))
        .await;
    let reply = site
        .submit(
            &format!("{page}/edit"),
            &a.cookie,
            &format!(
                "csrf_token={}&title=Renamed+A&{ACTION_FIELDS}&{fresh}",
                a.csrf
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let entries = site
        .store
        .audit_trail(Some(("action", &action)), 100)
        .await
        .unwrap()
        .len();
    for (post, body) in [
        (&done, stale_done),
        (&archive, format!("reason=Merged&{stale_archive}")),
    ] {
        let reply = site
            .submit(post, &b.cookie, &format!("csrf_token={}&{body}", b.csrf))
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{post}: {}", reply.body);
        assert!(reply.body.contains(a.email), "{}", reply.body);
        assert!(reply.body.contains("Renamed A"), "{}", reply.body);
    }
    assert!(
        site.store
            .milestones_done(&action)
            .await
            .unwrap()
            .is_empty()
    );
    let trail = site
        .store
        .audit_trail(Some(("action", &action)), 100)
        .await
        .unwrap();
    assert_eq!(trail.len(), entries, "nothing more was audited");
}

#[tokio::test]
async fn a_stale_area_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let path = "/areas/workforce-and-leadership/edit".to_string();
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: path.clone(),
            post: path,
            first: "name=Workforce+A&why=People+A".into(),
            second: "name=Workforce+B&why=People+B".into(),
            entity: ("area", "workforce-and-leadership".into()),
            shows: &["Workforce A", "People A"],
            kept: "People B",
        },
    )
    .await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let area = plan.area("workforce-and-leadership").unwrap();
    assert_eq!(area.name, "Workforce A");
}

#[tokio::test]
async fn a_stale_metric_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let metric = plan.metrics.iter().find(|m| m.baseline.is_some()).unwrap();
    let (id, name) = (metric.id.clone(), metric.name.clone());
    let path = format!("/metrics/{id}/edit");
    let rest = "unit=tCO2e&direction=lower-is-better&baseline_period=2019%2F20&baseline_value=1000&targets=2027%2F28%3A+-50%25";
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: path.clone(),
            post: path,
            first: format!("name=Metric+A&{rest}"),
            second: format!("name=Metric+B&{rest}"),
            entity: ("metric", id.clone()),
            shows: &[&name, "Metric A"],
            kept: "Metric B",
        },
    )
    .await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    assert_eq!(plan.metric(&id).unwrap().name, "Metric A");
}

#[tokio::test]
async fn a_stale_organisation_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let rtg = plan
        .organisations
        .iter()
        .find(|o| o.code.as_str() == "RTG")
        .unwrap();
    let (name, kind) = (rtg.name.clone(), rtg.kind.slug());
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: "/admin/organisations".into(),
            post: "/admin/organisations/RTG".into(),
            first: format!("code=RTG&name=Trust+A&kind={kind}"),
            second: format!("code=RTG&name=Trust+B&kind={kind}"),
            entity: ("organisation", "RTG".into()),
            shows: &[&name, "Trust A"],
            kept: "Trust B",
        },
    )
    .await;
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let rtg = plan
        .organisations
        .iter()
        .find(|o| o.code.as_str() == "RTG")
        .unwrap();
    assert_eq!(rtg.name, "Trust A");
}

/// The number at the end of a redirect's `Location` (`/tools/schemes/3` → 3).
fn created_id(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers.get("location").unwrap().to_str().unwrap();
    location.rsplit('/').next().unwrap().parse().unwrap()
}

const SCHEME_FIELDS: &str =
    "owner=Head+of+transformation&stage=business-case&start=2025-05-01&actions=CT1";

#[tokio::test]
async fn a_stale_scheme_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = created_id(
        &site
            .submit(
                "/tools/schemes",
                &a.cookie,
                &format!(
                    "csrf_token={}&name=Virtual+ward&organisation=RTG&{SCHEME_FIELDS}",
                    a.csrf
                ),
            )
            .await,
    );
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: format!("/tools/schemes/{id}/edit"),
            post: format!("/tools/schemes/{id}"),
            first: format!("name=Ward+A&{SCHEME_FIELDS}"),
            second: format!("name=Ward+B&{SCHEME_FIELDS}"),
            entity: ("scheme", id.to_string()),
            shows: &["Virtual ward", "Ward A"],
            kept: "Ward B",
        },
    )
    .await;
    let scheme = site.store.scheme(id).await.unwrap().unwrap();
    assert_eq!(scheme.details.name, "Ward A");
}

fn sia_form(title: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("title", title);
    s.append_pair("organisation", "RTG");
    s.append_pair("description", "Frailty virtual ward");
    s.append_pair("then", "save");
    s.finish()
}

#[tokio::test]
async fn a_stale_sia_draft_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = created_id(
        &site
            .submit(
                "/tools/sias",
                &a.cookie,
                &format!("csrf_token={}&{}", a.csrf, sia_form("Virtual ward")),
            )
            .await,
    );
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: format!("/tools/sias/{id}/edit"),
            post: format!("/tools/sias/{id}"),
            first: sia_form("Ward A"),
            second: sia_form("Ward B"),
            entity: ("sia", id.to_string()),
            shows: &["Virtual ward", "Ward A"],
            kept: "Ward B",
        },
    )
    .await;
    let sia = site.store.sia(id).await.unwrap().unwrap();
    assert_eq!(sia.title, "Ward A");
}

#[tokio::test]
async fn a_submit_from_a_page_drawn_before_an_edit_is_refused() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = created_id(
        &site
            .submit(
                "/tools/sias",
                &a.cookie,
                &format!("csrf_token={}&{}", a.csrf, sia_form("Virtual ward")),
            )
            .await,
    );
    let page = format!("/tools/sias/{id}");
    let submit = format!("{page}/submit");
    // B reads the assessment and means to submit it; A then changes the answers.
    let stale = site.revision_on(&page, &b.cookie, &submit).await;
    let fresh = site
        .revision_on(&format!("{page}/edit"), &a.cookie, &page)
        .await;
    let reply = site
        .submit(
            &page,
            &a.cookie,
            &format!("csrf_token={}&{}&{fresh}", a.csrf, sia_form("Ward A")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = site
        .submit(
            &submit,
            &b.cookie,
            &format!("csrf_token={}&{stale}", b.csrf),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains(a.email), "{}", reply.body);
    assert!(reply.body.contains("Ward A"), "{}", reply.body);
    let sia = site.store.sia(id).await.unwrap().unwrap();
    assert_eq!(sia.status, greenplan_core::sia::SiaStatus::Draft);
}

fn scenario_form(name: &str) -> String {
    format!(
        "name={name}&organisation=RTG&activity_0=gp-home-visit&avoided_0=10&equivalent=gp-home-visit"
    )
}

#[tokio::test]
async fn a_stale_scenario_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = created_id(
        &site
            .submit(
                "/tools/scenarios",
                &a.cookie,
                &format!("csrf_token={}&{}", a.csrf, scenario_form("Home+visits")),
            )
            .await,
    );
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: format!("/tools/scenarios/{id}/edit"),
            post: format!("/tools/scenarios/{id}"),
            first: scenario_form("Visits+A"),
            second: scenario_form("Visits+B"),
            entity: ("pathway-scenario", id.to_string()),
            shows: &["Home visits", "Visits A"],
            kept: "Visits B",
        },
    )
    .await;
    let saved = site.store.pathway_scenario(id).await.unwrap().unwrap();
    assert_eq!(saved.scenario.name, "Visits A");
}

const DIGITAL_FIELDS: &str =
    "organisation=RTG&description=Letters+online&start_date=2025-04-01&letters=10000&sheets_each=2";

#[tokio::test]
async fn a_stale_digital_scheme_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    let id = created_id(
        &site
            .submit(
                "/tools/digital-benefits",
                &a.cookie,
                &format!("csrf_token={}&name=Patient+portal&{DIGITAL_FIELDS}", a.csrf),
            )
            .await,
    );
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: format!("/tools/digital-benefits/{id}/edit"),
            post: format!("/tools/digital-benefits/{id}"),
            first: format!("name=Portal+A&{DIGITAL_FIELDS}"),
            second: format!("name=Portal+B&{DIGITAL_FIELDS}"),
            entity: ("digital-scheme", id.to_string()),
            shows: &["Patient portal", "Portal A"],
            kept: "Portal B",
        },
    )
    .await;
    let scheme = site.store.digital_scheme(id).await.unwrap().unwrap();
    assert_eq!(scheme.name, "Portal A");
}

#[tokio::test]
async fn a_stale_care_activity_factor_edit_is_refused_and_names_the_change() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let path = "/tools/care-activities/gp-home-visit".to_string();
    let rest = "unit=visit&kgco2e=9.5&source=Sustainable+Healthcare+Coalition&year=2024";
    both_save(
        &site,
        &a,
        &b,
        Case {
            page: path.clone(),
            post: path,
            first: format!("name=Home+visit+A&{rest}"),
            second: format!("name=Home+visit+B&{rest}"),
            entity: ("care-activity-factor", "gp-home-visit".into()),
            shows: &["Home visit A"],
            kept: "Home visit B",
        },
    )
    .await;
    let factors = site.store.care_activity_factors().await.unwrap();
    let f = factors.iter().find(|f| f.id == "gp-home-visit").unwrap();
    assert_eq!(f.name, "Home visit A");
}

/// Two saves from the same revision at once: exactly one is stored, the other refused, on
/// both backends (the comparison is in the UPDATE's WHERE clause, not read first).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_saves_from_one_revision_racing_store_exactly_one() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = rtg_people(&site).await;
    for round in 0..5 {
        let id = a_register_record(&site, &a).await;
        let path = format!("/registers/estates-sites/{id}/edit");
        let revision = site.revision_on(&path, &a.cookie, &path).await;
        let form = |p: &Person, name: &str| {
            format!(
                "csrf_token={}&site={name}+{round}&{SITE_FIELDS}&{revision}",
                p.csrf
            )
        };
        let (form_a, form_b) = (form(&a, "A"), form(&b, "B"));
        let (first, second) = tokio::join!(
            site.submit(&path, &a.cookie, &form_a),
            site.submit(&path, &b.cookie, &form_b),
        );
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
            "round {round}: {} / {}",
            first.body,
            second.body
        );
        let edits = site
            .store
            .audit_trail(Some(("register-record", &id.to_string())), 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "edit")
            .count();
        assert_eq!(edits, 1, "round {round}");
        // Tidy for the next round: the register's first live record is the next one.
        let register = greenplan_core::register::find("estates-sites").unwrap();
        let stored = site
            .store
            .register_record(register, id)
            .await
            .unwrap()
            .unwrap();
        let winner = if first.status == StatusCode::SEE_OTHER {
            "A"
        } else {
            "B"
        };
        assert_eq!(
            stored.record.text("site"),
            Some(format!("{winner} {round}").as_str())
        );
        let archive = format!("/registers/estates-sites/{id}/archive");
        let current = site.revision_on(&path, &a.cookie, &archive).await;
        let reply = site
            .submit(
                &archive,
                &a.cookie,
                &format!("csrf_token={}&{current}", a.csrf),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    }
}

/// The same race for a plan record, whose write replaces a JSON body.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_action_saves_from_one_revision_racing_store_exactly_one() {
    let db = TestDatabase::new();
    let site = revisions_site(&db).await;
    let (a, b) = leads(&site).await;
    let revision = site
        .revision_on("/actions/DT3/edit", &a.cookie, "/actions/DT3/edit")
        .await;
    let form = |p: &Person, title: &str| {
        format!(
            "csrf_token={}&title={title}&{ACTION_FIELDS}&{revision}",
            p.csrf
        )
    };
    let (form_a, form_b) = (form(&a, "Race+A"), form(&b, "Race+B"));
    let (first, second) = tokio::join!(
        site.submit("/actions/DT3/edit", &a.cookie, &form_a),
        site.submit("/actions/DT3/edit", &b.cookie, &form_b),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    let edits = site
        .store
        .audit_trail(Some(("action", "DT3")), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "edit")
        .count();
    assert_eq!(edits, 1);
}
