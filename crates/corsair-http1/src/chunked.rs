//! The chunked transfer coding (RFC 9112 §7.1): a strict decoder that re-encodes what it reads,
//! and the encoder for bodies delimited by the upstream's close.

/// A chunked body reader that re-encodes the data it reads for the other side (extensions and
/// trailers are dropped). Strict: CRLF line ends, at most 16 hex digits a size, extensions and
/// trailers at most 16 KiB in all.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u8,
    skipped: usize,
}

#[derive(Debug, Default, PartialEq)]
enum ChunkState {
    #[default]
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    Trailer,
    TrailerLf,
    FinalLf,
    Done,
}

/// Bytes of chunk extensions and trailers a body may carry.
pub const MAX_CHUNK_EXTRA: usize = 16 * 1024;

impl Chunked {
    /// Reads what it can of `input`, appending the re-encoded chunks to `out`. Returns how many
    /// bytes it used and whether the body is complete (the bytes after it are the next
    /// message's).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool), &'static str> {
        use ChunkState::*;
        let mut i = 0;
        while i < input.len() {
            if self.state == Data {
                let n = ((input.len() - i) as u64).min(self.size) as usize;
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                self.size -= n as u64;
                if self.size == 0 {
                    out.extend_from_slice(b"\r\n");
                    self.state = DataCr;
                }
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match (&self.state, b) {
                (Size, b) if b.is_ascii_hexdigit() => {
                    if self.digits == 16 {
                        return Err("a chunk size over 16 hex digits");
                    }
                    self.digits += 1;
                    let d = (b as char).to_digit(16).unwrap_or(0);
                    self.size = (self.size << 4) | u64::from(d);
                    Size
                }
                (Size, b';' | b' ' | b'\t') if self.digits > 0 => Ext,
                (Size, b'\r') if self.digits > 0 => SizeLf,
                (Size, _) => return Err("a malformed chunk size"),
                (Ext, b'\r') => SizeLf,
                (Ext, b'\n') => return Err("a bare LF in a chunk extension"),
                (Ext, _) => {
                    self.skip()?;
                    Ext
                }
                (SizeLf, b'\n') => {
                    self.digits = 0;
                    if self.size == 0 {
                        TrailerStart
                    } else {
                        out.extend_from_slice(format!("{:x}\r\n", self.size).as_bytes());
                        Data
                    }
                }
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => Size,
                (TrailerStart, b'\r') => FinalLf,
                (TrailerStart | Trailer, b'\n') => return Err("a bare LF in the trailers"),
                (Trailer, b'\r') => TrailerLf,
                (TrailerStart | Trailer, _) => {
                    self.skip()?;
                    Trailer
                }
                (TrailerLf, b'\n') => TrailerStart,
                (FinalLf, b'\n') => {
                    out.extend_from_slice(b"0\r\n\r\n");
                    self.state = Done;
                    return Ok((i, true));
                }
                _ => return Err("malformed chunked framing"),
            };
        }
        Ok((i, self.state == Done))
    }

    fn skip(&mut self) -> Result<(), &'static str> {
        self.skipped += 1;
        if self.skipped > MAX_CHUNK_EXTRA {
            return Err("chunk extensions or trailers over 16 KiB");
        }
        Ok(())
    }
}

