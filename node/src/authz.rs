//! Authorization: the one place that decides who may do what.
//!
//! Every route declares the [`Action`] it needs (see `app::routes`); handlers call
//! [`Actor::authorize`] before touching data, and [`Actor::may_manage`] for decisions that
//! depend on the target (a user of another organisation). A role is either node-wide
//! (`node_admin`, `analyst`, `auditor`) or bound to the user's organisation (`org_admin`,
//! `caseworker`). The route × role matrix test in `tests/it/matrix.rs` pins this table down.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use uuid::Uuid;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    NodeAdmin,
    OrgAdmin,
    Caseworker,
    Analyst,
    Auditor,
    /// The regional hub's reader: federation statistics only (a hub has no cases).
    HubViewer,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::NodeAdmin,
        Role::OrgAdmin,
        Role::Caseworker,
        Role::Analyst,
        Role::Auditor,
        Role::HubViewer,
    ];

    /// The roles a country node has (`hub_viewer` exists on the hub only).
    pub const NODE: [Role; 5] = [
        Role::NodeAdmin,
        Role::OrgAdmin,
        Role::Caseworker,
        Role::Analyst,
        Role::Auditor,
    ];

    /// The roles a hub has: it holds no organisation's cases.
    pub const HUB: [Role; 3] = [Role::NodeAdmin, Role::Auditor, Role::HubViewer];

    pub fn code(self) -> &'static str {
        match self {
            Role::NodeAdmin => "node_admin",
            Role::OrgAdmin => "org_admin",
            Role::Caseworker => "caseworker",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::HubViewer => "hub_viewer",
        }
    }

    /// Node-wide roles act across organisations; the others only within their own.
    pub fn is_node_wide(self) -> bool {
        matches!(
            self,
            Role::NodeAdmin | Role::Analyst | Role::Auditor | Role::HubViewer
        )
    }

    /// Administrators always need a second factor.
    pub fn requires_totp(self) -> bool {
        matches!(self, Role::NodeAdmin | Role::OrgAdmin)
    }
}

/// Why a string is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct InvalidRole(pub String);

impl FromStr for Role {
    type Err = InvalidRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| InvalidRole(s.to_owned()))
    }
}

impl TryFrom<String> for Role {
    type Error = InvalidRole;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ViewHome,
    ManageOwnAccount,
    ManageOwnTokens,
    ViewOrgs,
    ManageOrgs,
    ViewUsers,
    ManageUsers,
    /// Create or change users with node-wide roles, or without an organisation.
    AssignNodeRoles,
    /// Revoke API tokens of other users (within the actor's scope).
    RevokeAnyToken,
    ViewAudit,
    ViewRoles,
    /// Read the organisation's cases, identifying fields included.
    ViewCases,
    /// Register and change the organisation's cases.
    EditCases,
    /// Give a case to another caseworker of the organisation.
    ReassignCases,
    /// Register or keep a case without the consent it needs, with a written reason.
    OverrideConsent,
    /// Export the organisation's cases (HTCDS with identity, CTDC without).
    ExportCases,
    /// Import cases from HTCDS or CTDC files.
    ImportCases,
    /// See the node's case index without identifying fields.
    ViewCaseIndex,
    /// Open one case's identifying fields, with a written reason (audited, shown to
    /// national administrators).
    BreakGlass,
    /// See the federation: peers, delivery state, manifest, evidence log.
    ViewFederation,
    /// Approve or block peers, keys and agreements.
    ManageFederation,
    /// See the regional service directory (this node's services and its peers').
    ViewDirectory,
    /// Add, change and deactivate services of the directory (an organisation's coordinator:
    /// their own organisation's; a national administrator: any organisation's).
    EditDirectory,
    /// See cross-border referrals: an organisation's users their organisation's (with the
    /// victim data they carry), national administrators every referral's routing data only.
    ViewReferrals,
    /// Refer one of the organisation's cases to another country.
    SendReferral,
    /// Approve a caseworker's referral before it is sent (when the node's policy asks it).
    ApproveReferral,
    /// Accept, decline, update and close a referral received by the organisation.
    AnswerReferral,
    /// Route a received referral from the national queue to an organisation.
    AssignReferral,
    /// See the protected national statistics (tables T01–T08 of PRIVACY.md) and export them:
    /// node-wide roles for the whole node or one organisation, an organisation's coordinator
    /// for their organisation only.
    ViewStatistics,
    /// Prepare, review, publish and discard the node's statistics releases to the hub.
    PublishStatistics,
    /// See the hub's federation statistics, publication status and exports.
    ViewHub,
    /// Place or release a legal hold on one of the organisation's cases (it suspends the
    /// retention rule and refuses erasure).
    ManageLegalHold,
    /// Erase a person of the organisation on their request (right to erasure).
    ErasePerson,
    /// See the node's retention rule, what it will touch, and the cases under a legal hold.
    ViewRetention,
}

