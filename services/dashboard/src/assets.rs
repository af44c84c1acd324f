//! The dashboard's assets, embedded in the binary (no CDN: it works offline).
//! The vendored @noble files are the npm packages' built ESM files, unchanged
//! (assets/vendor/README.md says which versions and how to refresh them).

/// `(path under /ui/assets/, bytes)`.
pub const ASSETS: &[(&str, &[u8])] = &[
    ("dashboard.css", include_bytes!("../assets/dashboard.css")),
    ("proofs.js", include_bytes!("../assets/proofs.js")),
    ("vendor/@noble/curves/LICENSE", include_bytes!("../assets/vendor/@noble/curves/LICENSE")),
    ("vendor/@noble/curves/abstract/curve.js", include_bytes!("../assets/vendor/@noble/curves/abstract/curve.js")),
    ("vendor/@noble/curves/abstract/edwards.js", include_bytes!("../assets/vendor/@noble/curves/abstract/edwards.js")),
    ("vendor/@noble/curves/abstract/fft.js", include_bytes!("../assets/vendor/@noble/curves/abstract/fft.js")),
    ("vendor/@noble/curves/abstract/frost.js", include_bytes!("../assets/vendor/@noble/curves/abstract/frost.js")),
    ("vendor/@noble/curves/abstract/hash-to-curve.js", include_bytes!("../assets/vendor/@noble/curves/abstract/hash-to-curve.js")),
    ("vendor/@noble/curves/abstract/modular.js", include_bytes!("../assets/vendor/@noble/curves/abstract/modular.js")),
    ("vendor/@noble/curves/abstract/montgomery.js", include_bytes!("../assets/vendor/@noble/curves/abstract/montgomery.js")),
    ("vendor/@noble/curves/abstract/oprf.js", include_bytes!("../assets/vendor/@noble/curves/abstract/oprf.js")),
    ("vendor/@noble/curves/ed25519.js", include_bytes!("../assets/vendor/@noble/curves/ed25519.js")),
    ("vendor/@noble/curves/utils.js", include_bytes!("../assets/vendor/@noble/curves/utils.js")),
    ("vendor/@noble/hashes/LICENSE", include_bytes!("../assets/vendor/@noble/hashes/LICENSE")),
    ("vendor/@noble/hashes/_md.js", include_bytes!("../assets/vendor/@noble/hashes/_md.js")),
    ("vendor/@noble/hashes/_u64.js", include_bytes!("../assets/vendor/@noble/hashes/_u64.js")),
    ("vendor/@noble/hashes/sha2.js", include_bytes!("../assets/vendor/@noble/hashes/sha2.js")),
    ("vendor/@noble/hashes/sha3.js", include_bytes!("../assets/vendor/@noble/hashes/sha3.js")),
    ("vendor/@noble/hashes/utils.js", include_bytes!("../assets/vendor/@noble/hashes/utils.js")),
];

/// The bytes and content type of an asset.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    let (_, bytes) = ASSETS.iter().find(|(name, _)| *name == path)?;
    let content_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    Some((bytes, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_module_that_another_imports_is_embedded() {
        for (name, bytes) in ASSETS.iter().filter(|(name, _)| name.ends_with(".js")) {
            let source = std::str::from_utf8(bytes).unwrap();
            let imports =
                source.lines().map(str::trim_start).filter(|line| line.starts_with("import ") || line.starts_with("export ") || line.starts_with('}'));
            for line in imports {
                let Some((_, rest)) = line.split_once(" from ") else { continue };
                let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
                let spec = rest[1..].split(quote).next().unwrap();
                let target = if let Some(bare) = spec.strip_prefix("@noble/") {
                    format!("vendor/@noble/{bare}")
                } else {
                    let dir = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                    normalise(&format!("{dir}/{spec}"))
                };
                assert!(asset(&target).is_some(), "{name} imports {spec} ({target}), which is not embedded");
            }
        }
    }

    fn normalise(path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                "." | "" => {}
                ".." => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        parts.join("/")
    }

    #[test]
    fn an_unknown_asset_is_none() {
        assert!(asset("../Cargo.toml").is_none());
        assert_eq!(asset("dashboard.css").map(|(_, t)| t), Some("text/css; charset=utf-8"));
    }
}
