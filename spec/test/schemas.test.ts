import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { schemasDir, specDir } from '../index.js'
import { makeAjv, schemas, SCHEMA_BASE } from './helpers/ajv.js'

const all = schemas()
const files = readdirSync(schemasDir).filter((f) => f.endsWith('.json')).sort()

const REQUIRED_FILES = [
  'common.json', 'envelope.json', 'submission-request.json', 'submission-response.json', 'delivery-status.json',
  'evidence-list.json', 'evidence.json', 'request-proof.json', 'relay-request.json', 'relay-response.json',
  'directory-line.json', 'directory-lookup-response.json', 'operator.json', 'directory-change.json',
  'directory-changes-response.json', 'discovery.json', 'jwks.json', 'trust-list.json', 'problem.json',
  'webhook-payload.json', 'admin-sender.json', 'admin-sender-patch.json', 'vault-account.json', 'porting-code.json',
  'port-request.json', 'port-objection.json', 'archive-manifest.json',
  // chapters 7, 8, 9 and 11
  'reroute-request.json', 'evidence-push.json', 'directory-notification.json', 'porting-code-record.json', 'port.json',
  'port-list.json', 'port-cancellation.json', 'archive-vault.json', 'archive-document.json', 'archive-import-response.json',
  'stamp-balance.json', 'ledger-entry.json', 'ledger.json', 'statement.json', 'settlement-statement.json',
  'statement-response.json', 'reconciliation.json', 'admin-topup.json', 'admin-adjustment.json',
]

/** The codes of the table of spec/12-errors.md (12.1), in table order. */
function chapterErrorCodes(): string[] {
  const text = readFileSync(join(specDir, '12-errors.md'), 'utf8')
  const start = text.indexOf('| code | status | retryable | meaning |')
  const rows = text.slice(start).split('\n').slice(2)
  const end = rows.findIndex((l) => !l.startsWith('|'))
  return rows.slice(0, end).map((l) => /^\| `([a-z0-9-]+)` \|/.exec(l)?.[1] ?? `<bad row ${l}>`)
}

// Every code of design notes §9 plus the portability codes.
const ERROR_CODES = [
  'malformed-json', 'unsupported-media-type', 'body-too-large', 'schema-violation', 'invalid-vault-address',
  'auth-required', 'auth-invalid', 'request-replayed', 'sender-unknown', 'sender-disabled', 'sender-mismatch',
  'node-untrusted', 'admin-unauthorized', 'idempotency-key-missing', 'idempotency-key-reused',
  'idempotency-in-progress', 'message-id-conflict', 'envelope-invalid', 'content-digest-mismatch',
  'content-undecryptable', 'content-too-large', 'stamp-invalid', 'recipient-unknown', 'recipient-moved', 'not-found',
  'method-not-allowed', 'directory-conflict', 'rate-limited', 'unavailable', 'internal-error',
  'stamp-balance-exhausted', 'porting-code-invalid', 'porting-code-expired', 'porting-code-used',
  'port-already-pending', 'port-not-cancellable', 'port-cancel-forbidden', 'port-objection-forbidden',
  'port-objection-closed', 'archive-invalid',
]

t.test('the required schema files exist', async (t) => {
  for (const f of REQUIRED_FILES) t.ok(files.includes(f), f)
})

t.test('every schema has $schema 2020-12, $id = SCHEMA_BASE + file name, title, description', async (t) => {
  t.equal(all.length, files.length)
  all.forEach((s, i) => {
    const f = files[i]!
    t.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema', `${f} $schema`)
    t.equal(s.$id, SCHEMA_BASE + f, `${f} $id`)
    t.type(s.title, 'string', `${f} title`)
    t.type(s.description, 'string', `${f} description`)
    if (f !== 'common.json') t.ok(Array.isArray(s.examples) && s.examples.length > 0, `${f} has examples`)
  })
  t.equal(new Set(all.map((s) => s.$id)).size, all.length, '$ids are unique')
})

t.test('every schema compiles with ajv 2020-12 in strict mode', async (t) => {
  const ajv = makeAjv()
  for (const s of all) t.doesNotThrow(() => ajv.getSchema(s.$id) ?? ajv.compile(s), s.$id)
})

