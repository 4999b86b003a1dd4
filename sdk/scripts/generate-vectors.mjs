#!/usr/bin/env node
// Regenerates spec/vectors deterministically from fixed test keys (TEST ONLY,
// never use them for anything else). Ed25519 signatures are deterministic;
// the JWE uses a fixed ephemeral key, CEK and IV so the output is stable.
// Written against jose directly, not the SDK's sealing code, so the vectors
// cross-check the SDK rather than echo it.
import { createHash, createPrivateKey } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CompactEncrypt, CompactSign, calculateJwkThumbprint, importJWK } from 'jose'
import { vaultAddressFromPayload, VAULT_ADDRESS_ALPHABET as A, formatVaultAddress, portingCodeFromBody, formatPortingCode } from '../dist/index.js'

const out = fileURLToPath(new URL('../../spec/vectors/', import.meta.url))
mkdirSync(out, { recursive: true })
const write = (name, value) => writeFileSync(out + name, JSON.stringify(value, null, 2) + '\n')
const b64u = (buf) => Buffer.from(buf).toString('base64url')
const sha = (data) => createHash('sha256').update(data).digest('base64url')
const seed = (label) => createHash('sha256').update('timbre test vector ' + label).digest()

// Private keys from fixed seeds (PKCS#8 prefix for a 32-byte Ed25519/X25519 seed).
function keyFromSeed(label, crv) {
  const prefix = crv === 'Ed25519' ? '302e020100300506032b657004220420' : '302e020100300506032b656e04220420'
  const k = createPrivateKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), seed(label)]), format: 'der', type: 'pkcs8' })
  const jwk = k.export({ format: 'jwk' })
  return jwk
}
async function timbreKey(label, crv) {
  const jwk = keyFromSeed(label, crv)
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv, x: jwk.x })
  const use = crv === 'Ed25519' ? 'sig' : 'enc'
  return { kty: 'OKP', crv, x: jwk.x, d: jwk.d, kid, use, alg: use === 'sig' ? 'EdDSA' : 'ECDH-ES+A256KW', timbre_not_before: '2026-01-01T00:00:00.000Z' }
}
const pub = ({ d, ...rest }) => rest

const keys = {
  note: 'TEST KEYS ONLY. Derived from fixed seeds; published on purpose.',
  sender: await timbreKey('sender', 'Ed25519'),
  router: await timbreKey('router', 'Ed25519'),
  operatorSig: await timbreKey('operator-sig', 'Ed25519'),
  operatorEnc: await timbreKey('operator-enc', 'X25519'),
  directory: await timbreKey('directory', 'Ed25519'),
  other: await timbreKey('other', 'Ed25519'),
}
write('keys.json', keys)

async function jws(payload, typ, key, alg = 'EdDSA') {
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ, kid: key.kid })
    .sign(await importJWK({ kty: 'OKP', crv: key.crv, x: key.x, d: key.d }, 'EdDSA'))
}
function tamperSignature(token) {
  const [h, p, s] = token.split('.')
  const bytes = Buffer.from(s, 'base64url')
  bytes[0] ^= 0x01
  return `${h}.${p}.${b64u(bytes)}`
}

// --- vault addresses ---------------------------------------------------------
const payloads = ['00000000000000', 'ZZZZZZZZZZZZZZ', 'K7QM3X9R2VHD8P', '1234567890ABCD', 'TMB0PAYSL1P5AB'.replace(/[IL]/g, '1').replace(/O/g, '0')]
const valid = payloads.map((p) => {
  const a = vaultAddressFromPayload(p)
  return { input: formatVaultAddress(a).toLowerCase(), normal: a, display: formatVaultAddress(a) }
})
const base = valid[2].normal
const swapAt = (s, i) => s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2)
const invalid = [
  { input: base.slice(0, 5) + (base[5] === 'A' ? 'B' : 'A') + base.slice(6), reason: 'check', kind: 'substitution' },
  { input: base.slice(0, 15) + (base[15] === '0' ? '1' : '0'), reason: 'check', kind: 'substitution in a check character' },
  { input: swapAt(base, 3), reason: 'check', kind: 'adjacent transposition' },
  { input: swapAt(base, 14), reason: 'check', kind: 'adjacent transposition across the check characters' },
  { input: base.slice(0, 15), reason: 'length', kind: 'missing character' },
  { input: base + '0', reason: 'length', kind: 'extra character' },
  { input: 'U' + base.slice(1), reason: 'character', kind: 'character outside the alphabet' },
]
write('vault-addresses.json', { alphabet: A, rule: 'MOD 1021-32: the 16 characters read as a base-32 number are congruent to 1 modulo 1021', valid, invalid })

