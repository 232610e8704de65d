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
//!
//! A change of someone's role is approved here, as a [`RoleChange`], before anything is
//! stored: the actor must be able to grant the new role *and* to remove the old one, so that
//! "add a person" can never be used to demote (or otherwise change) someone holding a role the
//! actor could not have given them. The store changes memberships only through a
//! `RoleChange`, which nothing outside this module can make without that check.

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

    /// Approves changing a person's role in `organisation` from `from` (their role there now,
    /// `None` if they have none) to `to` (`None` removes it). Refused unless this person may
    /// both remove the old role and grant the new one.
    pub fn approve_role_change(
        &self,
        organisation: &OdsCode,
        from: Option<Role>,
        to: Option<Role>,
    ) -> Result<RoleChange, RoleChangeRefused> {
        for role in [from, to].into_iter().flatten() {
            if !self.can_manage_users_of(organisation, role) {
                return Err(RoleChangeRefused {
                    organisation: organisation.clone(),
                    role,
                    held: Some(role) == from,
                });
            }
        }
        Ok(RoleChange {
            organisation: organisation.clone(),
            from,
            to,
        })
    }

    /// May act on a person's whole account (list and revoke their API tokens): a system
    /// admin, or someone who could remove every role the person holds (so never a system
    /// admin's, and never someone's who also belongs to an organisation this person does not
    /// manage).
    pub fn can_manage_person(&self, person: &Access) -> bool {
        self.is_system_admin()
            || (!person.memberships.is_empty()
                && person
                    .memberships
                    .iter()
                    .all(|m| self.can_manage_users_of(&m.organisation, m.role)))
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

/// A change of one person's role in one organisation that has been approved: made only by
/// [`Access::approve_role_change`] (or [`RoleChange::by_operator`]), so holding one means the
/// check was done. The store applies it only if the person's role is still `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    organisation: OdsCode,
    from: Option<Role>,
    to: Option<Role>,
}

impl RoleChange {
    /// A change made by the server's operator on the command line (`greenplan user add`),
    /// who holds every power already.
    pub fn by_operator(organisation: &OdsCode, from: Option<Role>, to: Option<Role>) -> Self {
        Self {
            organisation: organisation.clone(),
            from,
            to,
        }
    }

    pub fn organisation(&self) -> &OdsCode {
        &self.organisation
    }

    /// The role the person held when the change was approved.
    pub fn from(&self) -> Option<Role> {
        self.from
    }

    /// The role they will hold (`None`: none in this organisation).
    pub fn to(&self) -> Option<Role> {
        self.to
    }
}

/// Why a role change was refused: the role the actor may not grant or take away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RoleChangeRefused {
    pub organisation: OdsCode,
    pub role: Role,
    /// True when it is the role the person holds now (not the one asked for) that stops it.
    pub held: bool,
}

impl fmt::Display for RoleChangeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.held {
            write!(
                f,
                "You cannot change the role of someone who is {} of {}: ask a system administrator.",
                self.role.label().to_lowercase(),
                self.organisation
            )
        } else {
            write!(
                f,
                "You cannot give people the role {} in {}.",
                self.role.label(),
                self.organisation
            )
        }
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
    fn a_role_change_needs_power_over_the_old_role_and_the_new() {
        let icb_admin = access("QJ2", Role::OrganisationAdmin);
        let qj2 = code("QJ2");
        // Demoting a system admin through "add a person": refused, naming the role held.
        let refused = icb_admin
            .approve_role_change(&qj2, Some(Role::SystemAdmin), Some(Role::Viewer))
            .unwrap_err();
        assert!(refused.held);
        assert_eq!(refused.role, Role::SystemAdmin);
        assert!(
            icb_admin
                .approve_role_change(&qj2, Some(Role::SystemAdmin), None)
                .is_err()
        );
        assert!(
            icb_admin
                .approve_role_change(&qj2, None, Some(Role::SystemAdmin))
                .is_err()
        );
        assert!(
            icb_admin
                .approve_role_change(&code("RTG"), Some(Role::Viewer), Some(Role::Contributor))
                .is_err(),
            "another organisation"
        );
        let ok = icb_admin
            .approve_role_change(&qj2, Some(Role::OrganisationAdmin), Some(Role::Viewer))
            .unwrap();
        assert_eq!(
            (ok.from(), ok.to()),
            (Some(Role::OrganisationAdmin), Some(Role::Viewer))
        );
        assert!(
            access("QJ2", Role::SystemAdmin)
                .approve_role_change(&qj2, Some(Role::SystemAdmin), Some(Role::Viewer))
                .is_ok()
        );
        assert!(
            access("QJ2", Role::Contributor)
                .approve_role_change(&qj2, None, Some(Role::Viewer))
                .is_err()
        );
    }

    #[test]
    fn a_whole_account_is_managed_only_by_whoever_manages_all_its_roles() {
        let admin = access("RTG", Role::OrganisationAdmin);
        assert!(admin.can_manage_person(&access("RTG", Role::Contributor)));
        assert!(!admin.can_manage_person(&access("RTG", Role::SystemAdmin)));
        assert!(!admin.can_manage_person(&access("RFS", Role::Viewer)));
        let both = Access::new(vec![
            Membership {
                organisation: code("RTG"),
                role: Role::Viewer,
            },
            Membership {
                organisation: code("RFS"),
                role: Role::OrganisationAdmin,
            },
        ]);
        assert!(!admin.can_manage_person(&both));
        assert!(!admin.can_manage_person(&Access::new(vec![])));
        assert!(access("QJ2", Role::SystemAdmin).can_manage_person(&both));
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
