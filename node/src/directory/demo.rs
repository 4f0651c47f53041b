//! Invented services for the demo nodes of Guatemala, Honduras and El Salvador, so that a
//! newcomer sees a regional directory at once. Every organisation, address, phone number and
//! e-mail here is made up (phone numbers end in 0000, e-mails are under `.demo`).

use puente_common::vocab::codes::{PopulationServed, ServiceType};
use puente_common::vocab::Coded;
use puente_common::CountryCode;

use super::{save_service, Publication, ServiceInput};
use crate::admin::orgs;
use crate::app::AppState;
use crate::cases::Who;
use crate::error::AppResult;
use crate::store::StoreError;

/// One invented service and the organisation that offers it.
#[derive(Debug, Clone)]
pub struct DemoService {
    /// The organisation's code on the demo node (created if missing).
    pub org_code: &'static str,
    pub org_name: &'static str,
    pub org_type: &'static str,
    pub service_type: ServiceType,
    pub populations: &'static [PopulationServed],
    pub languages: &'static [&'static str],
    pub subdivisions: &'static [&'static str],
    pub contact: &'static str,
    pub notes: &'static str,
}

impl DemoService {
    /// As an editor would submit it (organisation chosen by the caller).
    pub fn input(&self, org_id: uuid::Uuid) -> ServiceInput {
        ServiceInput {
            org_id: Some(org_id),
            service_type: self.service_type.code().to_owned(),
            populations: self
                .populations
                .iter()
                .map(|p| p.code().to_owned())
                .collect(),
            languages: self.languages.iter().map(|s| (*s).to_owned()).collect(),
            subdivisions: self.subdivisions.iter().map(|s| (*s).to_owned()).collect(),
            contact: self.contact.to_owned(),
            notes: self.notes.to_owned(),
        }
    }
}

use PopulationServed::{Indigenous, Lgbti, Men, Minors, Women};

const GTM: &[DemoService] = &[
    DemoService {
        org_code: "ASOC1",
        org_name: "Asociación Refugio de la Niñez (demo)",
        org_type: "NGO",
        service_type: ServiceType::Shelter,
        populations: &[Minors],
        languages: &["spa", "quc", "mam"],
        subdivisions: &["GT-QZ", "GT-SM", "GT-TO"],
        contact: "Tel. +502 7761 0000 · refugio@asoc1.demo · 4a calle 10-20, zona 1, Quetzaltenango",
        notes: "Albergue temporal para niñas, niños y adolescentes, abierto las 24 horas. Recibe referencias de todo el occidente del país. (Dato de demostración.)",
    },
    DemoService {
        org_code: "ASOC1",
        org_name: "Asociación Refugio de la Niñez (demo)",
        org_type: "NGO",
        service_type: ServiceType::Psychological,
        populations: &[Minors, Indigenous],
        languages: &["spa", "quc"],
        subdivisions: &["GT-QZ"],
        contact: "Tel. +502 7761 0000 ext. 2 · psicologia@asoc1.demo",
        notes: "Atención psicológica individual y familiar, con intérprete de K'iche'. (Dato de demostración.)",
    },
    DemoService {
        org_code: "FUND2",
        org_name: "Fundación Sobrevivientes (demo)",
        org_type: "NGO",
        service_type: ServiceType::Legal,
        populations: &[Women, Lgbti],
        languages: &["spa", "eng"],
        subdivisions: &["GT-GU", "GT-SA"],
        contact: "Tel. +502 2230 0000 · juridico@fund2.demo · 6a avenida 3-15, zona 1, Ciudad de Guatemala",
        notes: "Acompañamiento legal a sobrevivientes en la denuncia y el proceso penal. (Dato de demostración.)",
    },
    DemoService {
        org_code: "FUND2",
        org_name: "Fundación Sobrevivientes (demo)",
        org_type: "NGO",
        service_type: ServiceType::ReturnReintegration,
        populations: &[],
        languages: &["spa"],
        subdivisions: &[],
        contact: "Tel. +502 2230 0000 ext. 5 · retorno@fund2.demo",
        notes: "Apoyo al retorno y la reintegración en todo el país, en coordinación con consulados. (Dato de demostración.)",
    },
    DemoService {
        org_code: "PGN",
        org_name: "Procuraduría General de la Nación (demo)",
        org_type: "CENTRAL_GOVERNMENT",
        service_type: ServiceType::Legal,
        populations: &[Minors],
        languages: &["spa"],
        subdivisions: &["GT-GU"],
        contact: "Tel. +502 2414 0000 · ninez@pgn.demo",
        notes: "Representación legal de niñas, niños y adolescentes víctimas; medidas de protección. (Dato de demostración.)",
    },
];