t.test('every examples entry validates (schema examples and $defs examples)', async (t) => {
  const ajv = makeAjv()
  for (const s of all) {
    const validate = ajv.getSchema(s.$id)!
    for (const [i, ex] of (s.examples ?? []).entries()) t.ok(validate(ex), `${s.$id} example ${i}`, { errors: validate.errors })
    const defs = (s.$defs ?? {}) as Record<string, { examples?: unknown[] }>
    for (const [name, def] of Object.entries(defs)) {
      const v = ajv.getSchema(`${s.$id}#/$defs/${name}`)!
      for (const [i, ex] of (def.examples ?? []).entries()) t.ok(v(ex), `${s.$id}#/$defs/${name} example ${i}`, { errors: v.errors })
    }
  }
})

t.test('signed payloads are closed; discovery is open', async (t) => {
  for (const f of ['envelope.json', 'evidence.json', 'request-proof.json', 'directory-line.json', 'trust-list.json', 'archive-manifest.json', 'jws-header.json', 'jwe-header.json', 'statement.json', 'settlement-statement.json', 'archive-vault.json', 'archive-document.json']) {
    t.equal(all.find((s) => s.$id === SCHEMA_BASE + f)?.additionalProperties, false, `${f} closed`)
  }
  t.equal(all.find((s) => s.$id === SCHEMA_BASE + 'discovery.json')?.additionalProperties, true, 'discovery open')
})

t.test('error code enum is exactly the table of chapter 12 (and holds the design-notes and portability codes)', async (t) => {
  const common = all.find((s) => s.$id === SCHEMA_BASE + 'common.json')!
  const codes = ((common.$defs as Record<string, { enum: string[] }>).errorCode!).enum
  const table = chapterErrorCodes()
  t.ok(table.length >= 40, `${table.length} codes in the chapter 12 table`)
  t.same(codes, table, 'same codes in the same order as 12.1')
  for (const c of ERROR_CODES) t.ok(codes.includes(c), c)
  t.equal(new Set(codes).size, codes.length, 'no duplicates')
})

function example(file: string, i = 0): Record<string, unknown> {
  return structuredClone(all.find((s) => s.$id === SCHEMA_BASE + file)!.examples![i]) as Record<string, unknown>
}

