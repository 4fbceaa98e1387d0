//! Idempotency tokens and per-producer sequence numbers.

use super::error::ActivityError;
use crate::core::text;

/// `{producer_id}:{operation}:{h}` where `h` is the first 16 hex digits of
/// `sha256(producer_id + "\n" + operation + "\n" + bytes)`.
///
/// The line feed separates the parts unambiguously, so neither name may contain one.
pub fn compute_idempotency_token(
    producer_id: &str,
    operation: &str,
    bytes: &[u8],
) -> Result<String, ActivityError> {
    for (field, value) in [("producerId", producer_id), ("operation", operation)] {
        // A byte loop, not `contains('\n')`: the char searcher is larger in the .wasm.
        if value.bytes().any(|byte| byte == b'\n') {
            return Err(ActivityError::invalid(
                field,
                "must not contain a line feed",
            ));
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(producer_id.as_bytes());
    hasher.update(b"\n");
    hasher.update(operation.as_bytes());
    hasher.update(b"\n");
    hasher.update(bytes);
    let digest = hasher.finalize();
    let hash = text::hex(&digest[..8]);
    Ok(format!("{producer_id}:{operation}:{hash}"))
}

/// SHA-256 as FIPS 180-4 defines it, written out here rather than taken from the `sha2`
/// crate: its unrolled rounds and generic buffering cost about 6 KiB of .wasm, this loop
/// well under one. The tests check it against `sha2`.
struct Sha256 {
    state: [u32; 8],
    /// The current, partly filled block: `len % 64` bytes of it are set.
    block: [u8; 64],
    /// Bytes hashed so far.
    len: u64,
}

impl Sha256 {
    const ROUND_CONSTANTS: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    fn new() -> Self {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: [0; 64],
            len: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        for &byte in data {
            self.block[(self.len % 64) as usize] = byte;
            self.len += 1;
            if self.len % 64 == 0 {
                self.compress();
            }
        }
    }

    /// The digest: the message, a 1 bit, zeros up to 8 bytes short of a block boundary,
    /// then the message length in bits (big-endian), hashed.
    fn finalize(mut self) -> [u8; 32] {
        let bit_len = self.len.wrapping_mul(8);
        self.update(&[0x80]);
        while self.len % 64 != 56 {
            self.update(&[0]);
        }
        self.update(&bit_len.to_be_bytes());
        let mut digest = [0u8; 32];
        // Byte by byte, not `copy_from_slice` / indexing (here and in `compress`): no
        // length-check panic site, with this file's path, in the .wasm.
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            for (out, byte) in out.iter_mut().zip(word.to_be_bytes()) {
                *out = byte;
            }
        }
        digest
    }

    /// Mixes the full `block` into `state`.
    fn compress(&mut self) {
        // The message schedule in a ring of 16 words, indices masked with `& 15`: provably
        // in bounds, so no bounds-check panic site (with this file's path) in the .wasm.
        // Word t-16 is at `t & 15`, t-15 at `(t + 1) & 15`, t-7 at `(t + 9) & 15`, t-2 at
        // `(t + 14) & 15`.
        let mut w = [0u32; 16];
        for (word, bytes) in w.iter_mut().zip(self.block.chunks_exact(4)) {
            *word = bytes
                .iter()
                .fold(0, |word, &byte| word << 8 | u32::from(byte));
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.state;
        for (t, k) in Self::ROUND_CONSTANTS.iter().enumerate() {
            if t >= 16 {
                let w15 = w[(t + 1) & 15];
                let w2 = w[(t + 14) & 15];
                let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
                let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
                w[t & 15] = w[t & 15]
                    .wrapping_add(s0)
                    .wrapping_add(w[(t + 9) & 15])
                    .wrapping_add(s1);
            }
            let word = w[t & 15];
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(*k)
                .wrapping_add(word);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            (h, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (word, add) in self.state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *word = word.wrapping_add(add);
        }
    }
}

/// Hands out `start`, `start + 1`, ... ; each value exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceTracker {
    next: i64,
}

impl SequenceTracker {
    pub fn new(start: i64) -> Self {
        SequenceTracker { next: start }
    }

    /// The next number.
    ///
    /// # Panics
    /// After `i64::MAX` has been handed out.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> i64 {
        let value = self.next;
        self.next = value.checked_add(1).expect("sequence exhausted");
        value
    }

    /// The number `next` will return, without consuming it.
    pub fn peek(&self) -> i64 {
        self.next
    }
}

impl Default for SequenceTracker {
    fn default() -> Self {
        SequenceTracker::new(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_vectors_from_the_issue() {
        assert_eq!(
            compute_idempotency_token("agent", "work", b"").unwrap(),
            "agent:work:e09d48d3d73fad94"
        );
        assert_eq!(
            compute_idempotency_token("agent", "work", br#"{"a":1,"b":2}"#).unwrap(),
            "agent:work:f65efee16e55e693"
        );
    }

    #[test]
    fn line_feeds_in_names_are_rejected_without_echoing_them() {
        let err = compute_idempotency_token("age\nnt", "work", b"").unwrap_err();
        assert_eq!(err.to_string(), "producerId must not contain a line feed");
        let err = compute_idempotency_token("agent", "wo\nrk", b"").unwrap_err();
        assert!(
            matches!(err, ActivityError::InvalidArgument { ref field, .. } if field == "operation")
        );
        assert!(compute_idempotency_token("agent", "work", b"line\nfeeds are fine here").is_ok());
    }

    #[test]
    fn separators_keep_parts_apart() {
        let a = compute_idempotency_token("ab", "c", b"").unwrap();
        let b = compute_idempotency_token("a", "bc", b"").unwrap();
        assert_ne!(a.rsplit(':').next(), b.rsplit(':').next());
    }

    #[test]
    fn sha256_matches_the_sha2_crate() {
        use sha2::Digest;
        // Every length around the block and padding boundaries, fed in two parts.
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let (head, tail) = data[..len].split_at(len / 3);
            let mut ours = Sha256::new();
            ours.update(head);
            ours.update(tail);
            let expected: [u8; 32] = sha2::Sha256::digest(&data[..len]).into();
            assert_eq!(ours.finalize(), expected, "length {len}");
        }
    }

    #[test]
    fn sequence_counts_up_from_start() {
        let mut seq = SequenceTracker::default();
        assert_eq!((seq.next(), seq.next(), seq.next()), (1, 2, 3));
        let mut seq = SequenceTracker::new(41);
        assert_eq!(seq.peek(), 41);
        assert_eq!((seq.next(), seq.next()), (41, 42));
        assert_eq!(seq.peek(), 43);
    }
}
