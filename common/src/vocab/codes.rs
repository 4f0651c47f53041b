//! The coded fields of the case record, one enum each (DATA-STANDARD.md): the stable code that
//! Puente stores and exchanges, and the HTCDS 2.0 value name where HTCDS has the value (`None`
//! for Puente's extensions and for the fields HTCDS does not code). Labels (`code-<field>-<CODE>`)
//! and definitions (`def-<field>-<CODE>`) in Spanish and English are in the node's catalogues
//! `node/i18n/{es,en}/vocab.ftl`.
//!
//! Order within an enum is the order forms list the values. The last group, the bands, are
//! derived for aggregate releases (CTDC and UNODC GLOTIP) and never entered by hand.

use crate::vocab::Coded;

coded! {
    /// How the case came to the organisation (after the CTDC data sources). Puente's own codes.
    IntakeChannel, "intake_channel" {
        CaseManagement = "CASE_MANAGEMENT", None;
        Hotline = "HOTLINE", None;
        ReferralIn = "REFERRAL_IN", None;
        Outreach = "OUTREACH", None;
        LawEnforcementOperation = "LAW_ENFORCEMENT_OPERATION", None;
        SelfIdentified = "SELF_IDENTIFIED", None;
    }
}

coded! {
    /// The case's status (HTCDS `cas_Status`).
    CaseStatus, "case_status" {
        Active = "ACTIVE", Some("Active");
        FollowUp = "FOLLOW_UP", Some("FollowUp");
        Closed = "CLOSED", Some("Closed");
        ClosedReferred = "CLOSED_REFERRED", Some("ClosedReferred");
    }
}

coded! {
    /// Whether the person has been trafficked, as far as it is known (HTCDS
    /// `vic_TraffickingStatus`).
    TraffickingStatus, "trafficking_status" {
        PossibleVictim = "POSSIBLE_VICTIM", Some("PossibleVictimOfTrafficking");
        ActualVictim = "ACTUAL_VICTIM", Some("ActualVictimOfTrafficking");
        NotAVictim = "NOT_A_VICTIM", Some("NotAVictimOfTrafficking");
    }
}

coded! {
    /// The kind of organisation that decided the trafficking status (HTCDS
    /// `vic_TraffickingStatusDecisionMakingOrg`).
    StatusDecidedBy, "status_decided_by" {
        Police = "POLICE", Some("Police");
        Ngo = "NGO", Some("NGO");
        CourtOrProsecution = "COURT_OR_PROSECUTION", Some("CourtOrProsecution");
        NonPoliceGovernment = "NON_POLICE_GOVERNMENT", Some("NonPoliceGovernmentalOrganization");
        Other = "OTHER", Some("Other");
    }
}

coded! {
    /// The person's gender (HTCDS `prs_Gender`).
    Gender, "gender" {
        Feminine = "FEMININE", Some("Feminine");
        Masculine = "MASCULINE", Some("Masculine");
        TransgenderFeminine = "TRANSGENDER_FEMININE", Some("TransgenderFeminine");
        TransgenderMasculine = "TRANSGENDER_MASCULINE", Some("TransgenderMasculine");
        NonConforming = "NON_CONFORMING", Some("NonConforming");
        NotSpecifiedUnknown = "NOT_SPECIFIED_UNKNOWN", Some("NonSpecifiedUnknown");
    }
}

