//! HTCDS rows: the columns Puente reads (HTCDS 2.0 field names, their labels, and a few
//! Puente extension columns prefixed `pte_` for what HTCDS does not carry), and how one row
//! becomes a person, a case and its consent. Shared by the CSV and the Excel readers, which
//! both hand over a [`Grid`] of text cells.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use puente_common::case::{
    CaseRecord, ConsentRecord, Contact, IdDocument, Identity, Issue, PersonRecord, RouteEvent,
    TraffickingProcess,
};
use puente_common::vocab::codes::{
    CaseStatus, ClosureReason, ConsentGivenBy, ConsentScope, ControlMethod, Education,
    ExploitationType, Gender, IntakeChannel, MaritalStatus, Means, MigrantType, MigrationContext,
    ProtectionStatus, RecruiterRelation, RecruitmentMethod, RouteEventKind, SexualExploitationType,
    StatusDecidedBy, TraffickingAct, TraffickingStatus,
};
use puente_common::vocab::geo::fold;
use puente_common::vocab::Coded;

use super::values;
use super::{ImportRow, Parsed, RowProblem};

/// A column Puente reads. `Ignored` columns are known HTCDS fields that Puente does not
/// store (organisation, perpetrator and support-plan fields, free-text details): accepted,
/// never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Col {
    FirstName,
    MiddleName,
    SecondName,
    Birthdate,
    Gender,
    MaritalStatus,
    NumberOfChildren,
    PrimaryLanguage,
    SecondaryLanguage,
    Education,
    Citizenship,
    IdentityNumber,
    Email,
    HomePhone,
    MobilePhone,
    MailingStreet,
    MailingCity,
    MailingState,
    MailingPostalCode,
    MailingCountry,
    Consent,
    Agreement,
    TraffickingStatus,
    StatusDecidedBy,
    RelationshipToTrafficker,
    AgeWhenTrafficked,
    MethodOfRecruitment,
    LocationOfRecruitment,
    MethodsOfControl,
    TypeOfExploitation,
    ForcedLabourIndustry,
    TypeOfSexExploitation,
    LocationOfExploitation,
    Status,
    ReasonForCaseClosure,
    ReferringOrganisation,
    IncomingReferralDate,
    OutgoingReferralDate,
    CaseComment,
    HteType,
    HteCountry,
    HteState,
    HteDate,
    CreatedDate,
    IntakeChannel,
    IdentificationDate,
    Location,
    CountryOfBirth,
    MigrantType,
    ProtectionStatus,
    MigrationContext,
    Acts,
    Means,
    RecruiterRelation,
    ExploitationStart,
    ExploitationEnd,
    DocumentType,
    DocumentCountry,
    OtherContact,
    ConsentGivenBy,
    GuardianName,
    Ignored,
}

/// Whether a cell's value may be repeated in a problem report: coded, date and number
/// cells may; names, documents, contacts, addresses and free text never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Coded,
    Secret,
}

pub(crate) struct ColDef {
    pub col: Col,
    /// The field name as Puente writes it.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// Other spellings met in the wild (IOM's template typo, CTDC's registration year).
    pub aliases: &'static [&'static str],
}

const fn c(col: Col, name: &'static str, label: &'static str, kind: Kind) -> ColDef {
    ColDef {
        col,
        name,
        label,
        kind,
        aliases: &[],
    }
}

const fn ca(
    col: Col,
    name: &'static str,
    label: &'static str,
    kind: Kind,
    aliases: &'static [&'static str],
) -> ColDef {
    ColDef {
        col,
        name,
        label,
        kind,
        aliases,
    }
}

use Kind::{Coded as K, Secret as S};