impl Action {
    pub const ALL: [Action; 34] = [
        Action::ViewHome,
        Action::ManageOwnAccount,
        Action::ManageOwnTokens,
        Action::ViewOrgs,
        Action::ManageOrgs,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::AssignNodeRoles,
        Action::RevokeAnyToken,
        Action::ViewAudit,
        Action::ViewRoles,
        Action::ViewCases,
        Action::EditCases,
        Action::ReassignCases,
        Action::OverrideConsent,
        Action::ExportCases,
        Action::ImportCases,
        Action::ViewCaseIndex,
        Action::BreakGlass,
        Action::ViewFederation,
        Action::ManageFederation,
        Action::ViewDirectory,
        Action::EditDirectory,
        Action::ViewReferrals,
        Action::SendReferral,
        Action::ApproveReferral,
        Action::AnswerReferral,
        Action::AssignReferral,
        Action::ViewStatistics,
        Action::PublishStatistics,
        Action::ViewHub,
        Action::ManageLegalHold,
        Action::ErasePerson,
        Action::ViewRetention,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::ViewHome => "view_home",
            Action::ManageOwnAccount => "manage_own_account",
            Action::ManageOwnTokens => "manage_own_tokens",
            Action::ViewOrgs => "view_orgs",
            Action::ManageOrgs => "manage_orgs",
            Action::ViewUsers => "view_users",
            Action::ManageUsers => "manage_users",
            Action::AssignNodeRoles => "assign_node_roles",
            Action::RevokeAnyToken => "revoke_any_token",
            Action::ViewAudit => "view_audit",
            Action::ViewRoles => "view_roles",
            Action::ViewCases => "view_cases",
            Action::EditCases => "edit_cases",
            Action::ReassignCases => "reassign_cases",
            Action::OverrideConsent => "override_consent",
            Action::ExportCases => "export_cases",
            Action::ImportCases => "import_cases",
            Action::ViewCaseIndex => "view_case_index",
            Action::BreakGlass => "break_glass",
            Action::ViewFederation => "view_federation",
            Action::ManageFederation => "manage_federation",
            Action::ViewDirectory => "view_directory",
            Action::EditDirectory => "edit_directory",
            Action::ViewReferrals => "view_referrals",
            Action::SendReferral => "send_referral",
            Action::ApproveReferral => "approve_referral",
            Action::AnswerReferral => "answer_referral",
            Action::AssignReferral => "assign_referral",
            Action::ViewStatistics => "view_statistics",
            Action::PublishStatistics => "publish_statistics",
            Action::ViewHub => "view_hub",
            Action::ManageLegalHold => "manage_legal_hold",
            Action::ErasePerson => "erase_person",
            Action::ViewRetention => "view_retention",
        }
    }
}

/// The permission table. Closed by default: anything not listed is refused.
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ViewHome | ManageOwnAccount | ManageOwnTokens => true,
        ViewOrgs | ManageOrgs | AssignNodeRoles => role == NodeAdmin,
        ViewUsers | ManageUsers | RevokeAnyToken | ViewRoles => {
            matches!(role, NodeAdmin | OrgAdmin)
        }
        ViewAudit => matches!(role, NodeAdmin | Auditor),
        ViewCases | EditCases => matches!(role, OrgAdmin | Caseworker),
        ReassignCases | OverrideConsent | ExportCases | ImportCases => role == OrgAdmin,
        ViewCaseIndex | BreakGlass => role == NodeAdmin,
        ViewFederation => matches!(role, NodeAdmin | Auditor),
        ManageFederation => role == NodeAdmin,
        ViewDirectory => true,
        EditDirectory => matches!(role, NodeAdmin | OrgAdmin),
        ViewReferrals => matches!(role, NodeAdmin | OrgAdmin | Caseworker),
        SendReferral | AnswerReferral => matches!(role, OrgAdmin | Caseworker),
        ApproveReferral => role == OrgAdmin,
        AssignReferral => role == NodeAdmin,
        ViewStatistics => matches!(role, NodeAdmin | Analyst | OrgAdmin),
        PublishStatistics => role == NodeAdmin,
        ViewHub => matches!(role, NodeAdmin | HubViewer),
        ManageLegalHold | ErasePerson => role == OrgAdmin,
        ViewRetention => matches!(role, NodeAdmin | Auditor),
    }
}