// --- envelope and content ----------------------------------------------------
const recipient = valid[2].normal
const document = '%PDF-1.7\n% Timbre test vector payslip, November 2026\n'
const epkJwk = keyFromSeed('epk', 'X25519')
const epk = await importJWK({ kty: 'OKP', crv: 'X25519', x: epkJwk.x, d: epkJwk.d }, 'ECDH-ES+A256KW', { extractable: true })
const content = await new CompactEncrypt(Buffer.from(document))
  .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', typ: 'timbre-content+jwe', kid: keys.operatorEnc.kid, cty: 'application/pdf' })
  .setKeyManagementParameters({ epk })
  .setContentEncryptionKey(seed('cek'))
  .setInitializationVector(seed('iv').subarray(0, 12))
  .encrypt(await importJWK(pub(keys.operatorEnc), 'ECDH-ES+A256KW'))
const metadata = {
  v: 1,
  messageId: '0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  sender: '0009:12345678900011',
  recipient,
  documentType: 'payslip',
  title: 'Payslip November 2026',
  issueDate: '2026-11-28',
  retentionHint: 'P50Y',
  senderReference: 'PAY-2026-11-0042',
  content: { mediaType: 'application/pdf', size: Buffer.byteLength(document), digest: { alg: 'sha-256', value: sha(document) } },
  contentJweDigest: sha(content),
  recipientKid: keys.operatorEnc.kid,
  createdAt: '2026-11-28T10:00:00.000Z',
}
const envelope = await jws(metadata, 'timbre-envelope+jws', keys.sender)
const otherDoc = '%PDF-1.7\n% another document\n'
const wrongDigestMeta = { ...metadata, content: { ...metadata.content, digest: { alg: 'sha-256', value: sha(otherDoc) } } }
write('envelope.json', {
  plaintext: document,
  metadata,
  envelope,
  content,
  senderKey: pub(keys.sender),
  negative: [
    { name: 'tampered signature', envelope: tamperSignature(envelope), content, expect: 'envelope-invalid' },
    { name: 'wrong typ', envelope: await jws(metadata, 'JWT', keys.sender), content, expect: 'envelope-invalid' },
    { name: 'signed by another key', envelope: await jws(metadata, 'timbre-envelope+jws', keys.other), content, expect: 'envelope-invalid' },
    { name: 'alg none', envelope: `${b64u(JSON.stringify({ alg: 'none', typ: 'timbre-envelope+jws', kid: keys.sender.kid }))}.${envelope.split('.')[1]}.`, content, expect: 'envelope-invalid' },
    { name: 'content does not match contentJweDigest', envelope: await jws({ ...metadata, contentJweDigest: sha('x') }, 'timbre-envelope+jws', keys.sender), content, expect: 'content-digest-mismatch' },
    { name: 'wrong plaintext digest', envelope: await jws(wrongDigestMeta, 'timbre-envelope+jws', keys.sender), content, expect: 'content-digest-mismatch', stage: 'open' },
  ],
})