t.test('negative samples fail', async (t) => {
  const ajv = makeAjv()
  const v = (file: string, data: unknown) => ajv.getSchema(SCHEMA_BASE + file)!(data)
  const def = (name: string, data: unknown) => ajv.getSchema(`${SCHEMA_BASE}common.json#/$defs/${name}`)!(data)

  for (const bad of ['K7QM3X9R2VHD8P7', 'K7QM3X9R2VHD8P7HX', 'k7qm3x9r2vhd8p7h', 'K7QM-3X9R-2VHD-8P7H', 'K7QM3X9R2VHD8P7U', 'O7QM3X9R2VHD8P7H', 'I7QM3X9R2VHD8P7H', 'L7QM3X9R2VHD8P7H']) {
    t.notOk(def('vaultAddress', bad), `vault address ${bad}`)
  }
  t.ok(def('vaultAddress', 'K7QM3X9R2VHD8P7H'))

  const env = example('envelope.json')
  t.notOk(v('envelope.json', { ...env, recipient: 'K7QM-3X9R-2VHD-8P7H' }), 'envelope with display-form address')
  t.notOk(v('envelope.json', { ...env, documentType: 'love-letter' }), 'unknown document type')
  t.notOk(v('envelope.json', { ...env, extra: 1 }), 'unknown envelope member')
  t.notOk(v('envelope.json', { ...env, v: 2 }), 'envelope v 2')
  t.notOk(v('envelope.json', { ...env, messageId: '01937A2E-4C1D-7A3B-8F20-5B6C7D8E9F01' }), 'uppercase message id')
  t.notOk(v('envelope.json', { ...env, content: { ...(env.content as object), digest: { alg: 'sha-1', value: 'x' } } }), 'sha-1 digest')
  t.notOk(v('envelope.json', { ...env, sender: '9:123' }), 'bad org id')

  const jwk = { kty: 'OKP', crv: 'Ed25519', x: '6uHIeTtVl8Sz9JDnasMRcsQ5aQ-O4UFCu4UaYfmknw4' }
  t.ok(def('publicJwk', jwk))
  t.notOk(def('publicJwk', { ...jwk, d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' }), 'JWK with private d')
  t.notOk(def('publicJwk', { ...jwk, kty: 'EC' }), 'EC JWK')
  t.notOk(def('publicJwk', { ...jwk, use: 'enc' }), 'Ed25519 key for enc')
  t.notOk(def('publicJwk', { ...jwk, crv: 'X25519', alg: 'EdDSA' }), 'X25519 key with EdDSA')
  t.notOk(def('encryptionJwk', jwk), 'Ed25519 as encryption key')
  t.notOk(v('relay-request.json', { ...example('relay-request.json'), senderKey: { ...jwk, d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' } }), 'relay with private sender key')
  const jwks = example('jwks.json')
  t.notOk(v('jwks.json', { keys: [{ ...(jwks.keys as object[])[0], d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' }] }), 'JWKS with private d')

  const stamp = example('evidence.json', 0)
  t.notOk(v('evidence.json', { ...stamp, event: 'Delivered' }), 'unknown evidence event')
  const { senderKid: _kid, ...stampWithoutKid } = stamp
  t.notOk(v('evidence.json', stampWithoutKid), 'stamp without senderKid')
  const failure = example('evidence.json', 2)
  const { reason: _r, ...failureWithoutReason } = failure
  t.notOk(v('evidence.json', failureWithoutReason), 'RelayFailure without reason')

  t.notOk(v('submission-request.json', { envelope: 'a.b.c', content: 'a.b.c' }), 'content that is not a 5-part JWE')
  t.notOk(v('submission-request.json', { envelope: 'a.b', content: 'a.b.c.d.e' }), 'envelope that is not a 3-part JWS')
  t.notOk(v('request-proof.json', { ...example('request-proof.json'), htm: 'TRACE' }), 'proof with bad htm')
  t.notOk(v('jws-header.json', { alg: 'none', typ: 'timbre-envelope+jws', kid: 'SXLVIdhuLWkvkBeP6VyhE_zPvMSr6XG4uNKNtCt9pJE' }), 'alg none')
  t.notOk(v('jws-header.json', { alg: 'EdDSA', typ: 'JWT', kid: 'SXLVIdhuLWkvkBeP6VyhE_zPvMSr6XG4uNKNtCt9pJE' }), 'wrong typ')
  t.notOk(v('problem.json', { ...example('problem.json'), code: 'teapot' }), 'unknown error code')
  t.notOk(v('admin-sender-patch.json', {}), 'empty patch')
  t.ok(v('discovery.json', { ...example('discovery.json'), futureMember: { anything: true } }), 'discovery accepts unknown members')
  const { retry: _retry, ...discoveryWithoutRetry } = example('discovery.json')
  t.notOk(v('discovery.json', discoveryWithoutRetry), 'discovery without retry (TMB-TRUST-010)')
  t.notOk(v('discovery.json', { ...example('discovery.json'), tariffs: [{ stampClass: 'standard', amount: -1, currency: 'EUR' }] }), 'negative tariff')
  t.notOk(v('envelope.json', { ...env, title: 'x'.repeat(201) }), 'title over 200 characters')
  t.notOk(v('envelope.json', { ...env, senderReference: 'x'.repeat(101) }), 'senderReference over 100 characters')

  // chapter 5 / 11: stamp class
  const sub = example('submission-request.json')
  t.ok(v('submission-request.json', { ...sub, stampClass: 'registered' }), 'registered stamp class')
  t.notOk(v('submission-request.json', { ...sub, stampClass: 'express' }), 'unknown stamp class')
  t.notOk(v('reroute-request.json', { ...sub, stampClass: 'standard' }), 're-route carries no stamp class')
  t.ok(v('jws-header.json', { alg: 'EdDSA', typ: 'timbre-manifest+jws', kid: 'SXLVIdhuLWkvkBeP6VyhE_zPvMSr6XG4uNKNtCt9pJE' }), 'manifest typ')
  t.ok(v('problem.json', { ...example('problem.json'), code: 'port-objection-closed', status: 409 }), 'port-objection-closed')

  // chapter 9: porting
  t.notOk(v('porting-code.json', { ...example('porting-code.json'), code: '4ZTQ8MWD0R7D' }), 'registration with the code in clear')
  const { consent: _consent, ...portWithoutConsent } = example('port-request.json')
  t.notOk(v('port-request.json', portWithoutConsent), 'port request without consent')
  t.notOk(v('port.json', { ...example('port.json'), portingCode: '4ZTQ8MWD0R7D' }), 'port record with the porting code')
  t.notOk(v('port-objection.json', { reason: { code: 'no-reason' } }), 'objection reason outside 9.4')
  t.ok(v('port-objection.json', { reason: { code: 'porting-code-used' } }), 'objection porting-code-used')
  t.notOk(v('port-cancellation.json', { reason: 'x' }), 'cancellation is an empty object')
  const manifest = example('archive-manifest.json')
  const files = manifest.files as Array<Record<string, unknown>>
  t.notOk(v('archive-manifest.json', { ...manifest, files: [...files, { ...files[0], path: 'manifest.jws' }] }), 'manifest lists itself')
  t.notOk(v('archive-manifest.json', { ...manifest, files: [{ ...files[0], path: '../etc/passwd' }] }), 'path with ..')
  t.notOk(v('archive-manifest.json', { ...manifest, files: [{ ...files[0], path: '/vault.json' }] }), 'absolute path')
  t.ok(v('archive-manifest.json', example('archive-manifest.json', 1)), 'self-export manifest without recipientOperator')

  // chapter 11: ledger and statements
  const { evidenceId: _e, ...chargeWithoutEvidence } = example('ledger-entry.json')
  t.notOk(v('ledger-entry.json', chargeWithoutEvidence), 'charge without evidenceId')
  const { reference: _ref, ...topupWithoutReference } = example('ledger-entry.json', 1)
  t.notOk(v('ledger-entry.json', topupWithoutReference), 'top-up without reference')
  const { reason: _reason, ...refundWithoutReason } = example('ledger-entry.json', 2)
  t.notOk(v('ledger-entry.json', refundWithoutReason), 'refund without reason')
  t.notOk(v('statement.json', { ...example('statement.json'), period: '2026-13' }), 'month 13')
  t.notOk(v('settlement-statement.json', { ...example('settlement-statement.json'), issuer: 'router.example' }), 'settlement payload names no signer')
})

t.test('JOSE tokens in the positive test vectors match the schemas', async (t) => {
  const { readdirSync: ls, readFileSync: read, existsSync } = await import('node:fs')
  const { vectorsDir } = await import('../index.js')
  if (!existsSync(vectorsDir)) return t.pass('no vectors yet')
  const ajv = makeAjv()
  const byTyp: Record<string, string> = {
    'timbre-envelope+jws': 'envelope.json', 'timbre-evidence+jws': 'evidence.json', 'timbre-request+jwt': 'request-proof.json',
    'timbre-directory-line+jws': 'directory-line.json', 'timbre-trust-list+jws': 'trust-list.json',
    'timbre-manifest+jws': 'archive-manifest.json',
  }
  const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8'))
  const check = (where: string, file: string, data: unknown) => {
    const validate = ajv.getSchema(SCHEMA_BASE + file)!
    t.ok(validate(data), `${where} matches ${file}`, { errors: validate.errors })
  }
  let count = 0
  const walk = (node: unknown, where: string): void => {
    if (/negative|tamper|invalid|wrong/i.test(where)) return // negative vectors are meant to fail somewhere
    if (typeof node === 'string' && /^eyJ[\w-]*\.[\w-]*\.[\w-]+$/.test(node)) {
      const header = part(node, 0)
      check(`${where} header`, 'jws-header.json', header)
      if (byTyp[header.typ] && node.split('.')[1]) check(`${where} payload`, byTyp[header.typ]!, part(node, 1))
      count++
    } else if (typeof node === 'string' && /^eyJ[\w-]*\.[\w-]*\.[\w-]+\.[\w-]*\.[\w-]+$/.test(node)) {
      check(`${where} header`, 'jwe-header.json', part(node, 0))
      count++
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`)
    }
  }
  for (const f of ls(vectorsDir).filter((x: string) => x.endsWith('.json')).sort()) walk(JSON.parse(read(`${vectorsDir}/${f}`, 'utf8')), f)
  t.ok(count >= 0, `${count} tokens checked`)
})
