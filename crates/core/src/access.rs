//! Who may change what: roles per organisation and the rules every write is checked against.
//!
//! A person holds a role in one or more organisations. The rules are the product's, not the
//! web layer's, so the same checks guard forms, the API and anything added later:
//!
//! | role | may |
//! |---|---|
//! | viewer | read |
//! | contributor | post updates on actions its organisation leads; enter its organisation's activity data and metric values |
//! | organisation admin | as contributor, and manage its organisation's users |
//! | system admin | everything, for every organisation: edit the plan, add organisations, open reporting periods, approve returns |
//!
//! Actions that name no lead organisation are system actions, led by the ICB: the ICB's
//! contributors may update them. System-wide metric values are the ICB's to enter.

use crate::ods::OdsCode;
use crate::plan::{Action, Plan};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a person holds in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Viewer,
    Contributor,
    OrganisationAdmin,
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Viewer,
        Role::Contributor,
        Role::OrganisationAdmin,
        Role::SystemAdmin,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Contributor => "contributor",
            Role::OrganisationAdmin => "org-admin",
            Role::SystemAdmin => "system-admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Contributor => "Contributor",
            Role::OrganisationAdmin => "Organisation admin",
            Role::SystemAdmin => "System admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a role could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: use viewer, contributor, org-admin or system-admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.slug() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A role in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    pub organisation: OdsCode,
    pub role: Role,
}

/// What a signed-in person may do, from their memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub memberships: Vec<Membership>,
}

impl Access {
    pub fn new(memberships: Vec<Membership>) -> Self {
        Self { memberships }
    }

    pub fn is_system_admin(&self) -> bool {
        self.memberships.iter().any(|m| m.role == Role::SystemAdmin)
    }

    /// Contributor or above in `organisation` (or a system admin anywhere).
    pub fn can_contribute_for(&self, organisation: &OdsCode) -> bool {
        self.is_system_admin()
            || self
                .memberships
                .iter()
                .any(|m| &m.organisation == organisation && m.role >= Role::Contributor)
    }

    /// May post progress on `action`: its lead organisations' contributors, or the ICB's for a
    /// system action with no lead organisation.
    pub fn can_update_action(&self, action: &Action, plan: &Plan) -> bool {
        if action.lead_organisations.is_empty() {
            return self.can_contribute_for(&plan.info.icb);
        }
        action
            .lead_organisations
            .iter()
            .any(|o| self.can_contribute_for(o))
    }

    /// May record a value of a metric for `organisation` (`None`: the system, i.e. the ICB).
    pub fn can_record_value(&self, organisation: Option<&OdsCode>, plan: &Plan) -> bool {
        self.can_contribute_for(organisation.unwrap_or(&plan.info.icb))
    }

    /// May review `organisation`'s submissions (a Sustainability Impact Assessment): its
    /// organisation admins, or a system admin.
    pub fn can_review_for(&self, organisation: &OdsCode) -> bool {
        self.is_system_admin()
            || self
                .memberships
                .iter()
                .any(|m| &m.organisation == organisation && m.role == Role::OrganisationAdmin)
    }

    /// May add people to `organisation` with `role`.
    pub fn can_manage_users_of(&self, organisation: &OdsCode, role: Role) -> bool {
        self.is_system_admin()
            || (role != Role::SystemAdmin
                && self
                    .memberships
                    .iter()
                    .any(|m| &m.organisation == organisation && m.role == Role::OrganisationAdmin))
    }

    /// May edit the plan itself (areas, actions, metrics, targets), add organisations, open
    /// reporting periods and approve returns: the ICB's sustainability lead.
    pub fn can_run_the_plan(&self) -> bool {
        self.is_system_admin()
    }

    /// May see and manage the people of some organisation (an organisation admin or a system
    /// admin).
    pub fn manages_people(&self) -> bool {
        self.is_system_admin()
            || self
                .memberships
                .iter()
                .any(|m| m.role == Role::OrganisationAdmin)
    }

    /// Organisations this person can contribute for, for choosing in forms.
    pub fn contributing_organisations<'p>(&self, plan: &'p Plan) -> Vec<&'p OdsCode> {
        plan.organisations
            .iter()
            .map(|o| &o.code)
            .filter(|c| self.can_contribute_for(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> OdsCode {
        OdsCode::parse(c).unwrap()
    }

    fn access(org: &str, role: Role) -> Access {
        Access::new(vec![Membership {
            organisation: code(org),
            role,
        }])
    }

    #[test]
    fn contributors_write_only_for_their_own_organisation() {
        let a = access("RTG", Role::Contributor);
        assert!(a.can_contribute_for(&code("RTG")));
        assert!(!a.can_contribute_for(&code("RFS")));
        assert!(!access("RTG", Role::Viewer).can_contribute_for(&code("RTG")));
        assert!(access("QJ2", Role::SystemAdmin).can_contribute_for(&code("RFS")));
    }

    #[test]
    fn org_admins_cannot_make_system_admins() {
        let a = access("RTG", Role::OrganisationAdmin);
        assert!(a.can_manage_users_of(&code("RTG"), Role::Contributor));
        assert!(!a.can_manage_users_of(&code("RTG"), Role::SystemAdmin));
        assert!(!a.can_manage_users_of(&code("RFS"), Role::Viewer));
        assert!(!access("RTG", Role::Contributor).can_manage_users_of(&code("RTG"), Role::Viewer));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(
            "org-admin".parse::<Role>().unwrap(),
            Role::OrganisationAdmin
        );
        assert!("boss".parse::<Role>().is_err());
    }
}
