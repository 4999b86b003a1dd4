import t from 'tap'
import {
  KeySet,
  createRequestProof,
  generateSigningKey,
  signEvidence,
  signWebhook,
  toPublicJwk,
  verifyEvidence,
  verifyRequestProof,
  verifyStamp,
  verifyWebhookSignature,
  TimbreError,
  type PublicJwk,
} from '../src/index.js'

const codeOf = async (p: unknown) => {
  try {
    await (typeof p === 'function' ? p() : p)
    return 'no error'
  } catch (err) {
    return err instanceof TimbreError ? err.code : String(err)
  }
}

const refs = {
  issuer: 'router.example',
  messageId: '0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  sender: '0009:12345678900011',
  recipient: 'K7QM3X9R2VHD8P7H',
  contentDigest: { alg: 'sha-256' as const, value: 'x'.repeat(43) },
  envelopeDigest: 'y'.repeat(43),
}

t.test('a stamp verifies offline, after rotation, with the key valid at its time', async (t) => {
  const oldKey = await generateSigningKey(new Date('2026-01-01T00:00:00Z'))
  const { jws } = await signEvidence({ ...refs, event: 'SubmissionAcceptance', time: '2026-03-01T00:00:00.000Z' }, oldKey)
  const newKey = await generateSigningKey(new Date('2026-06-01T00:00:00Z'))
  const retired: PublicJwk = { ...toPublicJwk(oldKey), timbre_not_after: '2026-06-01T00:00:00Z' }
  const jwks = { keys: [retired, toPublicJwk(newKey)] }
  const ev = await verifyStamp(jws, jwks, { envelopeDigest: refs.envelopeDigest })
  t.equal(ev.event, 'SubmissionAcceptance')
  // Signed with the retired key after it retired: refused.
  const { jws: late } = await signEvidence({ ...refs, event: 'DepositAcceptance', time: '2026-09-01T00:00:00.000Z' }, oldKey)
  t.equal(await codeOf(verifyEvidence(late, jwks)), 'evidence-invalid')
  t.equal(await codeOf(verifyStamp(jws, jwks, { envelopeDigest: 'z'.repeat(43) })), 'evidence-invalid')
  t.equal(await codeOf(verifyEvidence(jws, jwks, { event: 'DepositAcceptance' })), 'evidence-invalid')
})

t.test('alg none, wrong typ and unknown kid are refused', async (t) => {
  const key = await generateSigningKey()
  const keys = new KeySet([toPublicJwk(key)])
  const { jws } = await signEvidence({ ...refs, event: 'RelayAcceptance' }, key)
  const [, payload] = jws.split('.')
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'timbre-evidence+jws', kid: key.kid })).toString('base64url')
  t.equal(await codeOf(verifyEvidence(`${none}.${payload}.`, keys)), 'evidence-invalid')
  const { signJws } = await import('../src/internal/jws.js')
  const wrongTyp = await signJws({ ...refs, v: 1, event: 'RelayAcceptance', evidenceId: 'x', time: new Date().toISOString() }, 'JWT', key)
  t.equal(await codeOf(verifyEvidence(wrongTyp, keys)), 'evidence-invalid')
  t.equal(await codeOf(verifyEvidence(jws, new KeySet())), 'evidence-invalid')
})

t.test('request proofs bind method, path, audience and body; replays are the caller’s job', async (t) => {
  const key = await generateSigningKey()
  const pub = toPublicJwk(key)
  const resolveKey = (iss: string, kid: string) => (iss === refs.sender && kid === pub.kid ? pub : undefined)
  const body = '{"a":1}'
  const auth = await createRequestProof({ key, iss: refs.sender, aud: 'router.example', method: 'post', path: '/v1/submissions', body })
  const check = { aud: 'router.example', method: 'POST', path: '/v1/submissions', body, resolveKey }
  const claims = await verifyRequestProof(auth, check)
  t.equal(claims.iss, refs.sender)
  t.equal(await codeOf(verifyRequestProof(auth, { ...check, body: '{"a":2}' })), 'auth-invalid')
  t.equal(await codeOf(verifyRequestProof(auth, { ...check, path: '/v1/other' })), 'auth-invalid')
  t.equal(await codeOf(verifyRequestProof(auth, { ...check, aud: 'other' })), 'auth-invalid')
  t.equal(await codeOf(verifyRequestProof(auth, { ...check, now: new Date(Date.now() + 3600_000) })), 'auth-invalid')
  t.equal(await codeOf(verifyRequestProof(undefined, check)), 'auth-required')
  t.equal(await codeOf(verifyRequestProof('Bearer abc', check)), 'auth-required')
})

t.test('webhooks: v1a Ed25519 over id.timestamp.body', async (t) => {
  const key = await generateSigningKey()
  const body = JSON.stringify({ type: 'delivery.status' })
  const headers = signWebhook({ id: 'msg_1', body, key })
  t.match(headers['webhook-signature'], /^v1a,/)
  t.same(verifyWebhookSignature({ headers: { ...headers }, body, keys: [toPublicJwk(key)] }).id, 'msg_1')
  t.equal(await codeOf(() => verifyWebhookSignature({ headers: { ...headers }, body: body + ' ', keys: [toPublicJwk(key)] })), 'auth-invalid')
  const old = signWebhook({ id: 'msg_1', body, key, timestamp: Math.floor(Date.now() / 1000) - 3600 })
  t.equal(await codeOf(() => verifyWebhookSignature({ headers: { ...old }, body, keys: [toPublicJwk(key)] })), 'auth-invalid')
})
