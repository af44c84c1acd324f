use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::*;

const BODY: &str = "claimtrail.example/ledger\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

fn signer(name: &str, seed_byte: u8) -> SignerKey {
    SignerKey::from_seed(name, &[seed_byte; 32]).unwrap()
}

fn signature_line(name: &str, key_id: KeyId, signature: &[u8]) -> String {
    let mut blob = key_id.0.to_vec();
    blob.extend_from_slice(signature);
    format!("\u{2014} {name} {}\n", BASE64.encode(blob))
}

// golang.org/x/mod/sumdb/note, note_test.go and the package documentation.
const GO_SIGNER_KEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIGNATURE_LINE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn the_go_sumdb_note_vector_signs_and_opens_byte_for_byte() {
    let signer = SignerKey::parse(GO_SIGNER_KEY).unwrap();
    assert_eq!(signer.verifier().to_string(), GO_VERIFIER_KEY);
    assert_eq!(signer.to_private_key_string(), GO_SIGNER_KEY);
    let expected_note = format!("{GO_TEXT}\n{GO_SIGNATURE_LINE}");
    assert_eq!(sign_note(GO_TEXT, &[&signer]).unwrap(), expected_note);
    let verifier = VerifierKey::parse(GO_VERIFIER_KEY).unwrap();
    let opened = open_note(&expected_note, std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(opened.body, GO_TEXT);
    assert_eq!(opened.verified_by, vec![verifier]);
}

#[test]
fn a_key_from_a_fixed_seed_formats_and_parses_stably() {
    let seed: [u8; 32] = core::array::from_fn(|byte_idx| byte_idx as u8);
    let signer = SignerKey::from_seed("claimtrail.example/anchor", &seed).unwrap();
    let vkey = signer.verifier().to_string();
    let skey = signer.to_private_key_string();
    // The key id is SHA-256(name || 0x0A || 0x01 || public key)[..4].
    let public_key = signer.verifier().public_key();
    let mut key_id_input = b"claimtrail.example/anchor\n\x01".to_vec();
    key_id_input.extend_from_slice(&public_key);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&key_id_input);
    assert_eq!(signer.key_id().0, digest[..4]);
    assert_eq!(vkey, format!("claimtrail.example/anchor+{}+{}", hex::encode(&digest[..4]), BASE64.encode([&[0x01][..], &public_key].concat())));
    assert_eq!(skey, format!("PRIVATE+KEY+claimtrail.example/anchor+{}+{}", hex::encode(&digest[..4]), BASE64.encode([&[0x01][..], &seed].concat())));
    // format -> parse -> format is the identity.
    let reparsed_verifier = VerifierKey::parse(&vkey).unwrap();
    assert_eq!(reparsed_verifier, signer.verifier());
    assert_eq!(reparsed_verifier.to_string(), vkey);
    let reparsed_signer = SignerKey::parse(&skey).unwrap();
    assert_eq!(reparsed_signer.to_private_key_string(), skey);
    assert_eq!(reparsed_signer.verifier(), signer.verifier());
    // Ed25519 is deterministic: the same seed signs the same body identically.
    assert_eq!(sign_note(BODY, &[&signer]).unwrap(), sign_note(BODY, &[&reparsed_signer]).unwrap());
}

#[test]
fn a_signed_note_round_trips_with_several_signers() {
    let log = signer("claimtrail.example/anchor", 1);
    let witness = signer("witness.example", 2);
    let note = sign_note(BODY, &[&log, &witness]).unwrap();
    assert!(note.starts_with(&format!("{BODY}\n\u{2014} claimtrail.example/anchor ")));
    assert_eq!(note.lines().count(), 3 + 1 + 2);

    let opened = open_note(&note, &[log.verifier(), witness.verifier()]).unwrap();
    assert_eq!(opened.body, BODY);
    assert_eq!(opened.verified_by, vec![log.verifier(), witness.verifier()]);
    assert!(opened.unknown_signers.is_empty());
}

#[test]
fn signatures_by_unknown_keys_are_ignored_when_a_trusted_key_signed() {
    let log = signer("log", 1);
    let stranger = signer("stranger", 2);
    let note = sign_note(BODY, &[&stranger, &log]).unwrap();
    let opened = open_note(&note, &[log.verifier()]).unwrap();
    assert_eq!(opened.verified_by, vec![log.verifier()]);
    assert_eq!(opened.unknown_signers, vec![("stranger".to_string(), stranger.key_id())]);
}

