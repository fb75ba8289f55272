//! Tenant and workspace identifiers: the lowercase slugs that appear in every protocol URL.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid slug identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_SLUG_LEN} characters")]
    TooLong,
    #[error("may contain only lowercase letters, digits and '-'")]
    InvalidCharacter,
    #[error("must start and end with a letter or digit")]
    BadEdge,
}

const MAX_SLUG_LEN: usize = 63;

fn check_slug(value: &str) -> Result<(), SlugError> {
    if value.is_empty() {
        return Err(SlugError::Empty);
    }
    if value.len() > MAX_SLUG_LEN {
        return Err(SlugError::TooLong);
    }
    if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(SlugError::InvalidCharacter);
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err(SlugError::BadEdge);
    }
    Ok(())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, SlugError> {
                let value = value.into();
                check_slug(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = SlugError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A tenant: holds workspaces. `default` exists from the first start.
    TenantId
);
slug_id!(
    /// A workspace within a tenant: one authorization server with its own settings and clients.
    WorkspaceId
);

slug_id!(
    /// A DCR policy within a workspace.
    PolicyId
);

/// The full address of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkspaceRef {
    pub tenant: TenantId,
    pub workspace: WorkspaceId,
}

impl fmt::Display for WorkspaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.workspace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_slugs() {
        for ok in ["default", "obuk", "bank-1", "a", "0"] {
            assert!(WorkspaceId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_each_bad_shape_with_its_reason() {
        assert_eq!(TenantId::parse(""), Err(SlugError::Empty));
        assert_eq!(TenantId::parse("a".repeat(64)), Err(SlugError::TooLong));
        assert_eq!(TenantId::parse("Bank"), Err(SlugError::InvalidCharacter));
        assert_eq!(TenantId::parse("a/b"), Err(SlugError::InvalidCharacter));
        assert_eq!(TenantId::parse(".."), Err(SlugError::InvalidCharacter));
        assert_eq!(TenantId::parse("-a"), Err(SlugError::BadEdge));
        assert_eq!(TenantId::parse("a-"), Err(SlugError::BadEdge));
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<WorkspaceId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<WorkspaceId>("\"NOT OK\"").is_err());
    }
}
