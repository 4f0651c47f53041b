//! Organisation types (HTCDS `org_Type`, plus `INTERNATIONAL_ORG`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of organisation a tenant of a node is. Codes are stable; labels live in the
/// translation catalogues (`org-type-<CODE>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgType {
    Ngo,
    LawEnforcement,
    HealthService,
    CentralGovernment,
    LocalGovernment,
    ImmigrationService,
    LegalService,
    CorporateBusiness,
    SchoolOrCollege,
    InternationalOrg,
}

/// Why a string is not an organisation type code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown organisation type {0:?}")]
pub struct InvalidOrgType(pub String);

impl OrgType {
    /// Every type, in the order forms list them.
    pub const ALL: [OrgType; 10] = [
        OrgType::Ngo,
        OrgType::LawEnforcement,
        OrgType::HealthService,
        OrgType::CentralGovernment,
        OrgType::LocalGovernment,
        OrgType::ImmigrationService,
        OrgType::LegalService,
        OrgType::CorporateBusiness,
        OrgType::SchoolOrCollege,
        OrgType::InternationalOrg,
    ];

    /// The stable code, e.g. `NGO`.
    pub fn code(self) -> &'static str {
        match self {
            OrgType::Ngo => "NGO",
            OrgType::LawEnforcement => "LAW_ENFORCEMENT",
            OrgType::HealthService => "HEALTH_SERVICE",
            OrgType::CentralGovernment => "CENTRAL_GOVERNMENT",
            OrgType::LocalGovernment => "LOCAL_GOVERNMENT",
            OrgType::ImmigrationService => "IMMIGRATION_SERVICE",
            OrgType::LegalService => "LEGAL_SERVICE",
            OrgType::CorporateBusiness => "CORPORATE_BUSINESS",
            OrgType::SchoolOrCollege => "SCHOOL_OR_COLLEGE",
            OrgType::InternationalOrg => "INTERNATIONAL_ORG",
        }
    }
}

impl FromStr for OrgType {
    type Err = InvalidOrgType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgType::ALL
            .into_iter()
            .find(|t| t.code() == s)
            .ok_or_else(|| InvalidOrgType(s.to_owned()))
    }
}

impl fmt::Display for OrgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_text_and_serde() {
        for t in OrgType::ALL {
            assert_eq!(t.code().parse::<OrgType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.code()));
        }
    }

    #[test]
    fn unknown_code_is_refused() {
        assert!("ngo".parse::<OrgType>().is_err());
        assert!("CHURCH".parse::<OrgType>().is_err());
    }
}
