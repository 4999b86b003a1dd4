/**
 * Deliberately broken vaults. Each wraps the VaultKit relay handler and
 * breaks one duty; test/expected-failures.json lists the assertion ids that
 * must FAIL against each.
 */
import { decodeEvidence, openContent, peekEnvelope, signEvidence, tokenDigest, uuidv7 } from '@timbre/sdk'
import type { Wrap } from '../helpers/vault.js'
import { unsignedJws, decodeJws } from '../../src/actors/jws.js'

/** Deposits whatever decrypts, even when the envelope signature is refused. */
export const skipsSignatureVerification: Wrap = (handler, { signingKey, encryptionKey, kit }) => async (req) => {
  const res = await handler(req)
  if (res.status !== 400 || !['envelope-invalid', 'schema-violation'].includes((res.body as any).code)) return res
  try {
    const body = JSON.parse(Buffer.from(req.rawBody).toString('utf8'))
    const m = peekEnvelope(body.envelope)!
    const document = await openContent(body.content, m, encryptionKey)
    if (!(await kit.storage.account(m.recipient))) return res
    const stamp = decodeEvidence(body.stamp)
    const { jws } = await signEvidence(
      { event: 'DepositAcceptance', issuer: kit.operatorId, messageId: m.messageId, sender: m.sender, recipient: m.recipient, contentDigest: m.content.digest, envelopeDigest: tokenDigest(body.envelope), senderKid: stamp.senderKid ?? '', recipientOperator: kit.operatorId, previousEvidenceId: stamp.evidenceId, ...(stamp.stampClass ? { stampClass: stamp.stampClass } : {}) },
      signingKey,
    )
    void document
    return { status: 201, headers: { 'content-type': 'application/json' }, body: { evidence: jws } }
  } catch {
    return res
  }
}

/**
 * Ignores a port: keeps depositing after the cut-over (a DepositAcceptance
 * instead of 409 recipient-moved); repeats are still deduplicated first.
 */
export const ignoresAPort: Wrap = (handler, { signingKey, kit }) => async (req) => {
  const res = await handler(req)
  if (res.status !== 409 || (res.body as any)?.code !== 'recipient-moved') return res
  const body = JSON.parse(Buffer.from(req.rawBody).toString('utf8'))
  const m = peekEnvelope(body.envelope)!
  const stamp = decodeEvidence(body.stamp)
  const { jws } = await signEvidence(
    { event: 'DepositAcceptance', issuer: kit.operatorId, messageId: m.messageId, sender: m.sender, recipient: m.recipient, contentDigest: m.content.digest, envelopeDigest: tokenDigest(body.envelope), senderKid: stamp.senderKid ?? '', recipientOperator: kit.operatorId, previousEvidenceId: stamp.evidenceId, ...(stamp.stampClass ? { stampClass: stamp.stampClass } : {}) },
    signingKey,
  )
  return { status: 201, headers: { 'content-type': 'application/json' }, body: { evidence: jws } }
}

/** Stores a duplicate: every repeat gets a fresh deposit with new evidence. */
export const storesDuplicates: Wrap = (handler, { signingKey }) => async (req) => {
  const res = await handler(req)
  if (res.status !== 200) return res
  const ev = decodeEvidence((res.body as any).evidence)
  const { evidenceId: _id, time: _time, v: _v, ...rest } = ev
  const { jws } = await signEvidence({ ...rest, evidenceId: uuidv7() }, signingKey)
  return { status: 201, headers: res.headers, body: { evidence: jws } }
}

/** Returns evidence with alg none instead of a signature. */
export const unsignedEvidence: Wrap = (handler) => async (req) => {
  const res = await handler(req)
  const body = res.body as any
  if (typeof body?.evidence !== 'string') return res
  const { header, payload } = decodeJws(body.evidence)
  return { ...res, body: { ...body, evidence: unsignedJws(payload, header) } }
}

/** Answers errors as text/plain. */
export const textErrors: Wrap = (handler) => async (req) => {
  const res = await handler(req)
  if (res.status < 400) return res
  const body = res.body as any
  return { status: res.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${body.code}: ${body.detail ?? body.title}` as any }
}

export const VARIANTS = { 'skips-signature-verification': skipsSignatureVerification, 'stores-duplicates': storesDuplicates, 'unsigned-evidence': unsignedEvidence, 'text-errors': textErrors, 'ignores-a-port': ignoresAPort }