/// Every column Puente knows, HTCDS 2.0 (Field_Standards.csv) first, then the extensions.
/// Matching ignores case, spaces and punctuation, and accepts the field name with or
/// without its prefix, or its label; the first match wins (so `Status` is `cas_Status`).
#[rustfmt::skip]
pub(crate) static COLUMNS: &[ColDef] = &[
    c(Col::FirstName, "prs_FirstName", "First Name", S),
    c(Col::MiddleName, "prs_MiddleName", "Middle Name", S),
    c(Col::SecondName, "prs_SecondName", "Second Name", S),
    c(Col::Birthdate, "prs_Birthdate", "Birthdate", K),
    c(Col::Gender, "prs_Gender", "Gender", K),
    c(Col::MaritalStatus, "prs_MaritalStatus", "Marital Status", K),
    c(Col::NumberOfChildren, "prs_NumberOfChildren", "Number of Children", K),
    c(Col::PrimaryLanguage, "prs_PrimaryLanguage", "Primary Language", K),
    c(Col::SecondaryLanguage, "prs_SecondaryLanguage", "Secondary Language", K),
    c(Col::Education, "prs_HighestLevelOfEducation", "Highest Level of Education", K),
    c(Col::Citizenship, "prs_Citizenship", "Citizenship", K),
    c(Col::IdentityNumber, "prs_IdentityNumber", "Identity Number", S),
    c(Col::Email, "prs_Email", "Email", S),
    c(Col::HomePhone, "prs_HomePhone", "Home Phone", S),
    c(Col::MobilePhone, "prs_MobilePhone", "Mobile Phone", S),
    c(Col::MailingStreet, "prs_MailingStreet", "Mailing Street", S),
    c(Col::MailingCity, "prs_MailingCity", "Mailing City", S),
    c(Col::MailingState, "prs_MailingState", "Mailing State/Province", S),
    c(Col::MailingPostalCode, "prs_MailingPostalCode", "Mailing Zip/Postal Code", S),
    c(Col::MailingCountry, "prs_MailingCountry", "Mailing Country", S),
    c(Col::Ignored, "prs_MailingLongitude", "Mailing Longitude", S),
    c(Col::Ignored, "prs_MailingLatitude", "Mailing Latitude", S),
    c(Col::Ignored, "prs_Salutation", "Salutation", S),
    c(Col::Ignored, "prs_Title", "Title", S),
    c(Col::Ignored, "prs_Deceased", "Deceased", K),
    c(Col::Consent, "con_Consent", "Consent", K),
    c(Col::Agreement, "vic_AgreementToManagePersonalData", "Agreement to Manage Personal Data", K),
    c(Col::TraffickingStatus, "vic_TraffickingStatus", "Trafficking Status", K),
    ca(Col::StatusDecidedBy, "vic_TraffickingStatusDecisionMakingOrg",
        "Trafficking Status Decision Making Organization", K,
        &["vic_TraffickinStatusDecisionMakingOrg"]),
    c(Col::RelationshipToTrafficker, "vic_RelationshipToTrafficker", "Relationship to Trafficker", K),
    c(Col::AgeWhenTrafficked, "vic_AgeWhenTrafficked", "Age when Trafficked", K),
    c(Col::Ignored, "vic_RecruitmentWebsitesAndApps", "Recruitment Websites and Apps", K),
    c(Col::MethodOfRecruitment, "vic_MethodOfRecruitment", "Method of Recruitment", K),
    c(Col::LocationOfRecruitment, "vic_LocationOfRecruitment", "Location of Recruitment", S),
    c(Col::MethodsOfControl, "vic_MethodsOfControl", "Methods of Control", K),
    c(Col::TypeOfExploitation, "vic_TypeOfExploitation", "Type of Exploitation", K),
    c(Col::ForcedLabourIndustry, "vic_ForcedLabourIndustry", "Forced Labour Industry", K),
    c(Col::TypeOfSexExploitation, "vic_TypeOfSexExploitation", "Type of Sex Exploitation", K),
    c(Col::LocationOfExploitation, "vic_LocationOfExploitation", "Location of Exploitation", S),
    c(Col::Ignored, "vic_ExploitationWebsitesAndApps", "Exploitation Websites and Apps", K),
    c(Col::Ignored, "vic_Vulnerabilities", "Vulnerabilities", K),
    c(Col::Ignored, "vic_DetailsOfVulnerabilities", "Details Of Vulnerabilities", S),
    c(Col::Ignored, "per_RoleInProcess", "Role in Process", K),
    c(Col::Ignored, "per_RoleDetails", "Role Details", S),
    c(Col::Status, "cas_Status", "Status", K),
    c(Col::ReasonForCaseClosure, "cas_ReasonForCaseClosure", "Reason for Case Closure", S),
    c(Col::Ignored, "cas_CaseOwner", "Case Owner", S),
    c(Col::ReferringOrganisation, "cas_ReferringOrganisation", "Referring Organisation", S),
    c(Col::IncomingReferralDate, "cas_IncomingReferralDate", "Incoming Referral Date", K),
    c(Col::Ignored, "cas_ReferringPrimaryCaseWorker", "Referring Primary Case Worker", S),
    c(Col::Ignored, "cas_ReasonForIncomingReferral", "Reason for Incoming Referral", K),
    c(Col::Ignored, "cas_IncomingReferralDetails", "Incoming Referral Details", S),
    c(Col::Ignored, "cas_ReferredOrganisation", "Referred Organisation", S),
    c(Col::Ignored, "cas_ReferredPrimaryCaseWorker", "Referred Primary Case Worker", S),
    c(Col::Ignored, "cas_ReasonForOutgoingReferral", "Reason for Outgoing Referral", K),
    c(Col::OutgoingReferralDate, "cas_OutgoingReferralDate", "Outgoing Referral Date", K),
    c(Col::Ignored, "cas_OutgoingReferralDetails", "Outgoing Referral Details", S),
    c(Col::CaseComment, "cco_CaseComment", "Case Comment", S),
    c(Col::HteType, "hte_Type", "Historic Trafficking Event Type", K),
    c(Col::HteCountry, "hte_Country", "Historic Trafficking Event Country", K),
    c(Col::HteState, "hte_State", "Historic Trafficking Event State", K),
    c(Col::HteDate, "hte_Date", "Historic Trafficking Event Date", K),
    c(Col::Ignored, "hte_City", "Historic Trafficking Event City", S),
    c(Col::Ignored, "hte_Street", "Historic Trafficking Event Street", S),
    c(Col::Ignored, "hte_PostalCode", "Historic Trafficking Event PostalCode", S),
    c(Col::Ignored, "hte_Longitude", "Historic Trafficking Event Longitude", S),
    c(Col::Ignored, "hte_Latitude", "Historic Trafficking Event Latitude", S),
    c(Col::Ignored, "hte_Description", "Historic Trafficking Event Description", S),
    c(Col::Ignored, "org_Name", "Organisation Name", S),
    c(Col::Ignored, "org_Type", "Organisation Type", K),
    c(Col::Ignored, "org_ShippingCity", "Shipping City", S),
    c(Col::Ignored, "org_ShippingCountry", "Shipping Country", S),
    c(Col::Ignored, "org_ShippingState", "Shipping State/Province", S),
    c(Col::Ignored, "org_ShippingStreet", "Shipping Street", S),
    c(Col::Ignored, "org_ShippingPostalCode", "Shipping Zip/Postal Code", S),
    c(Col::Ignored, "org_ShippingLongitude", "Shipping Longitude", S),
    c(Col::Ignored, "org_ShippingLatitude", "Shipping Latitude", S),
    c(Col::Ignored, "org_Phone", "Organisation Phone", S),
    c(Col::Ignored, "spl_Objectives", "Objectives", S),
    c(Col::Ignored, "spl_ActionPlan", "Action Plan", S),
    c(Col::Ignored, "spl_PlannedEndDate", "Planned End Date", K),
    c(Col::Ignored, "spl_ActualEndDate", "Actual End Date", K),
    c(Col::Ignored, "spl_Type", "Support Plan Type", K),
    // Extensions. The registration date is Salesforce's standard Case field `CreatedDate`,
    // which HTCDS (a Salesforce data model) inherits without listing it.
    ca(Col::CreatedDate, "cas_CreatedDate", "Created Date", K,
        &["registration_date", "Registration Date", "yearOfRegistration", "Fecha de registro"]),
    c(Col::IntakeChannel, "pte_IntakeChannel", "Intake Channel", K),
    c(Col::IdentificationDate, "pte_IdentificationDate", "Identification Date", K),
    c(Col::Location, "pte_Location", "Case Location", K),
    c(Col::CountryOfBirth, "pte_CountryOfBirth", "Country of Birth", K),
    c(Col::MigrantType, "pte_MigrantType", "Migrant Type", K),
    c(Col::ProtectionStatus, "pte_ProtectionStatus", "Protection Status", K),
    c(Col::MigrationContext, "pte_MigrationContext", "Migration Context", K),
    c(Col::Acts, "pte_Acts", "Acts", K),
    c(Col::Means, "pte_Means", "Means", K),
    c(Col::RecruiterRelation, "pte_RecruiterRelation", "Relation to Recruiter", K),
    c(Col::ExploitationStart, "pte_ExploitationStart", "Exploitation Start", K),
    c(Col::ExploitationEnd, "pte_ExploitationEnd", "Exploitation End", K),
    c(Col::DocumentType, "pte_IdentityDocumentType", "Identity Document Type", S),
    c(Col::DocumentCountry, "pte_IdentityDocumentCountry", "Identity Document Country", K),
    c(Col::OtherContact, "pte_OtherContact", "Other Contact", S),
    c(Col::ConsentGivenBy, "pte_ConsentGivenBy", "Consent Given By", K),
    c(Col::GuardianName, "pte_GuardianName", "Guardian Name", S),
];

