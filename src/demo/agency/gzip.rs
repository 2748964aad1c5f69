//! A gzip member of stored (uncompressed) deflate blocks: enough for a gzipped sitemap,
//! byte-identical on every run (no timestamp), with no compression dependency.

/// `data` as a gzip file (RFC 1952) holding stored deflate blocks (RFC 1951 §3.2.4).
pub(super) fn stored(data: &[u8]) -> Vec<u8> {
    // ID1 ID2, CM = deflate, FLG = 0, MTIME = 0, XFL = 0, OS = unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected, as gzip uses it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// Checked against the system's gzip when there is one (Debian has it).
    #[test]
    fn gunzip_reads_it_back() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        for input in [&data[..], b"", b"<urlset/>"] {
            let gz = stored(input);
            assert_eq!(&gz[..2], &[0x1f, 0x8b]);
            let Ok(mut child) = std::process::Command::new("gzip")
                .arg("-dc")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
            else {
                eprintln!("no gzip on this machine: skipped");
                return;
            };
            let mut stdin = child.stdin.take().unwrap();
            let writer = std::thread::spawn(move || {
                use std::io::Write as _;
                stdin.write_all(&gz).unwrap();
            });
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout, input);
        }
    }
}
