//! JSON parsing for untrusted protocol input: objects with duplicate member names are refused
//! (RFC 7515 §4 and RFC 7519 §4 allow refusing them, and accepting "last one wins" lets two
//! parsers disagree about what was signed), nesting is bounded, and strings holding U+0000 are
//! refused (no claim needs one, and PostgreSQL's `text` and `jsonb` cannot store it: a
//! registration would be stored on SQLite and fail on PostgreSQL).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    #[error("is not valid JSON ({0})")]
    Syntax(String),
    #[error("is not a JSON object")]
    NotAnObject,
}

/// Parses `bytes` as a JSON object, refusing duplicate member names at any depth.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, StrictJsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = deserializer.deserialize_any(StrictVisitor { depth: 0 }).map_err(|e| StrictJsonError::Syntax(e.to_string()))?;
    deserializer.end().map_err(|e| StrictJsonError::Syntax(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(StrictJsonError::NotAnObject),
    }
}

struct StrictVisitor {
    depth: usize,
}

struct StrictValue(Value);

impl<'de> de::DeserializeSeed<'de> for StrictVisitor {
    type Value = StrictValue;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<StrictValue, D::Error> {
        deserializer.deserialize_any(self).map(StrictValue)
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        without_nul(v)?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        without_nul(&v)?;
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element_seed(StrictVisitor { depth })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            without_nul(&key)?;
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate member \"{key}\"")));
            }
            let StrictValue(value) = access.next_value_seed(StrictVisitor { depth })?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

fn without_nul<E: de::Error>(text: &str) -> Result<(), E> {
    if text.contains('\0') {
        return Err(E::custom("a string holds the character U+0000"));
    }
    Ok(())
}

impl StrictVisitor {
    fn nested<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(self.depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ordinary_objects() {
        let map = parse_object(br#"{"a": 1, "b": [true, null, {"c": "d"}], "e": 1.5}"#).unwrap_or_default();
        assert_eq!(map.len(), 3);
        assert_eq!(map["b"][2]["c"], "d");
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"a": 1, "a": 2}"#).is_err_and(|e| e.to_string().contains("duplicate member \"a\"")));
        assert!(parse_object(br#"{"x": [{"k": 1, "k": 1}]}"#).is_err());
    }

    #[test]
    fn refuses_nul_in_strings_and_member_names() {
        for json in [r#"{"client_name": "a\u0000b"}"#, r#"{"a\u0000": 1}"#, r#"{"x": ["\u0000"]}"#] {
            assert!(parse_object(json.as_bytes()).is_err_and(|e| e.to_string().contains("U+0000")), "{json}");
        }
        assert!(parse_object(br#"{"client_name": "a\u0001b"}"#).is_ok());
    }

    #[test]
    fn refuses_non_objects_trailing_data_and_deep_nesting() {
        assert_eq!(parse_object(b"[1]"), Err(StrictJsonError::NotAnObject));
        assert!(matches!(parse_object(br#"{"a":1} x"#), Err(StrictJsonError::Syntax(_))));
        assert!(matches!(parse_object(b"\xff"), Err(StrictJsonError::Syntax(_))));
        let deep = format!("{}{}", "{\"a\":".repeat(40), "1".to_owned() + &"}".repeat(40));
        assert!(matches!(parse_object(deep.as_bytes()), Err(StrictJsonError::Syntax(_))));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// JSON values nested up to `depth` levels (arrays and objects), scalars at the leaves.
        fn json(depth: u32) -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "\\PC{0,12}".prop_map(Value::from),
            ];
            leaf.prop_recursive(depth, 64, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map("\\PC{0,8}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn object() -> impl Strategy<Value = Map<String, Value>> {
            prop::collection::btree_map("\\PC{1,8}", json(6), 1..6).prop_map(|m| m.into_iter().collect())
        }

        proptest! {
            /// Any object serde writes parses back to itself.
            #[test]
            fn parses_what_serde_writes(map in object()) {
                let text = serde_json::to_vec(&map).unwrap_or_default();
                prop_assert_eq!(parse_object(&text), Ok(map));
            }

            /// A member name repeated in one object is refused, however deep the object sits.
            #[test]
            fn refuses_a_repeated_member_at_any_depth(map in object(), wrappers in prop::collection::vec(any::<bool>(), 0..12)) {
                let (first, _) = map.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
                let written = serde_json::to_string(&map).unwrap_or_default();
                let mut text = format!("{{{}:null,{}", Value::from(first), &written[1..]);
                for in_array in wrappers {
                    text = if in_array { format!("{{\"a\":[1,{text}]}}") } else { format!("{{\"o\":{text}}}") };
                }
                let refusal = parse_object(text.as_bytes()).map(|_| ()).map_err(|e| e.to_string());
                prop_assert!(refusal.as_ref().is_err_and(|e| e.contains("duplicate member")), "{}: {:?}", text, refusal);
            }
        }
    }
}