// --- evidence ----------------------------------------------------------------
const refs = {
  messageId: metadata.messageId,
  sender: metadata.sender,
  recipient,
  contentDigest: metadata.content.digest,
  envelopeDigest: sha(envelope),
  senderKid: keys.sender.kid,
}
const events = [
  ['SubmissionAcceptance', 'router.example', keys.router, { stampClass: 'standard', recipientOperator: 'vault-b.example' }],
  ['SubmissionRejection', 'router.example', keys.router, { reason: { code: 'recipient-unknown' } }],
  ['RelayAcceptance', 'vault-b.example', keys.operatorSig, { recipientOperator: 'vault-b.example' }],
  ['RelayRejection', 'router.example', keys.router, { reason: { code: 'recipient-moved', detail: 'now at vault-c.example' } }],
  ['RelayFailure', 'router.example', keys.router, { reason: { code: 'unavailable', detail: 'delivery window of 72 h elapsed' } }],
  ['DepositAcceptance', 'vault-b.example', keys.operatorSig, { recipientOperator: 'vault-b.example' }],
  ['DepositRejection', 'vault-b.example', keys.operatorSig, { reason: { code: 'content-digest-mismatch' } }],
  ['Handover', 'vault-b.example', keys.operatorSig, { recipientOperator: 'vault-b.example' }],
]
const evidence = []
let n = 0
for (const [event, issuer, key, extra] of events) {
  n++
  const payload = { ...refs, ...extra, v: 1, evidenceId: `0193a1b2-c3d4-7e5f-8a6b-00000000000${n}`, event, time: `2026-11-28T10:00:0${n}.000Z`, issuer }
  evidence.push({ event, issuerKey: pub(key), payload, jws: await jws(payload, 'timbre-evidence+jws', key) })
}
const stamp = evidence[0]
write('evidence.json', {
  keys: { keys: [pub(keys.router), pub(keys.operatorSig)] },
  evidence,
  negative: [
    { name: 'tampered signature', jws: tamperSignature(stamp.jws), expect: 'evidence-invalid' },
    { name: 'wrong typ', jws: await jws(stamp.payload, 'timbre-envelope+jws', keys.router), expect: 'evidence-invalid' },
    { name: 'unknown key', jws: await jws(stamp.payload, 'timbre-evidence+jws', keys.other), expect: 'evidence-invalid' },
    { name: 'unknown event', jws: await jws({ ...stamp.payload, event: 'Teleported' }, 'timbre-evidence+jws', keys.router), expect: 'evidence-invalid' },
  ],
})
write('stamp.json', { key: pub(keys.router), stamp: stamp.jws, payload: stamp.payload, envelope })

// --- directory line ----------------------------------------------------------
const line = {
  v: 1,
  address: recipient,
  operator: 'vault-b.example',
  relayEndpoint: 'https://vault-b.example/v1/relay',
  encryptionKeys: [pub(keys.operatorEnc)],
  version: 3,
  validFrom: '2026-11-01T00:00:00.000Z',
  validTo: null,
  issuedAt: '2026-11-28T09:59:00.000Z',
  issuer: 'directory.example',
}
write('directory-line.json', {
  key: pub(keys.directory),
  line,
  jws: await jws(line, 'timbre-directory-line+jws', keys.directory),
  negative: [{ name: 'tampered signature', jws: tamperSignature(await jws(line, 'timbre-directory-line+jws', keys.directory)) }],
})

// --- request proof -----------------------------------------------------------
const body = JSON.stringify({ envelope, content })
const claims = { iss: metadata.sender, aud: 'router.example', htm: 'POST', htu: '/v1/submissions', iat: 1796119200, exp: 1796119320, jti: '0193a1b2-c3d4-7e5f-8a6b-aaaaaaaaaaaa', bdg: sha(body) }
write('request-proof.json', {
  key: pub(keys.sender),
  body,
  claims,
  authorization: `Timbre ${await jws(claims, 'timbre-request+jwt', keys.sender)}`,
  verifyAt: '2026-12-01T10:01:00.000Z',
})
// --- porting code ------------------------------------------------------------
{
  const address = valid[2].normal
  const code = portingCodeFromBody(address, '4ZTQ8MWD0R')
  write('porting-code.json', {
    rule: 'MOD 1021-32 over K ‖ code ≡ 1, K = 14 chars from sha-256("timbre-porting-code-key:" ‖ address), each byte mod 32',
    address,
    body: '4ZTQ8MWD0R',
    code,
    display: formatPortingCode(code),
    codeDigest: sha(`timbre-porting-code:${address}:${code}`),
    negative: [
      { name: 'substitution', address, code: code.slice(0, 3) + (code[3] === 'A' ? 'B' : 'A') + code.slice(4), reason: 'check' },
      { name: 'adjacent transposition', address, code: code.slice(0, 1) + code[2] + code[1] + code.slice(3), reason: 'check' },
      { name: 'code of another address', address: valid[3].normal, code, reason: 'check' },
      { name: 'too short', address, code: code.slice(0, 11), reason: 'length' },
    ],
  })
}
console.log(`vectors written to ${out}`)