/// Appends `data` as one chunk of a chunked body (nothing for no data: an empty chunk would end
/// the body).
#[inline]
pub fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    let mut n = data.len();
    let mut i = hex.len();
    loop {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&hex[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_split(input: &[u8]) -> Result<(bool, Vec<u8>, usize), &'static str> {
        // Byte by byte, as the worst split of reads would deliver it.
        let mut dec = Chunked::default();
        let mut out = Vec::new();
        for (i, b) in input.iter().enumerate() {
            let (used, done) = dec.decode(std::slice::from_ref(b), &mut out)?;
            assert_eq!(used, 1);
            if done {
                return Ok((true, out, input.len() - i - 1));
            }
        }
        Ok((false, out, 0))
    }

    #[test]
    fn chunked_bodies_are_decoded_and_re_encoded_whatever_the_reads() {
        let (done, out, left) =
            decode_split(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT")
                .unwrap();
        assert!(done);
        assert_eq!(out, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assert_eq!(left, 4, "bytes after the body are the next message's");
        let mut out = Vec::new();
        let whole = b"A\r\n0123456789\r\n0\r\n\r\nGET";
        assert_eq!(
            Chunked::default().decode(whole, &mut out),
            Ok((whole.len() - 3, true))
        );
        assert_eq!(out, b"a\r\n0123456789\r\n0\r\n\r\n");
        assert!(
            !decode_split(b"5\r\nhel").unwrap().0,
            "an unfinished body is not done"
        );
    }

    #[test]
    fn malformed_chunked_framing_is_refused() {
        for bad in [
            &b"x\r\nhello\r\n0\r\n\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"11111111111111111\r\n",
            b"-5\r\nhello\r\n",
            b"0\r\nbad\ntrailer\r\n\r\n",
        ] {
            assert!(
                decode_split(bad).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(bad)
            );
        }
        let mut long_ext = b"1;".to_vec();
        long_ext.extend(std::iter::repeat_n(b'a', MAX_CHUNK_EXTRA + 1));
        assert!(decode_split(&long_ext).is_err());
    }

    /// A small deterministic generator for the randomized tests.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n) as usize
        }
    }

    /// The data of a chunked body this decoder wrote (plain sizes, no extensions).
    fn unframe(mut b: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        loop {
            let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap(), 16).unwrap();
            if n == 0 {
                return data;
            }
            data.extend_from_slice(&b[eol + 2..eol + 2 + n]);
            b = &b[eol + 2 + n + 2..];
        }
    }

    #[test]
    fn random_chunked_bodies_decode_the_same_however_they_are_split() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let mut wire = Vec::new();
            let mut data = Vec::new();
            for _ in 0..rng.below(6) {
                let n = 1 + rng.below(3000);
                let chunk: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
                let size = if rng.below(2) == 0 {
                    format!("{n:x}")
                } else {
                    format!("{n:X}")
                };
                wire.extend_from_slice(size.as_bytes());
                if rng.below(3) == 0 {
                    wire.extend_from_slice(b";name=\"va;lue\"");
                }
                wire.extend_from_slice(b"\r\n");
                wire.extend_from_slice(&chunk);
                wire.extend_from_slice(b"\r\n");
                data.extend_from_slice(&chunk);
            }
            wire.extend_from_slice(b"0\r\n");
            if rng.below(2) == 0 {
                wire.extend_from_slice(b"x-checksum: 1\r\n");
            }
            wire.extend_from_slice(b"\r\n");
            let mut dec = Chunked::default();
            let mut out = Vec::new();
            let mut rest = &wire[..];
            let mut done = false;
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len() as u64);
                let (used, d) = dec.decode(&rest[..n], &mut out).unwrap();
                assert!(used == n || d);
                rest = &rest[n..];
                done = d;
            }
            assert!(done);
            let mut again = Vec::new();
            assert_eq!(
                Chunked::default().decode(&out, &mut again),
                Ok((out.len(), true))
            );
            assert_eq!(again, out, "a re-encoding is its own re-encoding");
            assert_eq!(unframe(&out), data);
        }
    }

    #[test]
    fn chunks_are_what_the_decoder_reads_back() {
        let mut out = Vec::new();
        chunk(&mut out, b"");
        assert!(
            out.is_empty(),
            "no data, no chunk: an empty one ends the body"
        );
        chunk(&mut out, b"hello");
        chunk(&mut out, &[b'x'; 300]);
        assert!(out.starts_with(b"5\r\nhello\r\n12c\r\n"));
        out.extend_from_slice(b"0\r\n\r\n");
        let mut again = Vec::new();
        assert_eq!(
            Chunked::default().decode(&out, &mut again),
            Ok((out.len(), true))
        );
        assert_eq!(again, out);
    }
}
