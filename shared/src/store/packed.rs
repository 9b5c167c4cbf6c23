//! Large text as DynamoDB stores it (a log action's properties, an idempotency key's answer):
//! deflated (Binary) when that is smaller than the text (String), since every write and read
//! is billed by the bytes stored. AWS
//! suggests compressing large attribute values for that reason:
//! https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-use-s3-too.html

use crate::StoreError;
use miniz_oxide::deflate::{compress_to_vec, CompressionLevel};
use miniz_oxide::inflate::decompress_to_vec_with_limit;

/// Below this many bytes deflate rarely saves anything, so the text is stored as it is.
const PACK_FROM_BYTES: usize = 128;

/// Text in its stored form.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    Text(String),
    Deflated(Vec<u8>),
}

/// The stored form of a text: raw deflate (fastest level: a 128 MB Lambda has a small
/// share of a CPU) when shorter, the text otherwise. The same text always gives the same value.
pub fn pack(text: &str) -> Stored {
    if text.len() >= PACK_FROM_BYTES {
        let packed = compress_to_vec(text.as_bytes(), CompressionLevel::BestSpeed as u8);
        if packed.len() < text.len() {
            return Stored::Deflated(packed);
        }
    }
    Stored::Text(text.to_string())
}

/// The text of a stored value, inflating at most `limit` bytes (the contract's limit on what
/// was stored), so a corrupt value cannot inflate without bound.
pub fn unpack(stored: &Stored, limit: usize) -> Result<String, StoreError> {
    let failed = |what: String| StoreError::Failed(format!("stored text {what}"));
    match stored {
        Stored::Text(text) => Ok(text.clone()),
        Stored::Deflated(packed) => {
            let text = decompress_to_vec_with_limit(packed, limit)
                .map_err(|err| failed(format!("do not inflate: {err}")))?;
            String::from_utf8(text).map_err(|err| failed(format!("are not UTF-8: {err}")))
        }
    }
}

/// Text deflate saves only about a quarter of: 64 symbols in a fixed pseudo-random order, for
/// tests and simulations of what large properties cost.
#[cfg(any(test, feature = "test-support"))]
pub fn noise(len: usize) -> String {
    const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = 0x2545_f491_u64;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from(SYMBOLS[(state >> 58) as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 16 * 1024;

    #[test]
    fn large_repetitive_text_is_deflated_and_comes_back_whole() {
        let text = format!("{{\"p\":\"{}\",\"n\":-0}}", "abc".repeat(1000));
        let packed = pack(&text);
        assert!(matches!(&packed, Stored::Deflated(b) if b.len() < 100));
        assert_eq!(unpack(&packed, LIMIT).expect("unpacks"), text);
        assert_eq!(pack(&text), packed);
    }

    #[test]
    fn short_text_stays_text_and_noise_deflates_little() {
        for text in [
            "{}".to_string(),
            format!("{{\"k\":\"{}\"}}", "x".repeat(100)),
        ] {
            assert_eq!(pack(&text), Stored::Text(text.clone()));
            assert_eq!(unpack(&pack(&text), LIMIT).expect("text"), text);
        }
        let noise = noise(2000);
        assert!(matches!(&pack(&noise), Stored::Deflated(b) if b.len() > 1400));
        assert!(unpack(&pack(&noise), LIMIT).is_ok_and(|back| back == noise));
    }

    #[test]
    fn a_corrupt_or_oversized_value_is_an_error() {
        assert!(unpack(&Stored::Deflated(vec![0xff, 0x00]), LIMIT).is_err());
        let bomb = compress_to_vec(&vec![b'a'; LIMIT + 1], 1);
        assert!(unpack(&Stored::Deflated(bomb), LIMIT).is_err());
    }
}