const HND: &[DemoService] = &[
    DemoService {
        org_code: "CJVS",
        org_name: "Clínica Jurídica del Valle de Sula (demo)",
        org_type: "LEGAL_SERVICE",
        service_type: ServiceType::Legal,
        populations: &[Women, Men, Lgbti],
        languages: &["spa", "eng"],
        subdivisions: &["HN-CR"],
        contact: "Tel. +504 2550 0000 · atencion@cjvs.demo · Barrio Guamilito, San Pedro Sula",
        notes: "Asistencia legal gratuita en San Pedro Sula: denuncia, protección y reparación. (Dato de demostración.)",
    },
    DemoService {
        org_code: "CASAE",
        org_name: "Casa Esperanza (demo)",
        org_type: "NGO",
        service_type: ServiceType::Shelter,
        populations: &[Women, Minors],
        languages: &["spa", "cab"],
        subdivisions: &["HN-AT", "HN-CR"],
        contact: "Tel. +504 2440 0000 · casa@esperanza.demo · La Ceiba",
        notes: "Albergue para mujeres y sus hijas e hijos; personal que habla garífuna. (Dato de demostración.)",
    },
    DemoService {
        org_code: "CASAE",
        org_name: "Casa Esperanza (demo)",
        org_type: "NGO",
        service_type: ServiceType::Health,
        populations: &[],
        languages: &["spa", "miq"],
        subdivisions: &["HN-FM"],
        contact: "Tel. +504 2230 0000 · salud@esperanza.demo · Tegucigalpa",
        notes: "Atención médica básica y acompañamiento a servicios de salud. (Dato de demostración.)",
    },
];

const SLV: &[DemoService] = &[
    DemoService {
        org_code: "CAPSS",
        org_name: "Centro de Atención Psicosocial San Salvador (demo)",
        org_type: "NGO",
        service_type: ServiceType::Psychological,
        populations: &[Women, Men, Minors],
        languages: &["spa", "ppl"],
        subdivisions: &["SV-SS", "SV-LI"],
        contact: "Tel. +503 2222 0000 · citas@capss.demo · Colonia Escalón, San Salvador",
        notes: "Atención psicosocial individual y grupal para sobrevivientes y sus familias. (Dato de demostración.)",
    },
    DemoService {
        org_code: "CAPSS",
        org_name: "Centro de Atención Psicosocial San Salvador (demo)",
        org_type: "NGO",
        service_type: ServiceType::Livelihood,
        populations: &[Women, Lgbti],
        languages: &["spa"],
        subdivisions: &["SV-SS", "SV-SA", "SV-SM"],
        contact: "Tel. +503 2222 0000 ext. 3 · empleo@capss.demo",
        notes: "Formación laboral y apoyo para emprender. (Dato de demostración.)",
    },
    DemoService {
        org_code: "RETSV",
        org_name: "Red de Retorno Digno (demo)",
        org_type: "NGO",
        service_type: ServiceType::ReturnReintegration,
        populations: &[],
        languages: &["spa", "eng"],
        subdivisions: &[],
        contact: "Tel. +503 2660 0000 · retorno@redretorno.demo",
        notes: "Recepción de personas retornadas y apoyo a su reintegración en todo el país. (Dato de demostración.)",
    },
];

/// The invented services of a demo node of `country` (none for other countries).
pub fn demo_services(country: CountryCode) -> Vec<DemoService> {
    match country.as_str() {
        "GTM" => GTM.to_vec(),
        "HND" => HND.to_vec(),
        "SLV" => SLV.to_vec(),
        _ => Vec::new(),
    }
}

/// Saves the demo services of the node's country as `who` (a national administrator),
/// creating the organisations that are missing. Returns how many services were saved.
pub async fn seed_demo_services(
    st: &AppState,
    who: Who<'_>,
    publish: Option<&Publication<'_>>,
) -> AppResult<usize> {
    let services = demo_services(st.config.country);
    for s in &services {
        let org = match st.store.org_by_code(s.org_code).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                orgs::create(
                    st.store.as_ref(),
                    who.audit,
                    &orgs::NewOrg::new(s.org_code, s.org_name, s.org_type),
                )
                .await?
            }
            Err(e) => return Err(e.into()),
        };
        save_service(st, who, None, &s.input(org.id), publish).await?;
    }
    Ok(services.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every demo service passes the checks a peer would run on it.
    #[test]
    fn demo_services_are_valid_for_their_country() {
        for c in ["GTM", "HND", "SLV"] {
            let country: CountryCode = c.parse().unwrap();
            let services = demo_services(country);
            assert!(services.len() >= 3, "{c}");
            for s in services {
                let (svc, errors) = super::super::checked(
                    country,
                    uuid::Uuid::now_v7(),
                    &s.input(uuid::Uuid::nil()),
                );
                assert!(errors.is_empty(), "{c} {}: {errors:?}", svc.service_type);
            }
        }
        assert!(demo_services("MEX".parse().unwrap()).is_empty());
    }
}
