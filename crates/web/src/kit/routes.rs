//! The route builder: each feature lists its routes with it, and the same calls build both
//! the axum router and the route table (method, path, who may write). A write route cannot
//! be added without saying who may use it: [`Routes::post`] takes the rule, and there is no
//! other way to add an unsafe method. The permission tests read the table from the real
//! router ([`crate::route_table`]), so they test exactly what is served.
//!
//! The rule is the route's contract, checked by its handler (through `greenplan-core`'s
//! access rules, after the CSRF and same-site checks) and by the permission matrix test,
//! which tries every role on every write route against it.

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;

/// Who may use a write route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Anyone who holds what the form asks for: a password (signing in), a survey's open
    /// link or a respondent's single-use token.
    Anyone,
    /// A signed-in person, on their own account (password, tokens, invitations, signing out).
    OwnAccount,
    /// Contributors (or higher) of the organisation the record belongs to, and system admins.
    Contributors,
    /// Organisation admins of the organisation concerned, and system admins.
    OrganisationAdmins,
    /// System admins (the ICB's sustainability lead) only.
    SystemAdmins,
}

/// One line of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path as axum matches it (`/actions/{id}`).
    pub path: &'static str,
    /// Who may write: `None` for reads (anyone who may read the site).
    pub write: Option<Write>,
}

/// Routes being built: the router's method routers by path, and the table.
#[derive(Default)]
pub struct Routes {
    paths: Vec<(&'static str, MethodRouter<AppState>)>,
    table: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// A page or download anyone who may read the site may have.
    pub fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, None, axum::routing::get(handler))
    }

    /// A write, usable by those `rule` names.
    pub fn post<H, T>(self, path: &'static str, rule: Write, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, Some(rule), axum::routing::post(handler))
    }

    /// A write whose body may be up to `max_bytes` (uploads), usable by those `rule` names.
    pub fn post_up_to<H, T>(
        self,
        path: &'static str,
        rule: Write,
        max_bytes: usize,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let method =
            axum::routing::post(handler).layer(axum::extract::DefaultBodyLimit::max(max_bytes));
        self.add("POST", path, Some(rule), method)
    }

    /// Adds another feature's routes.
    pub fn merge(mut self, other: Routes) -> Self {
        for (path, method) in other.paths {
            self = self.join(path, method);
        }
        self.table.extend(other.table);
        self
    }

    /// The route table, in the order the routes were added.
    pub fn table(&self) -> &[Route] {
        &self.table
    }

    /// The axum router serving every route.
    pub fn into_router(self) -> Router<AppState> {
        self.paths
            .into_iter()
            .fold(Router::new(), |router, (path, method)| {
                router.route(path, method)
            })
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        write: Option<Write>,
        router: MethodRouter<AppState>,
    ) -> Self {
        self.table.push(Route {
            method,
            path,
            write,
        });
        self.join(path, router)
    }

    /// One method router per path: a second method on a path joins the first (axum refuses a
    /// path routed twice, and so does this, for the same method, when the router is built).
    fn join(mut self, path: &'static str, router: MethodRouter<AppState>) -> Self {
        match self.paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => {
                let first = std::mem::take(existing);
                *existing = first.merge(router);
            }
            None => self.paths.push((path, router)),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn page() -> &'static str {
        "page"
    }

    #[test]
    fn the_table_lists_every_route_with_its_rule() {
        let routes = Routes::new()
            .get("/things", page)
            .post("/things", Write::Contributors, page)
            .merge(Routes::new().post_up_to("/things/import", Write::SystemAdmins, 10, page));
        assert_eq!(
            routes.table(),
            [
                Route {
                    method: "GET",
                    path: "/things",
                    write: None
                },
                Route {
                    method: "POST",
                    path: "/things",
                    write: Some(Write::Contributors)
                },
                Route {
                    method: "POST",
                    path: "/things/import",
                    write: Some(Write::SystemAdmins)
                },
            ]
        );
        // Both methods of /things are served by one route.
        let _router: Router<AppState> = routes.into_router();
    }
}
