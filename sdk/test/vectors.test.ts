import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadVector, vectorsDir } from '@timbre/spec'
import {
  TimbreError,
  formatVaultAddress,
  openContent,
  parseVaultAddress,
  verifyDirectoryLine,
  verifyEnvelope,
  verifyEvidence,
  verifyRequestProof,
  verifyStamp,
  tokenDigest,
  portingCodeFromBody,
  formatPortingCode,
  portingCodeDigest,
  checkPortingCode,
} from '../src/index.js'

const codeOf = async (fn: () => unknown) => {
  try {
    await fn()
    return 'no error'
  } catch (err) {
    return err instanceof TimbreError ? err.code : String(err)
  }
}

t.test('vault addresses: every valid vector parses, every typo is caught with its reason', async (t) => {
  const v = loadVector('vault-addresses.json')
  for (const ok of v.valid) {
    const r = parseVaultAddress(ok.input)
    t.same(r, { valid: true, address: ok.normal }, ok.input)
    t.equal(formatVaultAddress(ok.normal), ok.display)
  }
  for (const bad of v.invalid) t.same(parseVaultAddress(bad.input), { valid: false, reason: bad.reason }, bad.kind)
})

t.test('envelope: verifies, decrypts to the plaintext; negatives fail with their code', async (t) => {
  const v = loadVector('envelope.json')
  const keys = loadVector('keys.json')
  const meta = await verifyEnvelope(v.envelope, v.senderKey, v.content)
  t.same(meta, v.metadata)
  const plain = await openContent(v.content, meta, keys.operatorEnc)
  t.equal(Buffer.from(plain).toString('utf8'), v.plaintext)
  for (const neg of v.negative) {
    const code = await codeOf(async () => {
      const m = await verifyEnvelope(neg.envelope, v.senderKey, neg.content)
      if (neg.stage === 'open') await openContent(neg.content, m, keys.operatorEnc)
    })
    t.equal(code, neg.expect, neg.name)
  }
})

t.test('evidence: one of each event verifies with published keys; negatives fail', async (t) => {
  const v = loadVector('evidence.json')
  const events = new Set<string>()
  for (const e of v.evidence) {
    const ev = await verifyEvidence(e.jws, v.keys)
    t.same(ev, e.payload, e.event)
    events.add(e.event)
  }
  for (const required of ['SubmissionAcceptance', 'SubmissionRejection', 'RelayAcceptance', 'RelayRejection', 'RelayFailure', 'DepositAcceptance', 'DepositRejection']) {
    t.ok(events.has(required), `vector for ${required}`)
  }
  for (const neg of v.negative) t.equal(await codeOf(() => verifyEvidence(neg.jws, v.keys)), neg.expect, neg.name)
  const s = loadVector('stamp.json')
  const stamp = await verifyStamp(s.stamp, [s.key], { envelopeDigest: tokenDigest(s.envelope) })
  t.equal(stamp.event, 'SubmissionAcceptance')
})

t.test('directory line and request proof', async (t) => {
  const d = loadVector('directory-line.json')
  t.same(await verifyDirectoryLine(d.jws, [d.key]), d.line)
  for (const neg of d.negative) t.not(await codeOf(() => verifyDirectoryLine(neg.jws, [d.key])), 'no error', neg.name)
  const r = loadVector('request-proof.json')
  const check = {
    aud: r.claims.aud,
    method: 'POST',
    path: '/v1/submissions',
    body: r.body,
    now: new Date(r.verifyAt),
    resolveKey: (iss: string, kid: string) => (iss === r.claims.iss && kid === r.key.kid ? r.key : undefined),
  }
  t.equal((await verifyRequestProof(r.authorization, check)).jti, r.claims.jti)
  t.equal(await codeOf(() => verifyRequestProof(r.authorization, { ...check, body: r.body + ' ' })), 'auth-invalid', 'body changed')
  t.equal(await codeOf(() => verifyRequestProof(r.authorization, { ...check, now: new Date('2027-01-01T00:00:00Z') })), 'auth-invalid', 'expired')
})

t.test('porting code vector', async (t) => {
  const v = loadVector('porting-code.json')
  t.equal(portingCodeFromBody(v.address, v.body), v.code)
  t.equal(formatPortingCode(v.code), v.display)
  t.equal(portingCodeDigest(v.address, v.display), v.codeDigest)
  for (const neg of v.negative) t.same(checkPortingCode(neg.address, neg.code), { valid: false, reason: neg.reason }, neg.name)
})

t.test('the generator reproduces the committed vectors byte for byte', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-vectors-'))
  cpSync(vectorsDir, dir, { recursive: true })
  execFileSync(process.execPath, [join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'scripts', 'generate-vectors.mjs')], { stdio: 'pipe' })
  for (const f of readdirSync(vectorsDir)) t.equal(readFileSync(join(vectorsDir, f), 'utf8'), readFileSync(join(dir, f), 'utf8'), f)
})