fn def(col: Col) -> Option<&'static ColDef> {
    COLUMNS.iter().find(|d| d.col == col)
}

/// The canonical name of a column (for problems about a column the file lacks).
pub(crate) fn name_of(col: Col) -> &'static str {
    def(col).map_or("", |d| d.name)
}

/// The column a header names, if any.
pub(crate) fn resolve(header: &str) -> Option<&'static ColDef> {
    let q = fold(header);
    if q.is_empty() {
        return None;
    }
    COLUMNS.iter().find(|d| {
        let bare = d.name.split_once('_').map_or(d.name, |(_, b)| b);
        fold(d.name) == q
            || fold(bare) == q
            || fold(d.label) == q
            || d.aliases.iter().any(|a| fold(a) == q)
    })
}

/// Text cells as read from a file: the header row (its line number and the headers as the
/// file spells them) and the data rows with their line numbers.
pub(crate) struct Grid {
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Where each known column is in the file.
struct Layout<'a> {
    cols: HashMap<Col, (usize, &'a str)>,
}

impl Layout<'_> {
    fn header(&self, col: Col) -> String {
        self.cols
            .get(&col)
            .map_or_else(|| name_of(col).to_owned(), |(_, h)| (*h).to_owned())
    }
}

/// Reads every row of an HTCDS grid.
pub(crate) fn parse_grid(grid: &Grid, today: NaiveDate) -> Parsed {
    let mut parsed = Parsed::default();
    let mut cols = HashMap::new();
    for (i, h) in grid.headers.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match resolve(h) {
            None => parsed.problems.push(RowProblem {
                line: grid.header_line,
                column: h.clone(),
                code: "unknown_column",
                value: None,
            }),
            Some(d) if d.col == Col::Ignored => {}
            Some(d) => {
                if cols.insert(d.col, (i, h.as_str())).is_some() {
                    parsed.problems.push(RowProblem {
                        line: grid.header_line,
                        column: h.clone(),
                        code: "duplicate_column",
                        value: None,
                    });
                }
            }
        }
    }
    let layout = Layout { cols };
    for (line, cells) in &grid.rows {
        let mut row = Row {
            line: *line,
            cells,
            layout: &layout,
            problems: Vec::new(),
        };
        let blank = layout
            .cols
            .values()
            .all(|(i, _)| cells.get(*i).is_none_or(|c| c.trim().is_empty()));
        if blank {
            continue;
        }
        let built = row.build(today);
        if row.problems.is_empty() {
            if let Some(r) = built {
                parsed.rows.push(r);
            }
        } else {
            parsed.problems.append(&mut row.problems);
        }
    }
    parsed
}