#[test]
fn a_note_signed_only_by_unknown_keys_is_rejected() {
    let log = signer("log", 1);
    let impostor = signer("log", 3); // same name, different key, so a different key id
    let note = sign_note(BODY, &[&impostor]).unwrap();
    assert_eq!(open_note(&note, &[log.verifier()]), Err(NoteError::NoTrustedSignature));
}

#[test]
fn a_tampered_body_is_rejected() {
    let log = signer("log", 1);
    let note = sign_note(BODY, &[&log]).unwrap();
    let tampered = note.replacen("\n3\n", "\n4\n", 1);
    assert_ne!(tampered, note);
    assert_eq!(open_note(&tampered, &[log.verifier()]), Err(NoteError::InvalidSignature { name: "log".to_string(), key_id: log.key_id() }));
}

#[test]
fn a_signature_by_the_wrong_key_under_a_trusted_id_is_rejected() {
    let log = signer("log", 1);
    let forger = signer("forger", 4);
    let forged_signature = forger.sign(BODY.as_bytes());
    let note = format!("{BODY}\n{}", signature_line("log", log.key_id(), &forged_signature));
    assert!(matches!(open_note(&note, &[log.verifier()]), Err(NoteError::InvalidSignature { .. })));
}

#[test]
fn a_bad_signature_from_a_trusted_key_rejects_even_if_another_verifies() {
    let log = signer("log", 1);
    let witness = signer("witness", 2);
    let good = sign_note(BODY, &[&log]).unwrap();
    let bad_line = signature_line("witness", witness.key_id(), &[0u8; 64]);
    let note = format!("{good}{bad_line}");
    assert!(matches!(
        open_note(&note, &[log.verifier(), witness.verifier()]),
        Err(NoteError::InvalidSignature { name, .. }) if name == "witness"
    ));
}

#[test]
fn duplicate_signature_lines_are_rejected() {
    let log = signer("log", 1);
    let note = sign_note(BODY, &[&log]).unwrap();
    let signature_line = note.rsplit_once("\n\n").unwrap().1;
    let duplicated = format!("{note}{signature_line}");
    assert_eq!(open_note(&duplicated, &[log.verifier()]), Err(NoteError::DuplicateSignature { name: "log".to_string(), key_id: log.key_id() }));
    // Also for keys the verifier does not know.
    let stranger = signer("stranger", 2);
    let twice = sign_note(BODY, &[&log, &stranger, &stranger]).unwrap();
    assert!(matches!(open_note(&twice, &[log.verifier()]), Err(NoteError::DuplicateSignature { .. })));
}

#[test]
fn malformed_signature_lines_are_rejected() {
    let log = signer("log", 1);
    let good = sign_note(BODY, &[&log]).unwrap();
    let good_line = good.rsplit_once("\n\n").unwrap().1.trim_end_matches('\n');
    let blob = good_line.rsplit_once(' ').unwrap().1;
    let bad_lines = [
        format!("-- log {blob}"),                                  // not an em dash
        format!("\u{2014}log {blob}"),                             // no space after the dash
        format!("\u{2014} log  {blob}"),                           // two spaces
        format!("\u{2014} log {blob} extra"),                      // trailing field
        format!("\u{2014} lo+g {blob}"),                           // '+' in name
        format!("\u{2014}  {blob}"),                               // empty name
        "\u{2014} log ".to_string(),                               // empty signature
        "\u{2014} log not*base64".to_string(),                     // bad base64
        format!("\u{2014} log {}", blob.trim_end_matches('=')),    // unpadded
        format!("\u{2014} log {}", BASE64.encode([1u8, 2, 3, 4])), // key id only
    ];
    for bad_line in bad_lines {
        let note = format!("{good}{bad_line}\n");
        assert_eq!(open_note(&note, &[log.verifier()]), Err(NoteError::MalformedSignatureLine { line_number: 2 }), "{bad_line:?}");
    }
    // An empty line after the signatures moves the split point past them.
    assert!(open_note(&format!("{good}\n"), &[log.verifier()]).is_err());
}

#[test]
fn a_note_with_more_than_100_signatures_is_rejected() {
    let log = signer("log", 1);
    let mut note = sign_note(BODY, &[&log]).unwrap();
    for stranger_idx in 0..100u32 {
        let key_id = KeyId(stranger_idx.to_be_bytes());
        note.push_str(&signature_line(&format!("s{stranger_idx}"), key_id, &[0u8; 64]));
    }
    assert_eq!(open_note(&note, &[log.verifier()]), Err(NoteError::TooManySignatures));
    // Exactly 100 is allowed.
    let allowed: String = note.lines().take(3 + 1 + 100).map(|line| format!("{line}\n")).collect();
    assert!(open_note(&allowed, &[log.verifier()]).is_ok());
}