/// The authenticated user a request acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub org_id: Option<Uuid>,
}

impl Actor {
    pub fn can(&self, action: Action) -> bool {
        role_allows(self.role, action)
    }

    /// `Ok` when the role allows `action`, else a `Forbidden` error naming it.
    pub fn authorize(&self, action: Action) -> Result<(), AppError> {
        if self.can(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(action))
        }
    }

    /// Whether this actor may act on something that belongs to `org` (`None`: node-level).
    pub fn in_scope(&self, org: Option<Uuid>) -> bool {
        self.role.is_node_wide() || (org.is_some() && org == self.org_id)
    }

    /// Whether this actor may create or change a user with `role` in `org`.
    pub fn may_manage(&self, role: Role, org: Option<Uuid>) -> bool {
        if !self.can(Action::ManageUsers) {
            return false;
        }
        if role.is_node_wide() || org.is_none() {
            return self.can(Action::AssignNodeRoles);
        }
        self.in_scope(org)
    }

    /// The roles this actor may give on a country node.
    pub fn assignable_roles(&self) -> Vec<Role> {
        Role::NODE
            .into_iter()
            .filter(|r| {
                self.may_manage(
                    *r,
                    if r.is_node_wide() {
                        None
                    } else {
                        self.org_id.or(Some(Uuid::nil()))
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: Option<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::now_v7(),
            username: "x".into(),
            role,
            org_id: org,
        }
    }

    #[test]
    fn org_admin_manages_only_org_roles_in_own_org() {
        let org = Uuid::now_v7();
        let other = Uuid::now_v7();
        let a = actor(Role::OrgAdmin, Some(org));
        assert!(a.may_manage(Role::Caseworker, Some(org)));
        assert!(a.may_manage(Role::OrgAdmin, Some(org)));
        assert!(!a.may_manage(Role::Caseworker, Some(other)));
        assert!(!a.may_manage(Role::NodeAdmin, Some(org)));
        assert!(!a.may_manage(Role::Auditor, None));
        assert_eq!(a.assignable_roles(), vec![Role::OrgAdmin, Role::Caseworker]);
    }

    #[test]
    fn node_admin_manages_everyone_and_caseworker_no_one() {
        let n = actor(Role::NodeAdmin, None);
        assert!(n.may_manage(Role::NodeAdmin, None));
        assert!(n.may_manage(Role::Caseworker, Some(Uuid::now_v7())));
        assert_eq!(n.assignable_roles().len(), 5);
        let c = actor(Role::Caseworker, Some(Uuid::now_v7()));
        assert!(!c.may_manage(Role::Caseworker, c.org_id));
        assert!(c.assignable_roles().is_empty());
    }

    #[test]
    fn everyone_sees_the_directory_and_only_administrators_edit_it() {
        for r in Role::ALL {
            assert!(role_allows(r, Action::ViewDirectory), "{r}");
            assert_eq!(
                role_allows(r, Action::EditDirectory),
                matches!(r, Role::NodeAdmin | Role::OrgAdmin),
                "{r}"
            );
        }
    }

    #[test]
    fn statistics_are_for_administrators_and_analysts_only() {
        for r in Role::ALL {
            assert_eq!(
                role_allows(r, Action::ViewStatistics),
                matches!(r, Role::NodeAdmin | Role::Analyst | Role::OrgAdmin),
                "{r}"
            );
        }
        assert!(Action::ALL.contains(&Action::ViewStatistics));
        assert_eq!(Action::ViewStatistics.code(), "view_statistics");
    }

    #[test]
    fn every_role_code_round_trips() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