coded! {
    /// Marital status (HTCDS `prs_MaritalStatus`, plus `UNION_DE_HECHO`, the unregistered
    /// cohabiting union common in the region, and `UNKNOWN`).
    MaritalStatus, "marital_status" {
        Single = "SINGLE", Some("Single");
        Married = "MARRIED", Some("Married");
        Widowed = "WIDOWED", Some("Widowed");
        Divorced = "DIVORCED", Some("Divorced");
        Separated = "SEPARATED", Some("Separated");
        RegisteredPartnership = "REGISTERED_PARTNERSHIP", Some("RegisteredPartnership");
        UnionDeHecho = "UNION_DE_HECHO", None;
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// Highest level of education attained (HTCDS `prs_HighestLevelOfEducation`, the ISCED 2011
    /// levels), plus `NO_SCHOOLING` (never attended school, part of ISCED level 0 but distinct from
    /// early childhood education) and `UNKNOWN`.
    Education, "education" {
        NoSchooling = "NO_SCHOOLING", None;
        EarlyChildhoodEducation = "EARLY_CHILDHOOD_EDUCATION", Some("EarlyChildhoodEducation");
        PrimaryEducation = "PRIMARY_EDUCATION", Some("PrimaryEducation");
        LowerSecondaryEducation = "LOWER_SECONDARY_EDUCATION", Some("LowerSecondaryEducation");
        UpperSecondaryEducation = "UPPER_SECONDARY_EDUCATION", Some("UpperSecondaryEducation");
        PostSecondaryNonTertiaryEducation = "POST_SECONDARY_NON_TERTIARY_EDUCATION", Some("PostSecondaryNonTertiaryEducation");
        ShortCycleTertiaryEducation = "SHORT_CYCLE_TERTIARY_EDUCATION", Some("ShortCycleTertiaryEducation");
        BachelorsOrEquivalentLevel = "BACHELORS_OR_EQUIVALENT_LEVEL", Some("BachelorsOrEquivalentLevel");
        MastersOrEquivalentLevel = "MASTERS_OR_EQUIVALENT_LEVEL", Some("MastersOrEquivalentLevel");
        DoctoralOrEquivalentLevel = "DOCTORAL_OR_EQUIVALENT_LEVEL", Some("DoctoralOrEquivalentLevel");
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// Migrant type (HTCDS guidance 7, "Migration and International Protection", which gives labels
    /// but no HTCDS field or value names).
    MigrantType, "migrant_type" {
        NotAMigrant = "NOT_A_MIGRANT", None;
        Family = "FAMILY", None;
        VisitorTourist = "VISITOR_TOURIST", None;
        Labour = "LABOUR", None;
        Student = "STUDENT", None;
        Irregular = "IRREGULAR", None;
    }
}

coded! {
    /// International protection status (HTCDS guidance 7; labels only, no HTCDS value names).
    ProtectionStatus, "protection_status" {
        None = "NONE", None;
        AsylumSeeker = "ASYLUM_SEEKER", None;
        Refugee = "REFUGEE", None;
        ComplementaryProtection = "COMPLEMENTARY_PROTECTION", None;
        Stateless = "STATELESS", None;
    }
}

coded! {
    /// Other migration contexts (HTCDS guidance 7, "Other"; labels only, no HTCDS value names). A
    /// set.
    MigrationContext, "migration_context" {
        Deportee = "DEPORTEE", None;
        Returnee = "RETURNEE", None;
        SeparatedOrUnaccompaniedChild = "SEPARATED_OR_UNACCOMPANIED_CHILD", None;
        Idp = "IDP", None;
        EnvironmentalMigrant = "ENVIRONMENTAL_MIGRANT", None;
        VulnerableMigrant = "VULNERABLE_MIGRANT", None;
        StrandedMigrant = "STRANDED_MIGRANT", None;
        ForcedMigrant = "FORCED_MIGRANT", None;
        ExCombatant = "EX_COMBATANT", None;
    }
}

coded! {
    /// The acts of trafficking (Palermo Protocol art. 3(a)), plus `RETENTION` (Guatemala, Código
    /// Penal art. 202 Ter). No HTCDS field. A set.
    TraffickingAct, "act" {
        Recruitment = "RECRUITMENT", None;
        Transportation = "TRANSPORTATION", None;
        Transfer = "TRANSFER", None;
        Harbouring = "HARBOURING", None;
        Receipt = "RECEIPT", None;
        Retention = "RETENTION", None;
    }
}

coded! {
    /// The means of trafficking (Palermo Protocol art. 3(a)). No HTCDS field. A set.
    Means, "means" {
        ThreatOrUseOfForce = "THREAT_OR_USE_OF_FORCE", None;
        OtherCoercion = "OTHER_COERCION", None;
        Abduction = "ABDUCTION", None;
        Fraud = "FRAUD", None;
        Deception = "DECEPTION", None;
        AbuseOfPower = "ABUSE_OF_POWER", None;
        AbuseOfVulnerability = "ABUSE_OF_VULNERABILITY", None;
        PaymentsOrBenefits = "PAYMENTS_OR_BENEFITS", None;
    }
}

coded! {
    /// Methods of control (HTCDS `vic_MethodsOfControl`, plus `USES_CHILDREN` and
    /// `RESTRICTS_MOVEMENT`, which HTCDS defines in its field definitions but leaves out of the
    /// picklist). A set.
    ControlMethod, "control_method" {
        PhysicalThreats = "PHYSICAL_THREATS", Some("PhysicalThreats");
        ThreatsLawEnforcement = "THREATS_LAW_ENFORCEMENT", Some("ThreatsLawEnforcement");
        ThreatensChildrenFamily = "THREATENS_CHILDREN_FAMILY", Some("ThreatensChildrenFamily");
        UsesChildren = "USES_CHILDREN", None;
        DebtBondage = "DEBT_BONDAGE", Some("DebtBondage");
        TakesEarnings = "TAKES_EARNINGS", Some("TakesEarnings");
        FalsePromises = "FALSE_PROMISES", Some("FalsePromises");
        PhysicalAbuse = "PHYSICAL_ABUSE", Some("PhysicalAbuse");
        SexualAbuse = "SEXUAL_ABUSE", Some("SexualAbuse");
        PsychologicalAbuse = "PSYCHOLOGICAL_ABUSE", Some("PsychologicalAbuse");
        RestrictsFinancialAccess = "RESTRICTS_FINANCIAL_ACCESS", Some("RestrictsFinancialAccess");
        RestrictsMovement = "RESTRICTS_MOVEMENT", None;
        RestrictsMedicalCare = "RESTRICTS_MEDICAL_CARE", Some("RestrictsMedicalCare");
        WithholdsNecessities = "WITHHOLDS_NECESSITIES", Some("WithholdsNecessities");
        PsychoactiveSubstance = "PSYCHOACTIVE_SUBSTANCE", Some("PsychoactiveSubstance");
        ExcessiveWorkingHours = "EXCESSIVE_WORKING_HOURS", Some("ExcessiveWorkingHours");
        WithholdsDocuments = "WITHHOLDS_DOCUMENTS", Some("WithholdsDocuments");
        Other = "OTHER", Some("Other");
    }
}

coded! {
    /// Types of exploitation (HTCDS `vic_TypeOfExploitation`, plus the forms in Guatemala's Código
    /// Penal art. 202 Ter and Mexico's Ley General art. 10). A set.
    ExploitationType, "exploitation_type" {
        SexualExploitation = "SEXUAL_EXPLOITATION", Some("SexualExploitation");
        ForcedLabour = "FORCED_LABOUR", Some("ForcedLabour");
        ChildLabour = "CHILD_LABOUR", Some("ChildLabour");
        ForcedMarriage = "FORCED_MARRIAGE", Some("ForcedMarriage");
        Servitude = "SERVITUDE", Some("Servitude");
        Slavery = "SLAVERY", None;
        ForcedMilitaryNonState = "FORCED_MILITARY_NON_STATE", Some("ForcedMilitaryByNonStateActors");
        OrganRemoval = "ORGAN_REMOVAL", Some("OrganRemoval");
        ForcedBegging = "FORCED_BEGGING", Some("ForcedBegging");
        ForcedCriminality = "FORCED_CRIMINALITY", None;
        ForcedAdoption = "FORCED_ADOPTION", Some("ForcedAdoption");
        Surrogacy = "SURROGACY", Some("Surrogacy");
        ForcedPregnancy = "FORCED_PREGNANCY", None;
        SaleOfPersons = "SALE_OF_PERSONS", None;
        IllicitBiomedicalExperimentation = "ILLICIT_BIOMEDICAL_EXPERIMENTATION", None;
        Other = "OTHER", Some("Other");
    }
}

coded! {
    /// Types of sexual exploitation (HTCDS `vic_TypeOfSexExploitation`). A set.
    SexualExploitationType, "sexual_exploitation_type" {
        Prostitution = "PROSTITUTION", Some("Prostitution");
        Pornography = "PORNOGRAPHY", Some("Pornography");
        RemoteInteractive = "REMOTE_INTERACTIVE", Some("RemoteInteractiveServices");
        PrivateSexualServices = "PRIVATE_SEXUAL_SERVICES", Some("PrivateSexualServices");
    }
}

coded! {
    /// How the person was recruited (HTCDS `vic_MethodOfRecruitment`, plus `UNKNOWN`). A set.
    RecruitmentMethod, "recruitment_method" {
        AtAPlaceOfBusiness = "AT_A_PLACE_OF_BUSINESS", Some("AtAPlaceOfBusiness");
        AtAnEducationalInstitution = "AT_AN_EDUCATIONAL_INSTITUTION", Some("AtAnEducationalInstitution");
        AtWork = "AT_WORK", Some("AtWork");
        ThroughOnlineSocialNetworks = "THROUGH_ONLINE_SOCIAL_NETWORKS", Some("ThroughOnlineSocialNetworks");
        ThroughAnOnlineAdvertisement = "THROUGH_AN_ONLINE_ADVERTISEMENT", Some("ThroughAnOnlineAdvertisement");
        ThroughATelevisionAdvert = "THROUGH_A_TELEVISION_ADVERT", Some("ThroughATelevisionAdvert");
        ThroughANewspaperAdvert = "THROUGH_A_NEWSPAPER_ADVERT", Some("ThroughANewspaperAdvert");
        ThroughFamilyOrFamilyEvents = "THROUGH_FAMILY_OR_FAMILY_EVENTS", Some("ThroughFamilyOrFamilyEvents");
        ThroughFriendsOrSocialEvents = "THROUGH_FRIENDS_OR_SOCIAL_EVENTS", Some("ThroughFriendsOrSocialEvents");
        Other = "OTHER", Some("Other");
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// Websites and apps used to recruit the person (HTCDS `vic_RecruitmentWebsitesAndApps`, plus
    /// `UNKNOWN`). Brand names are one word in the code (`WHATSAPP`, not `WHATS_APP`); HTCDS's
    /// `4Sale` is `FOUR_SALE` so that every code starts with a letter. A set.
    RecruitmentPlatform, "recruitment_platform" {
        Facebook = "FACEBOOK", Some("Facebook");
        Instagram = "INSTAGRAM", Some("Instagram");
        Whatsapp = "WHATSAPP", Some("WhatsApp");
        Telegram = "TELEGRAM", Some("Telegram");
        FacebookMessenger = "FACEBOOK_MESSENGER", Some("FacebookMessenger");
        Viber = "VIBER", Some("Viber");
        Snapchat = "SNAPCHAT", Some("SnapChat");
        Line = "LINE", Some("Line");
        FourSale = "FOUR_SALE", Some("4Sale");
        Wechat = "WECHAT", Some("WeChat");
        Qq = "QQ", Some("QQ");
        Qzone = "QZONE", Some("QZone");
        Tiktok = "TIKTOK", Some("TikTok");
        Twitter = "TWITTER", Some("Twitter");
        Other = "OTHER", Some("Other");
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// The person's relation to the recruiter (CTDC `recruiterRelation`). HTCDS
    /// `vic_RelationshipToTrafficker` is coarser: `FAMILY` is its `Familial`, `STRANGER` its
    /// `Unaquainted` (sic), and `OTHER_KNOWN` carries its `Acquainted` (on export,
    /// `INTIMATE_PARTNER` and `FRIEND` are also `Acquainted`).
    RecruiterRelation, "recruiter_relation" {
        IntimatePartner = "INTIMATE_PARTNER", None;
        Friend = "FRIEND", None;
        Family = "FAMILY", Some("Familial");
        OtherKnown = "OTHER_KNOWN", Some("Acquainted");
        Stranger = "STRANGER", Some("Unaquainted");
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// The kind of a route event (HTCDS Historic Trafficking Events `hte_Type`).
    RouteEventKind, "route_event" {
        Recruitment = "RECRUITMENT", Some("Recruitment");
        Transit = "TRANSIT", Some("Transit");
        Exploitation = "EXPLOITATION", Some("Exploitation");
    }
}

coded! {
    /// A perpetrator's role in the trafficking process (HTCDS `per_RoleInProcess`). A set.
    PerpetratorRole, "perpetrator_role" {
        TravellingPartner = "TRAVELLING_PARTNER", Some("TravellingPartner");
        Transporter = "TRANSPORTER", Some("Transporter");
        RecruiterOrIntermediary = "RECRUITER_OR_INTERMEDIARY", Some("RecruiterOrIntermediary");
        BrokerTravelAgent = "BROKER_TRAVEL_AGENT", Some("BrokerTravelAgent");
        TransferredIndividual = "TRANSFERRED_INDIVIDUAL", Some("TransferredIndividual");
        HarbouredIndividual = "HARBOURED_INDIVIDUAL", Some("HarbouredIndividual");
        SoldIndividual = "SOLD_INDIVIDUAL", Some("SoldIndividual");
        BoughtIndividual = "BOUGHT_INDIVIDUAL", Some("BoughtIndividual");
        ReceivedIndividual = "RECEIVED_INDIVIDUAL", Some("ReceivedIndividual");
        ControlledIndividual = "CONTROLLED_INDIVIDUAL", Some("ControlledIndividual");
        Smuggler = "SMUGGLER", Some("Smuggler");
        Abuser = "ABUSER", Some("Abuser");
        Kidnapper = "KIDNAPPER", Some("Kidnapper");
        Exploiter = "EXPLOITER", Some("Exploiter");
        Other = "OTHER", Some("Other");
    }
}

coded! {
    /// A perpetrator's sex, as the victim or the file reports it.
    PerpetratorSex, "perpetrator_sex" {
        Female = "FEMALE", None;
        Male = "MALE", None;
        Unknown = "UNKNOWN", None;
    }
}

coded! {
    /// The type of a service or support plan (the data standard's list; the HTCDS `spl_Type` values
    /// carry their names, and its three rehabilitation/training types are included so HTCDS imports
    /// keep them).
    ServiceType, "service_type" {
        Shelter = "SHELTER", None;
        Health = "HEALTH", Some("Health");
        Psychological = "PSYCHOLOGICAL", None;
        Legal = "LEGAL", Some("Legal");
        Education = "EDUCATION", Some("Education");
        Financial = "FINANCIAL", Some("Financial");
        Livelihood = "LIVELIHOOD", Some("Livelihood");
        SocialCare = "SOCIAL_CARE", Some("SocialCare");
        ReturnReintegration = "RETURN_REINTEGRATION", None;
        Interpretation = "INTERPRETATION", None;
        Documentation = "DOCUMENTATION", None;
        LabourExploitationRehabilitation = "LABOUR_EXPLOITATION_REHABILITATION", Some("LabourExploitationRehabilitation");
        RightsBasedTraining = "RIGHTS_BASED_TRAINING", Some("RightsBasedTraining");
        SexualExploitationRehabilitation = "SEXUAL_EXPLOITATION_REHABILITATION", Some("SexualExploitationRehabilitation");
        Other = "OTHER", None;
    }
}

coded! {
    /// Who a service of the regional directory is meant for (the list: minors, women,
    /// men, LGBTI people, indigenous peoples). A set; none listed means anyone.
    PopulationServed, "population" {
        Minors = "MINORS", None;
        Women = "WOMEN", None;
        Men = "MEN", None;
        Lgbti = "LGBTI", None;
        Indigenous = "INDIGENOUS", None;
    }
}

coded! {
    /// Where a service stands.
    ServiceStatus, "service_status" {
        Planned = "PLANNED", None;
        InProgress = "IN_PROGRESS", None;
        Completed = "COMPLETED", None;
        Declined = "DECLINED", None;
        NotAvailable = "NOT_AVAILABLE", None;
    }
}

coded! {
    /// The stages of a criminal proceeding.
    ProceedingStage, "proceeding_stage" {
        Complaint = "COMPLAINT", None;
        Investigation = "INVESTIGATION", None;
        Prosecution = "PROSECUTION", None;
        Trial = "TRIAL", None;
        Verdict = "VERDICT", None;
        Appeal = "APPEAL", None;
    }
}

coded! {
    /// The outcome of a trial.
    Verdict, "verdict" {
        Conviction = "CONVICTION", None;
        Acquittal = "ACQUITTAL", None;
        Dismissed = "DISMISSED", None;
        Pending = "PENDING", None;
    }
}

coded! {
    /// What a consent covers (HTCDS 2.0 has one checkbox, Puente splits it).
    ConsentScope, "consent_scope" {
        CaseManagement = "CASE_MANAGEMENT", None;
        Referral = "REFERRAL", None;
        StatisticalUse = "STATISTICAL_USE", None;
    }
}

coded! {
    /// Who gave a consent, or that another legal basis stands in for it.
    ConsentGivenBy, "consent_given_by" {
        Person = "PERSON", None;
        Guardian = "GUARDIAN", None;
        LegalBasis = "LEGAL_BASIS", None;
    }
}

coded! {
    /// The groups of fields a `REFERRAL` consent can let travel.
    ReferralFieldGroup, "referral_field_group" {
        Identity = "IDENTITY", None;
        Contact = "CONTACT", None;
        Demographics = "DEMOGRAPHICS", None;
        TraffickingProcess = "TRAFFICKING_PROCESS", None;
        Assistance = "ASSISTANCE", None;
        LegalProceedings = "LEGAL_PROCEEDINGS", None;
        Timeline = "TIMELINE", None;
    }
}

coded! {
    /// Why a case was closed (HTCDS `cas_ReasonForCaseClosure` is free text).
    ClosureReason, "closure_reason" {
        GoalsMet = "GOALS_MET", None;
        Referred = "REFERRED", None;
        LostContact = "LOST_CONTACT", None;
        DeclinedServices = "DECLINED_SERVICES", None;
        Deceased = "DECEASED", None;
        Other = "OTHER", None;
    }
}

coded! {
    /// Why an organisation refers a person to an organisation in another country.
    ReferralReason, "referral_reason" {
        AdditionalServicesRequired = "ADDITIONAL_SERVICES_REQUIRED", None;
        MigrationOrChangeOfLocation = "MIGRATION_OR_CHANGE_OF_LOCATION", None;
        ReturnAssistance = "RETURN_ASSISTANCE", None;
        Other = "OTHER", None;
    }
}

coded! {
    /// How soon a referral needs an answer.
    ReferralUrgency, "referral_urgency" {
        Routine = "ROUTINE", None;
        Priority = "PRIORITY", None;
        Emergency = "EMERGENCY", None;
    }
}

coded! {
    /// Why the destination declined a referral.
    DeclineReason, "decline_reason" {
        NoCapacity = "NO_CAPACITY", None;
        OutsideMandate = "OUTSIDE_MANDATE", None;
        PersonNotReached = "PERSON_NOT_REACHED", None;
        PersonDeclined = "PERSON_DECLINED", None;
        Other = "OTHER", None;
    }
}

coded! {
    /// What the destination reports back about an accepted referral.
    ReferralUpdateKind, "referral_update" {
        ArrivalConfirmed = "ARRIVAL_CONFIRMED", None;
        ServicesStarted = "SERVICES_STARTED", None;
        ContactLost = "CONTACT_LOST", None;
        Other = "OTHER", None;
    }
}

coded! {
    /// Why the origin recalls a referral (`control.recall`): the destination erases what it
    /// received.
    RecallReason, "recall_reason" {
        ConsentWithdrawn = "CONSENT_WITHDRAWN", None;
        RevokedBySender = "REVOKED_BY_SENDER", None;
    }
}

// Derived bands and categories for aggregate releases.

coded! {
    /// Age band of the CTDC dataset (`ageBroad`), derived from the age at identification.
    CtdcAgeBand, "ctdc_age_band" {
        Age0To8 = "0_8", None;
        Age9To17 = "9_17", None;
        Age18To20 = "18_20", None;
        Age21To23 = "21_23", None;
        Age24To26 = "24_26", None;
        Age27To29 = "27_29", None;
        Age30To38 = "30_38", None;
        Age39To47 = "39_47", None;
        Age48Plus = "48_PLUS", None;
    }
}

coded! {
    /// Age band of UNODC GLOTIP: children and adults.
    GlotipAgeBand, "glotip_age_band" {
        Age0To17 = "0_17", None;
        Age18Plus = "18_PLUS", None;
    }
}

coded! {
    /// Band of the time in exploitation (CTDC `traffickMonths`).
    DurationBand, "duration_band" {
        M0To12 = "M0_12", None;
        M13To24 = "M13_24", None;
        M25Plus = "M25_PLUS", None;
    }
}

coded! {
    /// Reach of a trafficking flow from recruitment to exploitation (UNODC GLOTIP).
    FlowReach, "flow_reach" {
        Domestic = "DOMESTIC", None;
        Subregional = "SUBREGIONAL", None;
        Regional = "REGIONAL", None;
        Transregional = "TRANSREGIONAL", None;
    }
}

coded! {
    /// Sex as UNODC GLOTIP reports it, derived from gender.
    GlotipSex, "glotip_sex" {
        Female = "F", None;
        Male = "M", None;
        OtherUnknown = "OTHER_UNKNOWN", None;
    }
}

coded! {
    /// Form of exploitation as UNODC GLOTIP groups it, derived from the types of exploitation.
    GlotipForm, "glotip_form" {
        Sexual = "SEXUAL", None;
        ForcedLabour = "FORCED_LABOUR", None;
        ForcedCriminality = "FORCED_CRIMINALITY", None;
        Mixed = "MIXED", None;
        Other = "OTHER", None;
    }
}

/// Calls `$m!` with the list of every coded enum in this file.
macro_rules! with_all_enums {
    ($m:ident) => {
        $m!(
            IntakeChannel,
            CaseStatus,
            TraffickingStatus,
            StatusDecidedBy,
            Gender,
            MaritalStatus,
            Education,
            MigrantType,
            ProtectionStatus,
            MigrationContext,
            TraffickingAct,
            Means,
            ControlMethod,
            ExploitationType,
            SexualExploitationType,
            RecruitmentMethod,
            RecruitmentPlatform,
            RecruiterRelation,
            RouteEventKind,
            PerpetratorRole,
            PerpetratorSex,
            ServiceType,
            PopulationServed,
            ServiceStatus,
            ProceedingStage,
            Verdict,
            ConsentScope,
            ConsentGivenBy,
            ReferralFieldGroup,
            ClosureReason,
            ReferralReason,
            ReferralUrgency,
            DeclineReason,
            ReferralUpdateKind,
            RecallReason,
            CtdcAgeBand,
            GlotipAgeBand,
            DurationBand,
            FlowReach,
            GlotipSex,
            GlotipForm
        )
    };
}

/// The catalogue key (`code-<field>-<CODE>`) of every value of every enum in this file, for the
/// catalogue completeness test.
pub fn all_label_keys() -> Vec<String> {
    macro_rules! keys {
        ($($t:ty),+) => {{
            let mut keys = Vec::new();
            $(keys.extend(<$t>::ALL.iter().map(|v| v.label_key()));)+
            keys
        }};
    }
    with_all_enums!(keys)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::fmt::{Debug, Display};
    use std::str::FromStr;

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::*;
    use crate::vocab::squash;

    /// Enums whose variant names are not the CamelCase of their codes.
    const NAMED_BY_HAND: [&str; 4] = [
        "ctdc_age_band",
        "glotip_age_band",
        "duration_band",
        "glotip_sex",
    ];
    /// Bands whose codes may start with a digit.
    const DIGIT_CODES: [&str; 2] = ["ctdc_age_band", "glotip_age_band"];

    fn camel(code: &str) -> String {
        code.split('_')
            .map(|p| {
                let mut cs = p.chars();
                cs.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase()
                })
            })
            .collect()
    }

    fn is_code(code: &str, digit_first: bool) -> bool {
        let first_ok = code
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || (digit_first && c.is_ascii_digit()));
        first_ok
            && code.split('_').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            })
    }

    /// Everything every coded enum must satisfy.
    fn check<T>()
    where
        T: Coded + Serialize + DeserializeOwned + FromStr + Display,
        <T as FromStr>::Err: Debug,
    {
        let field = T::FIELD;
        assert!(
            is_code(&field.to_ascii_uppercase(), false),
            "{field}: field key"
        );
        assert!(!T::ALL.is_empty(), "{field}: no values");

        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for &v in T::ALL {
            let code = v.code();
            assert!(
                is_code(code, DIGIT_CODES.contains(&field)),
                "{field}: bad code {code:?}"
            );
            assert!(codes.insert(code), "{field}: code {code} twice");
            if !NAMED_BY_HAND.contains(&field) {
                assert_eq!(
                    format!("{v:?}"),
                    camel(code),
                    "{field}: variant name of {code}"
                );
            }

            // Code round trips: Coded, FromStr/Display, serde.
            assert_eq!(T::from_code(code), Some(v));
            assert_eq!(code.parse::<T>().unwrap(), v);
            assert_eq!(v.to_string(), code);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            if code.to_ascii_lowercase() != code {
                assert!(
                    code.to_ascii_lowercase().parse::<T>().is_err(),
                    "{field}: codes are exact"
                );
            }
            assert_eq!(v.label_key(), format!("code-{field}-{code}"));

            // HTCDS round trips, also as people type them.
            if let Some(h) = v.htcds() {
                assert!(
                    !h.is_empty() && h.trim() == h && !h.contains(' '),
                    "{field}: {h:?}"
                );
                assert!(names.insert(squash(h)), "{field}: HTCDS name {h} twice");
                assert_eq!(T::from_htcds(h), Some(v), "{field}: {h}");
                assert_eq!(
                    T::from_htcds(&format!(" {} ", h.to_ascii_lowercase())),
                    Some(v)
                );
            }
        }
        assert!("NOT_A_CODE_OF_ANYTHING".parse::<T>().is_err());
        assert!(serde_json::from_str::<T>("\"NOT_A_CODE_OF_ANYTHING\"").is_err());
        assert!(serde_json::from_str::<T>("42").is_err());
        assert_eq!(T::from_htcds("Not an HTCDS value"), None);
    }

    #[test]
    fn every_enum_is_well_formed() {
        macro_rules! check_all {
            ($($t:ty),+) => { $(check::<$t>();)+ };
        }
        with_all_enums!(check_all);
    }

    #[test]
    fn fields_are_distinct_and_label_keys_complete() {
        macro_rules! fields {
            ($($t:ty),+) => { vec![$(<$t as Coded>::FIELD),+] };
        }
        macro_rules! count {
            ($($t:ty),+) => { 0 $(+ <$t>::ALL.len())+ };
        }
        let fields: Vec<&str> = with_all_enums!(fields);
        assert_eq!(fields.iter().collect::<HashSet<_>>().len(), fields.len());
        let keys = all_label_keys();
        assert_eq!(keys.len(), with_all_enums!(count));
        assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len());
        assert!(keys.contains(&"code-gender-FEMININE".to_owned()));
        assert!(keys.contains(&"code-ctdc_age_band-48_PLUS".to_owned()));
    }

    fn htcds_count<T: Coded>() -> usize {
        T::ALL.iter().filter(|v| v.htcds().is_some()).count()
    }

    /// Every value of the HTCDS picklists (Field_Standards.csv) is carried, once.
    #[test]
    fn htcds_picklists_are_covered() {
        assert_eq!(htcds_count::<CaseStatus>(), 4);
        assert_eq!(htcds_count::<TraffickingStatus>(), 3);
        assert_eq!(htcds_count::<StatusDecidedBy>(), 5);
        assert_eq!(htcds_count::<Gender>(), 6);
        assert_eq!(htcds_count::<MaritalStatus>(), 6);
        assert_eq!(htcds_count::<Education>(), 9);
        assert_eq!(htcds_count::<ControlMethod>(), 16);
        assert_eq!(htcds_count::<ExploitationType>(), 11);
        assert_eq!(htcds_count::<SexualExploitationType>(), 4);
        assert_eq!(htcds_count::<RecruitmentMethod>(), 10);
        assert_eq!(htcds_count::<RecruitmentPlatform>(), 15);
        assert_eq!(htcds_count::<RecruiterRelation>(), 3);
        assert_eq!(htcds_count::<RouteEventKind>(), 3);
        assert_eq!(htcds_count::<PerpetratorRole>(), 15);
        assert_eq!(PerpetratorRole::ALL.len(), 15);
        assert_eq!(htcds_count::<ServiceType>(), 9);
    }

    #[test]
    fn spot_checks_against_field_standards_csv() {
        assert_eq!(
            Gender::TransgenderFeminine.htcds(),
            Some("TransgenderFeminine")
        );
        assert_eq!(
            Gender::NotSpecifiedUnknown.htcds(),
            Some("NonSpecifiedUnknown")
        );
        assert_eq!(
            Gender::from_htcds("Non-Specified Unknown"),
            Some(Gender::NotSpecifiedUnknown)
        );
        assert_eq!(CaseStatus::FollowUp.htcds(), Some("FollowUp"));
        assert_eq!(
            TraffickingStatus::from_htcds("Actual victim of trafficking"),
            Some(TraffickingStatus::ActualVictim)
        );
        assert_eq!(
            StatusDecidedBy::NonPoliceGovernment.htcds(),
            Some("NonPoliceGovernmentalOrganization")
        );
        assert_eq!(
            MaritalStatus::RegisteredPartnership.htcds(),
            Some("RegisteredPartnership")
        );
        assert_eq!(MaritalStatus::UnionDeHecho.htcds(), None);
        assert_eq!(
            Education::from_htcds("Post-secondary Non-tertiary Education"),
            Some(Education::PostSecondaryNonTertiaryEducation)
        );
        assert_eq!(
            ControlMethod::ThreatsLawEnforcement.htcds(),
            Some("ThreatsLawEnforcement")
        );
        assert_eq!(ControlMethod::UsesChildren.htcds(), None);
        assert_eq!(
            ExploitationType::ForcedMilitaryNonState.htcds(),
            Some("ForcedMilitaryByNonStateActors")
        );
        assert_eq!(
            ExploitationType::from_htcds("Forced labour"),
            Some(ExploitationType::ForcedLabour)
        );
        assert_eq!(ExploitationType::SaleOfPersons.htcds(), None);
        assert_eq!(
            SexualExploitationType::RemoteInteractive.htcds(),
            Some("RemoteInteractiveServices")
        );
        assert_eq!(
            RecruitmentMethod::ThroughATelevisionAdvert.htcds(),
            Some("ThroughATelevisionAdvert")
        );
        assert_eq!(
            RecruitmentPlatform::from_htcds("4Sale"),
            Some(RecruitmentPlatform::FourSale)
        );
        assert_eq!(
            RecruitmentPlatform::from_htcds("Facebook Messenger"),
            Some(RecruitmentPlatform::FacebookMessenger)
        );
        assert_eq!(
            RecruiterRelation::from_htcds("Unaquainted"),
            Some(RecruiterRelation::Stranger)
        );
        assert_eq!(RouteEventKind::Transit.htcds(), Some("Transit"));
        assert_eq!(
            PerpetratorRole::BrokerTravelAgent.htcds(),
            Some("BrokerTravelAgent")
        );
        assert_eq!(
            ServiceType::from_htcds("Rights-based Training"),
            Some(ServiceType::RightsBasedTraining)
        );
        assert_eq!(TraffickingAct::Retention.htcds(), None);
    }

    #[test]
    fn derived_bands_have_the_given_codes() {
        assert_eq!(CtdcAgeBand::Age0To8.code(), "0_8");
        assert_eq!(CtdcAgeBand::Age48Plus.code(), "48_PLUS");
        assert_eq!(CtdcAgeBand::ALL.len(), 9);
        assert_eq!(GlotipAgeBand::Age18Plus.code(), "18_PLUS");
        assert_eq!(DurationBand::M25Plus.code(), "M25_PLUS");
        assert_eq!(GlotipSex::Female.code(), "F");
        assert_eq!(GlotipSex::OtherUnknown.code(), "OTHER_UNKNOWN");
        assert_eq!(GlotipForm::ForcedCriminality.code(), "FORCED_CRIMINALITY");
        assert_eq!(FlowReach::Transregional.code(), "TRANSREGIONAL");
        assert_eq!("13_24".parse::<DurationBand>().ok(), None);
    }
}
