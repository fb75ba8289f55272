//! A client's metadata as the store keeps it. The registration it holds (RFC 7592 GET answers
//! with it) carries the software statement, which the store also keeps in a column of its own.
//! Kept once, an OBUK client's row fits in one page: about 3.7 KB, against 5.5 KB and an
//! overflow page with the statement twice, which every registration's commit wrote out.
//!
//! The member is left out only when it equals the column, and put back only when the column
//! has a statement and the member is missing, so what is read is what was written (every writer
//! stores the statement it echoes in the metadata, or none in either). Rows written before this
//! hold the member themselves and are read unchanged.

use serde::ser::{Serialize, SerializeMap as _, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::StoreError;

const MEMBER: &str = "software_statement";

/// `metadata` serialized for storage, without the statement member when the column holds it.
pub struct ForStorage<'a> {
    metadata: &'a Value,
    omit_statement: bool,
}

pub fn for_storage<'a>(metadata: &'a Value, statement: Option<&str>) -> ForStorage<'a> {
    let member = metadata.get(MEMBER).and_then(Value::as_str);
    ForStorage { metadata, omit_statement: member.is_some() && member == statement }
}

/// [`for_storage`], serialized: done by the caller's task before a write goes to the group
/// commit writer, which every registration waits on and which then only copies the text.
pub fn serialized(metadata: &Value, statement: Option<&str>) -> Result<Box<RawValue>, StoreError> {
    serde_json::value::to_raw_value(&for_storage(metadata, statement))
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))
}

impl Serialize for ForStorage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.metadata {
            Value::Object(members) if self.omit_statement => {
                let mut map = serializer.serialize_map(Some(members.len().saturating_sub(1)))?;
                for (name, value) in members.iter().filter(|(name, _)| name.as_str() != MEMBER) {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
            metadata => metadata.serialize(serializer),
        }
    }
}

/// The metadata as it was written, from what the store kept and the statement column.
pub fn restored(mut metadata: Value, statement: Option<String>) -> Value {
    if let (Value::Object(members), Some(statement)) = (&mut metadata, statement) {
        members.entry(MEMBER).or_insert(Value::String(statement));
    }
    metadata
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(metadata: &Value, statement: Option<&str>) -> (Value, Value) {
        let kept = serde_json::to_value(for_storage(metadata, statement)).unwrap_or_else(|e| panic!("{e}"));
        (kept.clone(), restored(kept, statement.map(str::to_owned)))
    }

    #[test]
    fn the_statement_is_kept_once_and_read_back_in_place() {
        let metadata = json!({"client_id": "c1", "software_statement": "a.b.c", "scope": "accounts"});
        let (kept, read) = round_trip(&metadata, Some("a.b.c"));
        assert_eq!(kept, json!({"client_id": "c1", "scope": "accounts"}));
        assert_eq!(read, metadata);
        assert_eq!(serde_json::to_string(&read).ok(), serde_json::to_string(&metadata).ok(), "the same text, in order");
    }

    #[test]
    fn a_member_that_differs_from_the_column_is_kept_as_it_is() {
        let metadata = json!({"client_id": "c1", "software_statement": "x.y.z"});
        assert_eq!(round_trip(&metadata, Some("a.b.c")), (metadata.clone(), metadata.clone()));
        assert_eq!(round_trip(&metadata, None), (metadata.clone(), metadata));
    }

    #[test]
    fn metadata_without_a_statement_is_untouched() {
        let metadata = json!({"client_id": "manual"});
        assert_eq!(round_trip(&metadata, None), (metadata.clone(), metadata));
        let odd = json!(["not", "an", "object"]);
        assert_eq!(round_trip(&odd, Some("a.b.c")), (odd.clone(), odd));
    }

    #[test]
    fn rows_written_with_the_statement_inside_read_unchanged() {
        let older = json!({"client_id": "c1", "software_statement": "a.b.c"});
        assert_eq!(restored(older.clone(), Some("a.b.c".to_owned())), older);
    }
}