#[test]
fn notes_without_a_signature_block_or_with_control_characters_are_rejected() {
    let log = signer("log", 1);
    let note = sign_note(BODY, &[&log]).unwrap();
    let trusted = [log.verifier()];
    assert_eq!(open_note(BODY, &trusted), Err(NoteError::MissingSignatureBlock));
    assert_eq!(open_note(note.trim_end_matches('\n'), &trusted), Err(NoteError::MissingSignatureBlock));
    assert_eq!(open_note(&format!("{BODY}\n"), &trusted), Err(NoteError::MissingSignatureBlock));
    assert_eq!(open_note(&note.replacen('3', "3\r", 1), &trusted), Err(NoteError::ControlCharacter));
    assert_eq!(sign_note("tab\there\n", &[&log]), Err(NoteError::ControlCharacter));
    assert_eq!(sign_note("no newline", &[&log]), Err(NoteError::BodyNotNewlineTerminated));
    assert_eq!(sign_note("", &[&log]), Err(NoteError::BodyNotNewlineTerminated));
    assert_eq!(sign_note(BODY, &[]), Err(NoteError::NoSigners));
}

#[test]
fn a_body_with_a_blank_line_still_opens_to_the_same_body() {
    let log = signer("log", 1);
    let body = "first\n\nthird\n";
    let note = sign_note(body, &[&log]).unwrap();
    assert_eq!(open_note(&note, &[log.verifier()]).unwrap().body, body);
}

#[test]
fn malformed_keys_are_rejected() {
    let vkey = signer("log", 1).verifier().to_string();
    let (name_and_id, key_base64) = vkey.rsplit_once('+').unwrap();
    let id_hex = name_and_id.split_once('+').unwrap().1;
    assert!(matches!(VerifierKey::parse(&format!("log+00000000+{key_base64}")), Err(KeyError::KeyIdMismatch { .. })));
    assert!(matches!(VerifierKey::parse(&format!("log+{}+{key_base64}", id_hex.to_uppercase())), Err(KeyError::Malformed(_))));
    assert!(matches!(VerifierKey::parse(&format!("log+{}+{key_base64}", &id_hex[..7])), Err(KeyError::Malformed(_))));
    assert!(matches!(VerifierKey::parse(&format!("other+{id_hex}+{key_base64}")), Err(KeyError::KeyIdMismatch { .. })));
    assert!(matches!(VerifierKey::parse(&format!("+{id_hex}+{key_base64}")), Err(KeyError::InvalidName(_))));
    assert!(matches!(VerifierKey::parse(&format!("log+{id_hex}")), Err(KeyError::Malformed(_))));
    let raw = BASE64.decode(key_base64).unwrap();
    let mut wrong_type = raw.clone();
    wrong_type[0] = 0x04;
    assert_eq!(VerifierKey::parse(&format!("log+{id_hex}+{}", BASE64.encode(&wrong_type))), Err(KeyError::UnsupportedKeyType(0x04)));
    assert!(matches!(VerifierKey::parse(&format!("log+{id_hex}+{}", BASE64.encode(&raw[..32]))), Err(KeyError::Malformed(_))));
    assert!(matches!(VerifierKey::parse(&format!("log+{id_hex}+{key_base64}=")), Err(KeyError::Malformed(_))));
    assert!(matches!(SignerKey::parse(&vkey), Err(KeyError::Malformed(_))));
    for bad_name in ["", "a b", "a+b", "tab\tname", "nbsp\u{a0}name"] {
        assert_eq!(SignerKey::from_seed(bad_name, &[1u8; 32]).map(|key| key.name().to_string()), Err(KeyError::InvalidName(bad_name.to_string())));
    }
}

#[test]
fn generated_keys_differ_and_sign() {
    let first = SignerKey::generate("anchor").unwrap();
    let second = SignerKey::generate("anchor").unwrap();
    assert_ne!(first.key_id(), second.key_id());
    let note = sign_note(BODY, &[&first]).unwrap();
    assert!(open_note(&note, &[first.verifier()]).is_ok());
    assert!(!format!("{first:?}").contains(&first.to_private_key_string()));
}
