// Checks, in the browser, each event's inclusion proof against the signed
// checkpoint, with the log key the auditor pinned (kept in localStorage, never
// fetched from the server being checked). SHA3-256 and Ed25519 come from the
// vendored @noble modules. Formats: docs/ledger-format.md.
import { sha3_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';

const PIN_STORAGE_KEY = 'claimtrail.pinnedLogKey';
const encoder = new TextEncoder();

function b64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// <name>+<8 hex key id>+<base64(0x01 ‖ 32-byte key)>; the key id must be SHA-256(name ‖ \n ‖ 0x01 ‖ key)[0..4].
export function parseVerifierKey(vkey) {
  // The base64 part may itself hold '+': split at the first two only.
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new Error('a log key reads <name>+<key id>+<base64 key>');
  const [name, keyId, encoded] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  let raw;
  try { raw = b64(encoded); } catch { throw new Error('the key part is not base64'); }
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('the key is not an Ed25519 verifier key (0x01 and 32 bytes)');
  const publicKey = raw.slice(1);
  const id = sha256(concat(encoder.encode(name), new Uint8Array([0x0a, 0x01]), publicKey)).slice(0, 4);
  if (hex(id) !== keyId.toLowerCase()) throw new Error(`the key id ${keyId} does not match the key (expected ${hex(id)})`);
  return { name, keyId: id, publicKey };
}

// The checkpoint's body, origin, size and root, checked against the pinned key.
export function verifyCheckpoint(note, key) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint is not a signed note');
  const body = note.slice(0, split + 1);
  const [origin, sizeText, rootText] = body.split('\n');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new Error('the checkpoint size is not a number');
  const root = b64(rootText);
  if (root.length !== 32) throw new Error('the checkpoint root is not 32 bytes');
  let signedByKey = false;
  for (const line of note.slice(split + 2).split('\n').filter((l) => l.length > 0)) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const raw = b64(match[2]);
    if (raw.length !== 68 || !equal(raw.slice(0, 4), key.keyId)) continue;
    if (!ed25519.verify(raw.slice(4), encoder.encode(body), key.publicKey, { zip215: false })) {
      throw new Error('the checkpoint signature does not verify with the pinned key');
    }
    signedByKey = true;
  }
  if (!signedByKey) throw new Error(`the checkpoint is not signed by the pinned key ${key.name}+${hex(key.keyId)}`);
  if (origin !== key.name) throw new Error(`the checkpoint's origin ${origin} is not the pinned key's name`);
  return { origin, size: Number(sizeText), root };
}

const node = (left, right) => sha3_256(concat(new Uint8Array([1]), left, right));

// RFC 9162 section 2.1.3.2, with SHA3-256.
export function rootFromInclusion(index, size, leaf, proof) {
  if (index >= size) throw new Error(`index ${index} is not below the tree size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = sha3_256(concat(new Uint8Array([0]), leaf));
  for (const p of proof) {
    if (sn === 0) throw new Error('the proof is longer than the tree allows');
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the proof is shorter than the tree needs');
  return r;
}

function pinnedKey() {
  return localStorage.getItem(PIN_STORAGE_KEY);
}

function showPinned() {
  const shown = document.getElementById('pinned-key');
  if (shown) shown.textContent = pinnedKey() || 'none pinned yet';
}

function verdict(row, ok, text) {
  const cell = row.querySelector('.verdict');
  cell.textContent = ok ? `verified: ${text}` : `FAILED: ${text}`;
  cell.className = `verdict ${ok ? 'ok' : 'failed'}`;
  row.dataset.verdict = ok ? 'verified' : 'failed';
}

export function checkAll() {
  const rows = Array.from(document.querySelectorAll('tr[data-leaf]'));
  const summary = document.getElementById('proof-summary');
  const noteElement = document.getElementById('checkpoint-note');
  if (!summary || !noteElement) return;
  const pinned = pinnedKey();
  if (!pinned) {
    summary.textContent = 'Pin the log\'s public key (below) to check these proofs.';
    summary.dataset.state = 'unpinned';
    for (const row of rows) verdict(row, false, 'no log key pinned');
    return;
  }
  let checkpoint;
  try {
    checkpoint = verifyCheckpoint(noteElement.textContent, parseVerifierKey(pinned));
  } catch (e) {
    summary.textContent = `FAILED: ${e.message}`;
    summary.dataset.state = 'failed';
    for (const row of rows) verdict(row, false, e.message);
    return;
  }
  let failures = 0;
  let checked = 0;
  for (const row of rows) {
    if (row.dataset.proof === undefined) {
      const cell = row.querySelector('.verdict');
      cell.textContent = 'not yet in a signed checkpoint';
      row.dataset.verdict = 'pending';
      continue;
    }
    checked++;
    try {
      const size = Number(row.dataset.size);
      if (size !== checkpoint.size) throw new Error(`the proof is for size ${size}, the checkpoint is ${checkpoint.size}`);
      const proof = row.dataset.proof === '' ? [] : row.dataset.proof.split(',').map(b64);
      const root = rootFromInclusion(Number(row.dataset.index), size, b64(row.dataset.leaf), proof);
      if (!equal(root, checkpoint.root)) throw new Error('the proof does not lead to the checkpoint\'s root');
      verdict(row, true, `in the tree of size ${checkpoint.size}`);
    } catch (e) {
      failures++;
      verdict(row, false, e.message);
    }
  }
  summary.textContent = failures === 0
    ? `All ${checked} proofs verified against checkpoint ${checkpoint.origin} size ${checkpoint.size}, signed by the pinned key.`
    : `FAILED: ${failures} of ${checked} proofs do not verify.`;
  summary.dataset.state = failures === 0 ? 'verified' : 'failed';
}

const form = document.getElementById('pin-form');
if (form) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('log-key');
    const message = document.getElementById('pin-message');
    try {
      parseVerifierKey(input.value);
      localStorage.setItem(PIN_STORAGE_KEY, input.value.trim());
      message.textContent = 'Key pinned in this browser.';
      input.value = '';
    } catch (e) {
      message.textContent = `Not pinned: ${e.message}`;
    }
    showPinned();
    checkAll();
  });
}
showPinned();
checkAll();
