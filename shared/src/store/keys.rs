//! DynamoDB's key size limits, in bytes of UTF-8, checked against the key exactly as it is
//! written (prefixes included) before anything is written, on every engine alike. The limits
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys):
//! a partition key value is 1 to 2,048 bytes, a sort key value 1 to 1,024 bytes, and so are
//! the key attributes of a global secondary index.

use crate::ApiError;

/// The longest partition key value, in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// The longest sort key value, in bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// Which part of a table's or an index's key a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPart {
    Partition,
    Sort,
}

impl KeyPart {
    pub fn max_bytes(self) -> usize {
        match self {
            KeyPart::Partition => MAX_PARTITION_KEY_BYTES,
            KeyPart::Sort => MAX_SORT_KEY_BYTES,
        }
    }
}

/// A 400 naming `field` when `key`, the stored key made from it, is longer than `part` allows.
pub fn check(field: &str, key: &str, part: KeyPart) -> Result<(), ApiError> {
    let max = part.max_bytes();
    if key.len() > max {
        return Err(ApiError::field(
            field,
            format!(
                "is too long: stored as a key of {} bytes of UTF-8, and at most {max} fit",
                key.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bytes_not_characters() {
        let four_byte = format!("sdk#{}#7", "\u{1F600}".repeat(255));
        assert!(check("sdk_version", &four_byte, KeyPart::Sort).is_err());
        assert!(check("sdk_version", &four_byte, KeyPart::Partition).is_ok());
        let sort = "x".repeat(MAX_SORT_KEY_BYTES);
        assert!(check("id", &sort, KeyPart::Sort).is_ok());
        let err = check("id", &format!("{sort}y"), KeyPart::Sort).unwrap_err();
        assert!(err.to_string().starts_with("id: is too long"), "{err}");
    }
}