/// One row being read, collecting its problems.
struct Row<'a> {
    line: usize,
    cells: &'a [String],
    layout: &'a Layout<'a>,
    problems: Vec<RowProblem>,
}

impl<'a> Row<'a> {
    fn get(&self, col: Col) -> Option<&'a str> {
        let (i, _) = self.layout.cols.get(&col)?;
        let cells: &'a [String] = self.cells;
        let v = cells.get(*i)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn problem(&mut self, col: Col, code: &'static str, value: Option<&str>) {
        let kind = def(col).map_or(Kind::Secret, |d| d.kind);
        let p = RowProblem {
            line: self.line,
            column: self.layout.header(col),
            code,
            value: value.filter(|_| kind == Kind::Coded).map(str::to_owned),
        };
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn one<T: Coded>(&mut self, col: Col) -> Option<T> {
        let v = self.get(col)?;
        let got = values::coded::<T>(v);
        if got.is_none() {
            self.problem(col, "unknown_code", Some(v));
        }
        got
    }

    fn set<T: Coded + Ord>(&mut self, col: Col) -> BTreeSet<T> {
        let mut out = BTreeSet::new();
        let Some(v) = self.get(col) else {
            return out;
        };
        for part in values::split_multi(v) {
            match values::coded::<T>(part) {
                Some(x) => {
                    out.insert(x);
                }
                None => self.problem(col, "unknown_code", Some(part)),
            }
        }
        out
    }

    fn date(&mut self, col: Col) -> Option<NaiveDate> {
        let v = self.get(col)?;
        let got = values::date(v);
        if got.is_none() {
            self.problem(col, "invalid_date", Some(v));
        }
        got
    }

    fn partial(&mut self, col: Col) -> Option<puente_common::case::PartialDate> {
        let v = self.get(col)?;
        let got = values::partial_date(v);
        if got.is_none() {
            self.problem(col, "invalid_date", Some(v));
        }
        got
    }

    fn number<T: std::str::FromStr>(&mut self, col: Col) -> Option<T> {
        let v = self.get(col)?;
        let got = values::number::<T>(v);
        if got.is_none() {
            self.problem(col, "invalid_number", Some(v));
        }
        got
    }

    fn country(&mut self, col: Col) -> Option<puente_common::CountryCode> {
        let v = self.get(col)?;
        let got = values::country(v);
        if got.is_none() {
            self.problem(col, "unknown_country", Some(v));
        }
        got
    }

    fn flag(&mut self, col: Col) -> bool {
        let Some(v) = self.get(col) else {
            return false;
        };
        let got = values::flag(v);
        if got.is_none() {
            self.problem(col, "invalid_flag", Some(v));
        }
        got.unwrap_or(false)
    }

    fn text(&self, col: Col) -> String {
        self.get(col).unwrap_or_default().to_owned()
    }

    fn build(&mut self, today: NaiveDate) -> Option<ImportRow> {
        let (person, contact_cols) = self.person();
        let (case, registered, registration_col) = self.case(today);
        let consents = self.consents(&case);
        let mut issues: Vec<(Issue, Col)> = Vec::new();
        for i in person.check(today) {
            let col = person_issue_col(&i.field, &contact_cols);
            issues.push((i, col));
        }
        for i in case.check(today) {
            let col = case_issue_col(&i.field, registration_col);
            issues.push((i, col));
        }
        for consent in &consents {
            let age = person.age_on(consent.given_on);
            for i in consent.check(age, today) {
                let col = match i.field.as_str() {
                    "guardian_name" => Col::GuardianName,
                    _ => Col::Consent,
                };
                issues.push((i, col));
            }
        }
        for (issue, col) in issues {
            let value = self.get(col).map(str::to_owned);
            self.problem(col, issue.code, value.as_deref());
        }
        registered?;
        Some(ImportRow {
            line: self.line,
            person,
            case,
            consents,
            ctdc: None,
        })
    }

    fn person(&mut self) -> (PersonRecord, Vec<Col>) {
        let given = [self.get(Col::FirstName), self.get(Col::MiddleName)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let address = [
            Col::MailingStreet,
            Col::MailingCity,
            Col::MailingState,
            Col::MailingPostalCode,
            Col::MailingCountry,
        ]
        .into_iter()
        .filter_map(|c| self.get(c))
        .collect::<Vec<_>>()
        .join(", ");
        let mut documents = Vec::new();
        let numbers = values::split_parallel(self.get(Col::IdentityNumber).unwrap_or(""));
        let kinds = values::split_parallel(self.get(Col::DocumentType).unwrap_or(""));
        let countries = values::split_parallel(self.get(Col::DocumentCountry).unwrap_or(""));
        for (i, number) in numbers.iter().enumerate() {
            let country = match countries.get(i).filter(|c| !c.is_empty()) {
                Some(c) => {
                    let got = values::country(c);
                    if got.is_none() {
                        self.problem(Col::DocumentCountry, "unknown_country", Some(c));
                    }
                    got
                }
                None => None,
            };
            documents.push(IdDocument {
                kind: kinds.get(i).copied().unwrap_or_default().to_owned(),
                number: (*number).to_owned(),
                country,
            });
        }
        let mut contacts = Vec::new();
        let mut contact_cols = Vec::new();
        for (col, kind) in [
            (Col::Email, "email"),
            (Col::HomePhone, "phone"),
            (Col::MobilePhone, "phone"),
        ] {
            for v in values::split_parallel(self.get(col).unwrap_or("")) {
                if !v.is_empty() {
                    contacts.push(Contact {
                        kind: kind.to_owned(),
                        value: v.to_owned(),
                    });
                    contact_cols.push(col);
                }
            }
        }
        for v in values::split_parallel(self.get(Col::OtherContact).unwrap_or("")) {
            if v.is_empty() {
                continue;
            }
            let (kind, value) = v.split_once(':').unwrap_or(("other", v));
            contacts.push(Contact {
                kind: kind.trim().to_owned(),
                value: value.trim().to_owned(),
            });
            contact_cols.push(Col::OtherContact);
        }
        let mut citizenship = BTreeSet::new();
        if let Some(v) = self.get(Col::Citizenship) {
            for got in values::countries(v) {
                match got {
                    Ok(c) => {
                        citizenship.insert(c);
                    }
                    Err(bad) => self.problem(Col::Citizenship, "unknown_country", Some(&bad)),
                }
            }
        }
        let mut languages = Vec::new();
        for col in [Col::PrimaryLanguage, Col::SecondaryLanguage] {
            let Some(v) = self.get(col) else { continue };
            for part in values::split_multi(v) {
                match values::language(part) {
                    Some(l) if !languages.contains(&l) => languages.push(l),
                    Some(_) => {}
                    None => self.problem(col, "unknown_language", Some(part)),
                }
            }
        }
        let person = PersonRecord {
            identity: Identity {
                given_names: given,
                family_names: self.text(Col::SecondName),
                birth_date: self.date(Col::Birthdate),
                documents,
                contacts,
                address,
            },
            gender: self.one::<Gender>(Col::Gender),
            citizenship,
            country_of_birth: self.country(Col::CountryOfBirth),
            languages,
            marital_status: self.one::<MaritalStatus>(Col::MaritalStatus),
            number_of_children: self.number(Col::NumberOfChildren),
            education: self.one::<Education>(Col::Education),
            migrant_type: self.one::<MigrantType>(Col::MigrantType),
            protection_status: self.one::<ProtectionStatus>(Col::ProtectionStatus),
            migration_context: self.set::<MigrationContext>(Col::MigrationContext),
        };
        (person, contact_cols)
    }

    fn case(&mut self, today: NaiveDate) -> (CaseRecord, Option<NaiveDate>, Col) {
        let created = self
            .get(Col::CreatedDate)
            .map(|v| (v, values::date_or_year(v)));
        let incoming = self.date(Col::IncomingReferralDate);
        let outgoing = self.date(Col::OutgoingReferralDate);
        if let (Some(i), Some(o)) = (incoming, outgoing) {
            if o < i {
                let v = self.get(Col::OutgoingReferralDate).map(str::to_owned);
                self.problem(Col::OutgoingReferralDate, "end_before_start", v.as_deref());
            }
        }
        let (registration, registration_col) = match created {
            Some((_, Some(d))) => (Some(d), Col::CreatedDate),
            Some((v, None)) => {
                let v = v.to_owned();
                self.problem(Col::CreatedDate, "invalid_date", Some(&v));
                (None, Col::CreatedDate)
            }
            None => match incoming {
                Some(d) => (Some(d), Col::IncomingReferralDate),
                None => {
                    if self.get(Col::IncomingReferralDate).is_none() {
                        self.problem(Col::CreatedDate, "required", None);
                    }
                    (None, Col::CreatedDate)
                }
            },
        };
        let referred = self.get(Col::ReferringOrganisation).is_some() || incoming.is_some();
        let intake = self
            .one::<IntakeChannel>(Col::IntakeChannel)
            .unwrap_or(if referred {
                IntakeChannel::ReferralIn
            } else {
                IntakeChannel::CaseManagement
            });
        let closure_reason = self
            .get(Col::ReasonForCaseClosure)
            .map(|v| values::coded::<ClosureReason>(v).unwrap_or(ClosureReason::Other));
        let relation = self
            .one::<RecruiterRelation>(Col::RecruiterRelation)
            .or_else(|| self.one::<RecruiterRelation>(Col::RelationshipToTrafficker));
        let industry = self.get(Col::ForcedLabourIndustry).and_then(|v| {
            let got = values::industry(v);
            if got.is_none() {
                let v = v.to_owned();
                self.problem(Col::ForcedLabourIndustry, "unknown_code", Some(&v));
            }
            got
        });
        let process = TraffickingProcess {
            acts: self.set::<TraffickingAct>(Col::Acts),
            means: self.set::<Means>(Col::Means),
            control_methods: self.set::<ControlMethod>(Col::MethodsOfControl),
            exploitation_types: self.set::<ExploitationType>(Col::TypeOfExploitation),
            sexual_exploitation_types: self
                .set::<SexualExploitationType>(Col::TypeOfSexExploitation),
            recruitment_methods: self.set::<RecruitmentMethod>(Col::MethodOfRecruitment),
            recruiter_relation: relation,
            forced_labour_industry: industry,
            age_when_trafficked: self.number(Col::AgeWhenTrafficked),
            exploitation_start: self.partial(Col::ExploitationStart),
            exploitation_end: self.partial(Col::ExploitationEnd),
            // HTCDS has these as free-text locations; a cell that names a country is read as
            // the country, any other text (a town, a place) is not kept.
            country_of_recruitment: self
                .get(Col::LocationOfRecruitment)
                .and_then(values::country),
            country_of_exploitation: self
                .get(Col::LocationOfExploitation)
                .and_then(values::country),
            route: self.route(),
            perpetrators: Vec::new(),
        };
        let status = self
            .one::<CaseStatus>(Col::Status)
            .unwrap_or(CaseStatus::Active);
        let case = CaseRecord {
            intake_channel: intake,
            // Without a registration date the row is refused; today stands in so that the
            // other checks still run and report.
            registration_date: registration.unwrap_or(today),
            identification_date: self.date(Col::IdentificationDate),
            status,
            closure_reason,
            trafficking_status: self.one::<TraffickingStatus>(Col::TraffickingStatus),
            status_decided_by: self.one::<StatusDecidedBy>(Col::StatusDecidedBy),
            location: self.get(Col::Location).map(str::to_ascii_uppercase),
            process,
            narrative: self.text(Col::CaseComment),
        };
        (case, registration, registration_col)
    }

    fn route(&mut self) -> Vec<RouteEvent> {
        let kinds = values::split_parallel(self.get(Col::HteType).unwrap_or(""));
        let countries = values::split_parallel(self.get(Col::HteCountry).unwrap_or(""));
        let states = values::split_parallel(self.get(Col::HteState).unwrap_or(""));
        let dates = values::split_parallel(self.get(Col::HteDate).unwrap_or(""));
        let n = kinds.len().max(countries.len());
        let mut route = Vec::new();
        for i in 0..n {
            let kind = kinds.get(i).copied().unwrap_or_default();
            let country = countries.get(i).copied().unwrap_or_default();
            let kind = match values::coded::<RouteEventKind>(kind) {
                Some(k) => Some(k),
                None => {
                    let code = if kind.is_empty() {
                        "required"
                    } else {
                        "unknown_code"
                    };
                    self.problem(Col::HteType, code, Some(kind).filter(|k| !k.is_empty()));
                    None
                }
            };
            let country = match values::country(country) {
                Some(c) => Some(c),
                None => {
                    let code = if country.is_empty() {
                        "required"
                    } else {
                        "unknown_country"
                    };
                    self.problem(
                        Col::HteCountry,
                        code,
                        Some(country).filter(|c| !c.is_empty()),
                    );
                    None
                }
            };
            let date = match dates.get(i).filter(|d| !d.is_empty()) {
                Some(d) => {
                    let got = values::partial_date(d);
                    if got.is_none() {
                        self.problem(Col::HteDate, "invalid_date", Some(d));
                    }
                    got
                }
                None => None,
            };
            let subdivision = states
                .get(i)
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_uppercase());
            if let (Some(kind), Some(country)) = (kind, country) {
                route.push(RouteEvent {
                    kind,
                    country,
                    subdivision,
                    date,
                });
            }
        }
        route
    }

    fn consents(&mut self, case: &CaseRecord) -> Vec<ConsentRecord> {
        let consent = self.flag(Col::Consent) | self.flag(Col::Agreement);
        let given_by = self.one::<ConsentGivenBy>(Col::ConsentGivenBy);
        if !consent {
            return Vec::new();
        }
        // HTCDS has one check box and no date: it is read as the case-management consent,
        // given on the registration date.
        vec![ConsentRecord {
            scope: ConsentScope::CaseManagement,
            given_by: given_by.unwrap_or(ConsentGivenBy::Person),
            guardian_name: self.text(Col::GuardianName),
            given_on: case.registration_date,
            expires_on: None,
            destination_country: None,
            destination_org: String::new(),
            field_groups: BTreeSet::new(),
            evidence_ref: String::new(),
        }]
    }
}

fn person_issue_col(field: &str, contact_cols: &[Col]) -> Col {
    let mut parts = field.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("identity"), Some("given_names"), ..) => Col::FirstName,
        (Some("identity"), Some("family_names"), ..) => Col::SecondName,
        (Some("identity"), Some("birth_date"), ..) => Col::Birthdate,
        (Some("identity"), Some("address"), ..) => Col::MailingStreet,
        (Some("identity"), Some("documents"), _, Some("kind")) => Col::DocumentType,
        (Some("identity"), Some("documents"), _, Some("country")) => Col::DocumentCountry,
        (Some("identity"), Some("documents"), ..) => Col::IdentityNumber,
        (Some("identity"), Some("contacts"), Some(i), _) => i
            .parse::<usize>()
            .ok()
            .and_then(|i| contact_cols.get(i).copied())
            .unwrap_or(Col::OtherContact),
        (Some("citizenship"), ..) => Col::Citizenship,
        (Some("country_of_birth"), ..) => Col::CountryOfBirth,
        (Some("languages"), ..) => Col::PrimaryLanguage,
        (Some("number_of_children"), ..) => Col::NumberOfChildren,
        _ => Col::FirstName,
    }
}

fn case_issue_col(field: &str, registration_col: Col) -> Col {
    match field {
        "registration_date" => registration_col,
        "identification_date" => Col::IdentificationDate,
        "closure_reason" => Col::ReasonForCaseClosure,
        "trafficking_status" => Col::TraffickingStatus,
        "location" => Col::Location,
        "narrative" => Col::CaseComment,
        "process.exploitation_start" => Col::ExploitationStart,
        "process.exploitation_end" => Col::ExploitationEnd,
        "process.sexual_exploitation_types" => Col::TypeOfSexExploitation,
        "process.forced_labour_industry" => Col::ForcedLabourIndustry,
        "process.age_when_trafficked" => Col::AgeWhenTrafficked,
        "process.country_of_recruitment" => Col::LocationOfRecruitment,
        "process.country_of_exploitation" => Col::LocationOfExploitation,
        f if f.starts_with("process.route.") && f.ends_with(".subdivision") => Col::HteState,
        f if f.starts_with("process.route.") && f.ends_with(".date") => Col::HteDate,
        f if f.starts_with("process.route.") => Col::HteCountry,
        _ => Col::Status,
    }
}
