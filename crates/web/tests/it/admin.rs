//! The ICB sustainability lead's work (editing the plan, organisations, people, reporting
//! periods and approving returns) and an action lead's (milestones, evidence files, "my
//! actions"), with every permission rule tried from the wrong side too. SQLite or PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common;
use axum::http::StatusCode;
use common::*;
use greenplan_store::Revised;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;

#[tokio::test]
async fn the_lead_edits_the_plan_and_each_edit_is_audited() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;

    let page = site.get("/actions/DT3/edit", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Archive DT3"));
    let revision = form_revision(&page.body, "/actions/DT3/edit");
    let form = format!(
        "csrf_token={csrf}&title=Patient+portal+everywhere&leads=Digital+lead%0D%0AEstates&lead_organisations=RTG&lead_organisations=RFS&delivery=Q4+2026%2F27&success_measure=Portal+live&{revision}"
    );
    let reply = site.submit("/actions/DT3/edit", &cookie, &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = site.get("/actions/DT3", None).await;
    assert!(
        page.body.contains("Patient portal everywhere"),
        "anonymous readers see the edit at once"
    );
    assert!(page.body.contains("Q4 2026/27"));
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let dt3 = plan.actions.iter().find(|a| a.id == "DT3").unwrap();
    assert_eq!(dt3.leads, ["Digital lead", "Estates"]);
    assert_eq!(dt3.lead_organisations.len(), 2);
    let trail = site
        .store
        .audit_trail(Some(("action", "DT3")), 5)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "edit");
    assert!(
        trail[0]
            .before
            .as_deref()
            .unwrap()
            .contains(&plan_title_before())
    );

    // An unreadable delivery date is shown back with the problem; nothing changes.
    let revision = site
        .revision_on("/actions/DT3/edit", &cookie, "/actions/DT3/edit")
        .await;
    let bad = format!("csrf_token={csrf}&title=X&delivery=&success_measure=Y&{revision}");
    let reply = site.submit("/actions/DT3/edit", &cookie, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Delivery date"), "{}", reply.body);

    // A new action takes the next id of its area; archiving takes it off the lists.
    let form = format!(
        "csrf_token={csrf}&title=Green+champions+network&leads=OD+leads&delivery=Ongoing&success_measure=Champions+in+every+trust"
    );
    let reply = site
        .submit("/areas/workforce-and-leadership/actions", &cookie, &form)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/actions/WL"), "{location}");
    let id = location.trim_start_matches("/actions/").to_string();
    let page = site.get("/areas/workforce-and-leadership", None).await;
    assert!(page.body.contains("Green champions network"));
    let reply = site
        .submit(
            &format!("/actions/{id}/archive"),
            &cookie,
            &format!(
                "csrf_token={csrf}&reason=&{}",
                site.revision_of(Revised::Action, &id).await
            ),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed"
    );
    let reply = site
        .submit(
            &format!("/actions/{id}/archive"),
            &cookie,
            &format!(
                "csrf_token={csrf}&reason=Merged+into+WL1&{}",
                site.revision_of(Revised::Action, &id).await
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let page = site.get("/areas/workforce-and-leadership", None).await;
    assert!(
        !page.body.contains("Green champions network"),
        "archived actions leave the lists"
    );
    assert_eq!(
        site.get(&format!("/actions/{id}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    let trail = site
        .store
        .audit_trail(Some(("action", &id)), 5)
        .await
        .unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["archive", "create"]
    );

    // Areas and metrics, with targets one to a line.
    let reply = site
        .submit(
            "/areas/workforce-and-leadership/edit",
            &cookie,
            &format!(
                "csrf_token={csrf}&name=Workforce+and+Leadership&why=Because+people+deliver+it&{}",
                site.revision_on(
                    "/areas/workforce-and-leadership/edit",
                    &cookie,
                    "/areas/workforce-and-leadership/edit"
                )
                .await
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let area = site.get("/areas/workforce-and-leadership", None).await;
    assert!(area.body.contains("Because people deliver it"));
    assert!(
        area.body.contains("id=\"history\""),
        "the area's page shows its history"
    );
    assert!(area.body.contains("lead@derbyshire.nhs.uk"));
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let metric = plan
        .metrics
        .iter()
        .find(|m| m.baseline.is_some())
        .unwrap()
        .id
        .clone();
    let page = site
        .get(&format!("/metrics/{metric}/edit"), Some(&cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let revision = form_revision(&page.body, &format!("/metrics/{metric}/edit"));
    let form = format!(
        "csrf_token={csrf}&name=Renamed+metric&unit=tCO2e&direction=lower-is-better&baseline_period=2019%2F20&baseline_value=1000&targets=2027%2F28%3A+-50%25&{revision}"
    );
    let reply = site
        .submit(&format!("/metrics/{metric}/edit"), &cookie, &form)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let plan = site.store.load_plan().await.unwrap().unwrap();
    let m = plan.metric(&metric).unwrap();
    assert_eq!(m.name, "Renamed metric");
    assert_eq!(m.targets.len(), 1);
    assert_eq!(m.targets[0].target.to_line(), "2027/28: -50%");
    let page = site.get(&format!("/metrics/{metric}"), None).await;
    assert!(
        page.body.contains("id=\"history\""),
        "the metric's page shows its history"
    );
    let revision = site.revision_of(Revised::Metric, &metric).await;
    let form = format!(
        "csrf_token={csrf}&name=M&unit=t&direction=lower-is-better&targets=2027%2F28+half&{revision}"
    );
    let reply = site
        .submit(&format!("/metrics/{metric}/edit"), &cookie, &form)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("colon"), "{}", reply.body);
}

fn plan_title_before() -> String {
    // DT3's title as the built-in plan has it (the audit trail keeps the record before).
    let plan = greenplan_ingest::plan_file::built_in_plan().unwrap();
    plan.actions
        .iter()
        .find(|a| a.id == "DT3")
        .unwrap()
        .title
        .clone()
}

#[tokio::test]
async fn only_the_lead_changes_the_plan_and_only_with_a_token() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let (admin_cookie, admin_csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let (lead_cookie, _) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let writes: Vec<(&str, String)> = vec![
        (
            "/actions/DT3/edit",
            "title=X&delivery=Ongoing&success_measure=Y".into(),
        ),
        ("/actions/DT3/archive", "reason=because".into()),
        ("/areas/workforce-and-leadership/edit", "name=X".into()),
        (
            "/areas/workforce-and-leadership/actions",
            "title=X&delivery=Ongoing&success_measure=Y".into(),
        ),
        (
            "/metrics/inhaler-carbon/edit",
            "name=X&unit=t&direction=lower-is-better".into(),
        ),
        ("/admin/organisations", "code=RXX&name=X&kind=acute".into()),
        (
            "/admin/organisations/RTG",
            "code=RTG&name=X&kind=acute".into(),
        ),
        ("/admin/organisations/RTG/archive", "archived=yes".into()),
        (
            "/admin/users/disable",
            "email=rtg%40uhdb.nhs.uk&disabled=yes".into(),
        ),
        (
            "/returns/periods",
            "quarter=Q3+2025%2F26&due_on=2026-01-31".into(),
        ),
        ("/returns/1/approve", String::new()),
    ];
    for (path, fields) in &writes {
        // A contributor and an organisation admin, with valid tokens: refused.
        for (c, t) in [(&cookie, &csrf), (&admin_cookie, &admin_csrf)] {
            let reply = site
                .submit(path, c, &format!("csrf_token={t}&{fields}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.body
            );
        }
        // The lead without the CSRF token, or from another site: refused.
        let reply = site.submit(path, &lead_cookie, fields).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let reply = site
            .post(
                path,
                Some(&lead_cookie),
                Some("https://evil.example"),
                fields,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path} from another site"
        );
        // Nobody signed in: asked to sign in.
        let reply = site.post(path, None, Some(&origin()), fields).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path} signed out");
    }
    for path in [
        "/actions/DT3/edit",
        "/areas/workforce-and-leadership/edit",
        "/admin/organisations",
        "/metrics/inhaler-carbon/edit",
    ] {
        assert_eq!(
            site.get(path, Some(&cookie)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let trail = site.store.audit_trail(None, 100).await.unwrap();
    assert!(
        trail.iter().all(|e| e.actor == "test"),
        "nothing was changed: {trail:?}"
    );
    let plan = site.store.load_plan().await.unwrap().unwrap();
    assert_eq!(
        plan.organisation(&greenplan_core::ods::OdsCode::parse("RTG").unwrap())
            .unwrap()
            .name,
        plan_org_name("RTG")
    );
}

fn plan_org_name(code: &str) -> String {
    let plan = greenplan_ingest::plan_file::built_in_plan().unwrap();
    plan.organisation(&greenplan_core::ods::OdsCode::parse(code).unwrap())
        .unwrap()
        .name
        .clone()
}

#[tokio::test]
async fn organisation_admins_manage_their_own_people_only() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let page = site.get("/admin/users", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("rtg@uhdb.nhs.uk"));
    assert!(
        !page.body.contains("rfs@crh.nhs.uk"),
        "people of other trusts are not listed"
    );
    assert!(
        !page.body.contains("value=\"system-admin\""),
        "cannot make system admins"
    );
    let add = |org: &str, role: &str| {
        format!(
            "csrf_token={csrf}&email=new%40uhdb.nhs.uk&name=New+Person&password=a+long+first+password&organisation={org}&role={role}"
        )
    };
    let reply = site
        .submit("/admin/users", &cookie, &add("RTG", "viewer"))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        site.submit("/admin/users", &cookie, &add("RFS", "viewer"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.submit("/admin/users", &cookie, &add("RTG", "system-admin"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let users = site.store.users().await.unwrap();
    let new = users.iter().find(|u| u.email == "new@uhdb.nhs.uk").unwrap();
    assert_eq!(new.memberships.len(), 1);
    // Removing a role: own organisation yes, another's no.
    let remove = |email: &str, org: &str| {
        format!(
            "csrf_token={csrf}&email={}&organisation={org}",
            email.replace('@', "%40")
        )
    };
    assert_eq!(
        site.submit(
            "/admin/users/roles/remove",
            &cookie,
            &remove("rfs@crh.nhs.uk", "RFS")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.submit(
            "/admin/users/roles/remove",
            &cookie,
            &remove("new@uhdb.nhs.uk", "RTG")
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let users = site.store.users().await.unwrap();
    assert!(
        users
            .iter()
            .find(|u| u.email == "new@uhdb.nhs.uk")
            .unwrap()
            .memberships
            .is_empty()
    );
    // A contributor has no people page.
    let (c, _) = site.sign_in("rtg@uhdb.nhs.uk").await;
    assert_eq!(
        site.get("/admin/users", Some(&c)).await.status,
        StatusCode::FORBIDDEN
    );
    // The system admin disables a sign-in: that person's session ends.
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/admin/users/disable",
            &lead,
            &format!("csrf_token={lead_csrf}&email=rtg%40uhdb.nhs.uk&disabled=yes"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        site.get("/my/actions", Some(&c)).await.headers["location"]
            .to_str()
            .unwrap()
            .contains("/login")
    );
}

#[tokio::test]
async fn the_lead_adds_and_archives_organisations() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    let (cookie, csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/admin/organisations",
            &cookie,
            &format!("csrf_token={csrf}&code=C81001&name=Example+Surgery&kind=gp-practice"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(
        site.get("/organisations", None)
            .await
            .body
            .contains("Example Surgery")
    );
    let again = site
        .submit(
            "/admin/organisations",
            &cookie,
            &format!("csrf_token={csrf}&code=C81001&name=Again&kind=gp-practice"),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already"));
    let bad = site
        .submit(
            "/admin/organisations",
            &cookie,
            &format!("csrf_token={csrf}&code=no+such&name=X&kind=gp-practice"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = site
        .submit(
            "/admin/organisations/C81001",
            &cookie,
            &format!(
                "csrf_token={csrf}&code=C81001&name=Example+Medical+Centre&kind=gp-practice&{}",
                site.revision_on(
                    "/admin/organisations",
                    &cookie,
                    "/admin/organisations/C81001"
                )
                .await
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = site
        .submit(
            "/admin/organisations/C81001/archive",
            &cookie,
            &format!(
                "csrf_token={csrf}&archived=yes&{}",
                site.revision_of(Revised::Organisation, "C81001").await
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        site.store.archived_organisations().await.unwrap(),
        ["C81001"]
    );
    let trail = site
        .store
        .audit_trail(Some(("organisation", "C81001")), 5)
        .await
        .unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["archive", "edit", "create"]
    );
    assert!(
        trail[1]
            .after
            .as_deref()
            .unwrap()
            .contains("Example Medical Centre")
    );
}

const RETURN_CSV: &str = "organisation,site,period_start,period_end,activity,quantity,unit\nRTG,Royal Derby,2025-10-01,2025-12-31,widget,1000,count\n";

#[tokio::test]
async fn a_quarter_is_opened_returns_come_in_and_the_lead_approves_them() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    widget_factor(&site.store).await;
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/returns/periods",
            &lead,
            &format!("csrf_token={lead_csrf}&quarter=Q3+2025%2F26&due_on=2026-01-31"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers["location"], "/returns/periods/2025-26-Q3");
    let again = site
        .submit(
            "/returns/periods",
            &lead,
            &format!("csrf_token={lead_csrf}&quarter=Q3+2025%2F26&due_on=2026-01-31"),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let early = site
        .submit(
            "/returns/periods",
            &lead,
            &format!("csrf_token={lead_csrf}&quarter=Q4+2025%2F26&due_on=2026-02-01"),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "due before the quarter ends"
    );

    // A trust's contributor submits its return for the quarter.
    let (c, csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let page = site.get("/returns", Some(&c)).await;
    assert!(
        page.body.contains("Q3 2025/26 (due 31 January 2026)"),
        "the open period is offered"
    );
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf), ("period", "Q3 2025/26")],
        Some(("file", "rtg-q3.csv", RETURN_CSV.as_bytes())),
    );
    let preview = site.post_multipart("/returns/preview", &c, &ct, body).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("your return for Q3 2025/26"));
    let token = preview
        .body
        .split("name=\"upload\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let reply = site
        .submit(
            "/returns/confirm",
            &c,
            &format!("csrf_token={csrf}&upload={token}&period=Q3+2025%2F26"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("submitted as your return for Q3 2025/26"),
        "{}",
        reply.body
    );

    // Where returns stand: RTG submitted; the rest late (the due date has passed).
    let page = site.get("/returns/periods/2025-26-Q3", Some(&lead)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("5 organisations are late"),
        "{}",
        page.body
    );
    assert!(page.body.contains("rtg-q3.csv"));
    assert!(
        page.body.contains("2.500"),
        "1,000 widgets at 2.5 kg each are 2.500 tCO2e: {}",
        page.body
    );
    assert!(
        !page.body.contains("Derby City Council"),
        "partners make no returns"
    );
    let returns = site
        .store
        .returns_for("Q3 2025/26".parse_quarter())
        .await
        .unwrap();
    assert_eq!(returns.len(), 1);
    let id = returns[0].id;
    // The contributor cannot approve; the lead can, once.
    assert_eq!(
        site.submit(
            &format!("/returns/{id}/approve"),
            &c,
            &format!("csrf_token={csrf}")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let reply = site
        .submit(
            &format!("/returns/{id}/approve"),
            &lead,
            &format!("csrf_token={lead_csrf}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let twice = site
        .submit(
            &format!("/returns/{id}/approve"),
            &lead,
            &format!("csrf_token={lead_csrf}"),
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = site.get("/returns/periods/2025-26-Q3", Some(&lead)).await;
    assert!(
        page.body.contains("Approved by lead@derbyshire.nhs.uk"),
        "{}",
        page.body
    );
    let trail = site
        .store
        .audit_trail(Some(("return", &id.to_string())), 5)
        .await
        .unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["approve", "submit"]
    );
    // A period that is not open cannot be chosen.
    let (ct, body) = multipart_body(
        &[("csrf_token", &csrf), ("period", "Q1 2024/25")],
        Some(("file", "x.csv", RETURN_CSV.as_bytes())),
    );
    let reply = site.post_multipart("/returns/preview", &c, &ct, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("not open"));
}

trait QuarterText {
    fn parse_quarter(&self) -> greenplan_core::period::Quarter;
}

impl QuarterText for str {
    fn parse_quarter(&self) -> greenplan_core::period::Quarter {
        greenplan_core::period::Quarter::parse(self).unwrap()
    }
}

#[tokio::test]
async fn leads_mark_milestones_attach_evidence_and_see_their_actions() {
    let db = site_db();
    let site = site(&db, WebConfig::default()).await;
    // EF2 names no lead organisation: a system action, the ICB's to update.
    let (icb, icb_csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let (rtg, rtg_csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    assert_eq!(
        site.submit(
            "/actions/EF2/milestones/1/done",
            &rtg,
            &format!("csrf_token={rtg_csrf}")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let reply = site
        .submit(
            "/actions/EF2/milestones/1/done",
            &icb,
            &format!(
                "csrf_token={icb_csrf}&{}",
                site.revision_of(Revised::Action, "EF2").await
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        site.submit(
            "/actions/EF2/milestones/1/done",
            &icb,
            &format!(
                "csrf_token={icb_csrf}&{}",
                site.revision_of(Revised::Action, "EF2").await
            )
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        site.submit(
            "/actions/EF2/milestones/9/done",
            &icb,
            &format!(
                "csrf_token={icb_csrf}&{}",
                site.revision_of(Revised::Action, "EF2").await
            )
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let page = site.get("/actions/EF2", None).await;
    assert!(page.body.contains("Done: "), "{}", page.body);
    assert!(page.body.contains("icb@derbyshire.nhs.uk"));

    // An update with an evidence file; the file comes back as a download.
    let pdf = b"%PDF-1.7\n% a board paper\n";
    let (ct, body) = multipart_body(
        &[
            ("csrf_token", &rtg_csrf),
            ("status", "on-track"),
            ("note", "Paper to board"),
            ("evidence_url", ""),
            ("revised_due", ""),
        ],
        Some(("evidence_file", "board paper.pdf", pdf)),
    );
    let reply = site
        .post_multipart("/actions/DT3/updates", &rtg, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = site.get("/actions/DT3", None).await;
    let link = page
        .body
        .split("href=\"/evidence/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(page.body.contains("Evidence file: board paper.pdf"));
    let file = site.get(&format!("/evidence/{link}"), None).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.as_bytes(), pdf);
    assert_eq!(file.headers["content-type"], "application/pdf");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    // A page dressed as a PDF is refused, and the update with it.
    let (ct, body) = multipart_body(
        &[
            ("csrf_token", &rtg_csrf),
            ("status", "on-track"),
            ("note", "Sneaky"),
        ],
        Some(("evidence_file", "paper.pdf", b"<script>alert(1)</script>")),
    );
    let reply = site
        .post_multipart("/actions/DT3/updates", &rtg, &ct, body)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("contents do not match"),
        "{}",
        reply.body
    );
    assert_eq!(site.store.action_updates("DT3").await.unwrap().len(), 1);
    // A trust cannot post on an action the ICB leads, with a file or without.
    let (rfs, rfs_csrf) = site.sign_in("rfs@crh.nhs.uk").await;
    let (ct, body) = multipart_body(
        &[
            ("csrf_token", &rfs_csrf),
            ("status", "on-track"),
            ("note", "x"),
        ],
        Some(("evidence_file", "p.pdf", pdf)),
    );
    assert_eq!(
        site.post_multipart("/actions/CT2/updates", &rfs, &ct, body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // My actions: the ones my organisations lead.
    let mine = site.get("/my/actions", Some(&rtg)).await;
    assert!(mine.body.contains("/actions/DT3"));
    assert!(
        !mine.body.contains("/actions/EF2"),
        "system actions are the ICB's"
    );
    let icb_mine = site.get("/my/actions", Some(&icb)).await;
    assert!(icb_mine.body.contains("/actions/EF2"));
    assert_eq!(
        site.get("/my/actions", None).await.status,
        StatusCode::SEE_OTHER
    );
}

/// "Add a person" tells an organisation admin nothing about whether an address has an
/// account elsewhere: the same answer (status and page) for an unknown address and for a
/// person of another trust, and the person of another trust is only invited. They see the
/// invitation on their account page and accept or decline it; only an accepted one makes
/// the role. Every step is audited.
#[tokio::test]
async fn adding_an_existing_person_invites_them_and_answers_as_for_anyone() {
    let db = TestDatabase::new();
    let site = site(&db, WebConfig::default()).await;
    let (admin, csrf) = site.sign_in("admin@uhdb.nhs.uk").await;
    let form = |email: &str, name: &str, password: &str, role: &str| {
        format!(
            "csrf_token={csrf}&email={}&name={name}&password={password}&organisation=RTG&role={role}",
            email.replace('@', "%40")
        )
    };
    // Mistakes in the form are answered the same, account or not.
    for (name, password) in [("", "a+long+first+pass+phrase"), ("Someone", "short")] {
        let unknown = site
            .submit(
                "/admin/users",
                &admin,
                &form("nobody@crh.nhs.uk", name, password, "viewer"),
            )
            .await;
        let existing = site
            .submit(
                "/admin/users",
                &admin,
                &form("rfs@crh.nhs.uk", name, password, "viewer"),
            )
            .await;
        assert_eq!(unknown.status, existing.status, "{}", existing.body);
        assert_eq!(
            unknown.body.replace("nobody", "rfs"),
            existing.body,
            "the page must not tell whether the address has an account"
        );
    }
    assert_eq!(roles_of(&site.store, "nobody@crh.nhs.uk").await, None);
    assert_eq!(
        roles_of(&site.store, "rfs@crh.nhs.uk").await.unwrap(),
        ["contributor RFS"]
    );

    // A complete form: the same answer again; the new person has the role, the existing one
    // an invitation only.
    let unknown = site
        .submit(
            "/admin/users",
            &admin,
            &form(
                "nobody@crh.nhs.uk",
                "Someone",
                "a+long+first+pass+phrase",
                "viewer",
            ),
        )
        .await;
    let existing = site
        .submit(
            "/admin/users",
            &admin,
            &form(
                "rfs@crh.nhs.uk",
                "Someone",
                "a+long+first+pass+phrase",
                "contributor",
            ),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::SEE_OTHER, "{}", unknown.body);
    assert_eq!(existing.status, unknown.status, "{}", existing.body);
    assert_eq!(existing.headers["location"], unknown.headers["location"]);
    assert_eq!(existing.body, unknown.body);
    assert_eq!(
        roles_of(&site.store, "nobody@crh.nhs.uk").await.unwrap(),
        ["viewer RTG"]
    );
    assert_eq!(
        roles_of(&site.store, "rfs@crh.nhs.uk").await.unwrap(),
        ["contributor RFS"],
        "not attached without asking"
    );

    // The invited person sees it on their account page and accepts.
    let (rfs, rfs_csrf) = site.sign_in("rfs@crh.nhs.uk").await;
    let page = site.get("/account", Some(&rfs)).await;
    assert!(page.body.contains("Invitations"), "{}", page.body);
    assert!(page.body.contains("Contributor"), "{}", page.body);
    let invitation = |body: &str| {
        body.split("name=\"invitation\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let id = invitation(&page.body);
    // Nobody else can answer it.
    let (other, other_csrf) = site.sign_in("rtg@uhdb.nhs.uk").await;
    let reply = site
        .submit(
            "/account/invitations",
            &other,
            &format!("csrf_token={other_csrf}&invitation={id}&answer=accept"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(
        roles_of(&site.store, "rtg@uhdb.nhs.uk").await.unwrap(),
        ["contributor RTG"]
    );
    let reply = site
        .submit(
            "/account/invitations",
            &rfs,
            &format!("csrf_token={rfs_csrf}&invitation={id}&answer=accept"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        roles_of(&site.store, "rfs@crh.nhs.uk").await.unwrap(),
        ["contributor RFS", "contributor RTG"]
    );
    // Declining leaves the roles as they were.
    let (lead, lead_csrf) = site.sign_in("lead@derbyshire.nhs.uk").await;
    let reply = site
        .submit(
            "/admin/users",
            &lead,
            &format!(
                "csrf_token={lead_csrf}&email=icb%40derbyshire.nhs.uk&organisation=RFS&role=viewer"
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let (icb, icb_csrf) = site.sign_in("icb@derbyshire.nhs.uk").await;
    let page = site.get("/account", Some(&icb)).await;
    let id = invitation(&page.body);
    let reply = site
        .submit(
            "/account/invitations",
            &icb,
            &format!("csrf_token={icb_csrf}&invitation={id}&answer=decline"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        roles_of(&site.store, "icb@derbyshire.nhs.uk")
            .await
            .unwrap(),
        ["contributor QJ2"]
    );
    assert!(
        !site
            .get("/account", Some(&icb))
            .await
            .body
            .contains("name=\"invitation\"")
    );
    let trail: Vec<String> = site
        .store
        .audit_trail(None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.entity_id))
        .collect();
    for expected in [
        "invite rfs@crh.nhs.uk",
        "accept-invitation rfs@crh.nhs.uk",
        "invite icb@derbyshire.nhs.uk",
        "decline-invitation icb@derbyshire.nhs.uk",
    ] {
        assert!(
            trail.iter().any(|t| t == expected),
            "{expected} in {trail:?}"
        );
    }
}

/// A person's roles as "role ORG" lines (`None`: no such person).
async fn roles_of(store: &greenplan_store::Store, email: &str) -> Option<Vec<String>> {
    let users = store.users().await.unwrap();
    users.into_iter().find(|u| u.email == email).map(|u| {
        u.memberships
            .into_iter()
            .map(|m| format!("{} {}", m.role.slug(), m.organisation))
            .collect()
    })
}
