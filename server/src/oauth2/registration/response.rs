//! The registration response (OBUK-DCR.md §4, RFC 7591 §3.2.1, RFC 7592 §3): the registered
//! metadata, the software statement's claims flattened to top level, and what was issued.

use serde_json::{Map, Value, json};

use super::ValidatedRegistration;

/// What Onboard issued for a new client; secrets appear here and in the 201 only.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCredentials<'a> {
    pub client_id: &'a str,
    pub issued_at: i64,
    /// Only for the `client_secret_*` methods.
    pub client_secret: Option<&'a str>,
    /// Issued at registration; an update keeps the existing one and returns none.
    pub registration_access_token: Option<&'a str>,
    pub registration_client_uri: &'a str,
}

/// Members that hold secrets: returned once in the 201, never stored or shown again.
const SECRET_MEMBERS: [&str; 2] = ["client_secret", "registration_access_token"];

/// The 201 body.
pub fn response(registration: &ValidatedRegistration, issued: &IssuedCredentials<'_>) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(ssa) = &registration.software_statement {
        for (name, value) in ssa.flattened_claims() {
            body.insert(name.to_owned(), value.clone());
        }
        body.insert("software_statement".to_owned(), Value::String(ssa.compact.clone()));
    }
    let metadata = &registration.metadata;
    if let Ok(Value::Object(fields)) = serde_json::to_value(metadata) {
        body.extend(fields);
    }
    body.insert("scope".to_owned(), Value::String(metadata.scopes.join(" ")));
    body.insert("scopes".to_owned(), json!(metadata.scopes));
    body.insert("client_id".to_owned(), json!(issued.client_id));
    body.insert("client_id_issued_at".to_owned(), json!(issued.issued_at));
    if let Some(secret) = issued.client_secret {
        body.insert("client_secret".to_owned(), json!(secret));
        // OBUK: "Set to zero if the client_secret does not expire".
        body.insert("client_secret_expires_at".to_owned(), json!(0));
    }
    if let Some(token) = issued.registration_access_token {
        body.insert("registration_access_token".to_owned(), json!(token));
    }
    body.insert("registration_client_uri".to_owned(), json!(issued.registration_client_uri));
    body
}

/// The response without its secrets: what is stored and later read back (RFC 7592 GET).
pub fn stored_metadata(response: &Map<String, Value>) -> Value {
    let mut stored = response.clone();
    for member in SECRET_MEMBERS {
        stored.remove(member);
    }
    Value::Object(stored)
}
