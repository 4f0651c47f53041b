//! Sealing and opening the registry's identifying fields, and the blind index.
//!
//! Identifying fields are sealed with the node data key (XChaCha20-Poly1305) bound to table,
//! row and field, so a sealed value copied elsewhere does not open. The coded facts are stored
//! as plain JSON with the identifying parts emptied, so statistics and filters never need the
//! key. Blind-index tokens are HMAC-SHA-256 under a key derived from the data key (from its first
//! key, so that rotating the data key leaves the index valid), over the organisation, the kind
//! (`name`, `document`) and the normalised token: equal names match within an organisation and
//! nowhere else.

use puente_common::case::{CaseRecord, ConsentRecord, Identity, PersonRecord};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::Entry;
use crate::app::AppState;
use crate::crypto::{hmac_hex, FieldRef};
use crate::error::{AppError, AppResult};
use crate::store::cases::{CaseRow, ConsentRow, EntryKind, EntryRow, PersonRow};

/// The id of the first data key, and of values sealed before key rotation existed.
///
/// Not the key that seals new values once the data key has been rotated: a row's `key_id` should
/// be [`Sealer::key_id`] (the keyring's current id). Sealed values name their key themselves
/// (`k2:…`), so a stale `key_id` column never stops a value from opening, and
/// `puente keys rotate-data-key` corrects the column wherever it differs from the value.
pub const KEY_ID: &str = crate::crypto::LEGACY_KEY_ID;

/// Seals and opens with the node's data key.
pub struct Sealer<'a> {
    st: &'a AppState,
    blind_key: Zeroizing<[u8; 32]>,
}

impl<'a> Sealer<'a> {
    pub fn new(st: &'a AppState) -> Self {
        Sealer {
            st,
            blind_key: st.data_key.derive("blind-index"),
        }
    }

    /// The id of the key that seals new values: the `key_id` of rows written now.
    pub fn key_id(&self) -> String {
        self.st.data_key.current_id()
    }

    /// The blind-index token of `value` (already normalised) of `kind` in `org`.
    pub fn blind(&self, org: Uuid, kind: &str, value: &str) -> String {
        hmac_hex(
            &self.blind_key,
            format!("{org}\n{kind}\n{value}").as_bytes(),
        )
    }

    pub fn seal_json<T: Serialize + ?Sized>(
        &self,
        table: &str,
        row: Uuid,
        field: &str,
        value: &T,
    ) -> String {
        let row = row.to_string();
        let bytes = Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
        self.st.data_key.seal(
            FieldRef {
                table,
                row: &row,
                field,
            },
            &bytes,
        )
    }

    pub fn open_json<T: DeserializeOwned>(
        &self,
        table: &str,
        row: Uuid,
        field: &str,
        sealed: &str,
    ) -> AppResult<T> {
        let row_s = row.to_string();
        let plain = self
            .st
            .data_key
            .open(
                FieldRef {
                    table,
                    row: &row_s,
                    field,
                },
                sealed,
            )
            .map_err(|e| AppError::internal(format!("{table}.{field} of {row}: {e}")))?;
        serde_json::from_slice(&plain)
            .map_err(|e| AppError::internal(format!("{table}.{field} of {row}: {e}")))
    }

    /// Seals free text; empty text is stored as nothing.
    pub fn seal_text(&self, table: &str, row: Uuid, field: &str, text: &str) -> Option<String> {
        (!text.is_empty()).then(|| self.seal_json(table, row, field, text))
    }

    pub fn open_text(
        &self,
        table: &str,
        row: Uuid,
        field: &str,
        sealed: &str,
    ) -> AppResult<String> {
        self.open_json(table, row, field, sealed)
    }

    pub fn seal_identity(&self, person: Uuid, identity: &Identity) -> String {
        self.seal_json("persons", person, "identity", identity)
    }

    pub fn open_identity(&self, p: &PersonRow) -> AppResult<Identity> {
        self.open_json("persons", p.id, "identity", &p.identity)
    }

    /// The whole person: coded profile and opened identity.
    pub fn open_person(&self, p: &PersonRow) -> AppResult<PersonRecord> {
        let mut record: PersonRecord = serde_json::from_str(&p.profile)
            .map_err(|e| AppError::internal(format!("persons.profile of {}: {e}", p.id)))?;
        record.identity = self.open_identity(p)?;
        Ok(record)
    }

    /// The whole case record, narrative opened.
    pub fn open_case(&self, c: &CaseRow) -> AppResult<CaseRecord> {
        let mut record: CaseRecord = serde_json::from_str(&c.record)
            .map_err(|e| AppError::internal(format!("cases.record of {}: {e}", c.id)))?;
        if let Some(n) = &c.narrative {
            record.narrative = self.open_text("cases", c.id, "narrative", n)?;
        }
        Ok(record)
    }

    /// The stored form of a consent: the guardian's name sealed, the rest coded.
    pub fn consent_row(
        &self,
        c: &ConsentRecord,
        person_id: Uuid,
        case_id: Option<Uuid>,
        by: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> ConsentRow {
        let id = Uuid::now_v7();
        let coded = ConsentRecord {
            guardian_name: String::new(),
            ..c.clone()
        };
        ConsentRow {
            id,
            person_id,
            case_id,
            scope: puente_common::vocab::Coded::code(c.scope).to_owned(),
            destination_country: c.destination_country.map(|d| d.to_string()),
            given_on: c.given_on,
            expires_on: c.expires_on,
            record: serde_json::to_string(&coded).unwrap_or_default(),
            guardian_name: self.seal_text("consents", id, "guardian_name", &c.guardian_name),
            key_id: self.key_id(),
            recorded_by: Some(by),
            recorded_at: at,
            withdrawn_on: None,
            withdrawn_by: None,
            withdrawn_at: None,
        }
    }

    pub fn open_consent(&self, c: &ConsentRow) -> AppResult<ConsentRecord> {
        let mut record: ConsentRecord = serde_json::from_str(&c.record)
            .map_err(|e| AppError::internal(format!("consents.record of {}: {e}", c.id)))?;
        if let Some(g) = &c.guardian_name {
            record.guardian_name = self.open_text("consents", c.id, "guardian_name", g)?;
        }
        Ok(record)
    }

    pub fn open_entry<T: Entry>(&self, kind: EntryKind, e: &EntryRow) -> AppResult<T> {
        let record: T = serde_json::from_str(&e.record).map_err(|err| {
            AppError::internal(format!("{}.record of {}: {err}", kind.table(), e.id))
        })?;
        let notes = match &e.notes {
            Some(n) => self.open_text(kind.table(), e.id, "notes", n)?,
            None => String::new(),
        };
        Ok(record.with_notes(notes))
    }
}

/// The person's coded facts as stored in the clear: the identity emptied.
pub fn profile_json(p: &PersonRecord) -> String {
    serde_json::to_string(&PersonRecord {
        identity: Identity::default(),
        ..p.clone()
    })
    .unwrap_or_default()
}

/// The case record as stored in the clear: the narrative emptied.
pub fn record_json(c: &CaseRecord) -> String {
    serde_json::to_string(&CaseRecord {
        narrative: String::new(),
        ..c.clone()
    })
    .unwrap_or_default()
}
