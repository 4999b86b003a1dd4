/**
 * Evidence (TMB-EVD), modelled on ETSI EN 319 522: typed events, each a
 * compact JWS by its issuer, verifiable offline from published keys. The
 * stamp is the SubmissionAcceptance evidence.
 */
import { TimbreError } from '../errors.js'
import { peekPayload, signJws, verifyJws } from '../internal/jws.js'
import type { Digest } from './digest.js'
import { uuidv7 } from './identifiers.js'
import { KeySet, type KeyResolver } from './key-set.js'
import type { Jwks, PrivateJwk, PublicJwk } from './keys.js'

/** `typ` of every evidence JWS. */
export const EVIDENCE_TYP = 'timbre-evidence+jws'

/** The evidence events of v1. */
export const EVIDENCE_EVENTS = [
  'SubmissionAcceptance',
  'SubmissionRejection',
  'RelayAcceptance',
  'RelayRejection',
  'RelayFailure',
  'DepositAcceptance',
  'DepositRejection',
  'Handover',
  'ContentImport',
] as const
/** One evidence event. */
export type EvidenceEvent = (typeof EVIDENCE_EVENTS)[number]

/**
 * The status of a delivery (TMB-EVD-010). `delivered`, `rejected` and
 * `failed` are final; `rerouting` follows a `recipient-moved` answer while
 * the sender re-encrypts for the new operator (TMB-PORT-024).
 */
export type DeliveryStatus = 'accepted' | 'relaying' | 'rerouting' | 'delivered' | 'rejected' | 'failed'

/** The final statuses. */
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['delivered', 'rejected', 'failed']

/** The payload of an evidence JWS. */
export interface Evidence {
  v: 1
  evidenceId: string
  event: EvidenceEvent
  time: string
  issuer: string
  messageId: string
  sender: string
  recipient: string
  contentDigest: Digest
  envelopeDigest: string
  senderKid?: string
  recipientOperator?: string
  reason?: { code: string; detail?: string }
  stampClass?: 'standard' | 'registered'
  previousEvidenceId?: string
}

/** Fields of an evidence that its issuer supplies; id and time default. */
export type EvidenceInput = Omit<Evidence, 'v' | 'evidenceId' | 'time'> & { evidenceId?: string; time?: string }

/** Trusted keys as a resolver, a key set, a JWKS or a list of keys. */
export type TrustedKeys = KeyResolver | KeySet | Jwks | PublicJwk[]

/** @internal */
export function toResolver(keys: TrustedKeys): KeyResolver {
  if (typeof keys === 'function') return keys
  if (keys instanceof KeySet) return keys.resolver()
  return new KeySet(Array.isArray(keys) ? keys : keys.keys).resolver()
}

/**
 * Sign an evidence with the issuer's node key.
 *
 * @example
 * ```ts
 * const { jws } = await signEvidence({ event: 'DepositAcceptance', issuer: 'vault-b.example', ...refs }, nodeKey)
 * ```
 */
export async function signEvidence(input: EvidenceInput, key: PrivateJwk): Promise<{ jws: string; evidence: Evidence }> {
  const evidence: Evidence = {
    ...input,
    v: 1,
    evidenceId: input.evidenceId ?? uuidv7(),
    time: input.time ?? new Date().toISOString(),
  }
  return { jws: await signJws(evidence, EVIDENCE_TYP, key), evidence }
}

/**
 * Read an evidence payload WITHOUT verifying it.
 *
 * @example
 * ```ts
 * decodeEvidence(jws).event // 'DepositAcceptance'
 * ```
 */
export function decodeEvidence(jws: string): Evidence {
  const payload = peekPayload<Evidence>(jws)
  if (!payload || typeof payload.event !== 'string') throw new TimbreError('evidence-invalid', { detail: 'not an evidence JWS' })
  return payload
}

/** Extra expectations when verifying an evidence. */
export interface EvidenceExpectations {
  issuer?: string
  messageId?: string
  event?: EvidenceEvent | EvidenceEvent[]
  envelopeDigest?: string
}

/**
 * Verify an evidence offline: signature by a key that was valid at the
 * evidence `time`, `typ`, algorithm, and optional expectations.
 *
 * @example
 * ```ts
 * const jwks = await (await fetch('https://vault-b.example/.well-known/jwks.json')).json()
 * const ev = await verifyEvidence(jws, jwks, { messageId, event: 'DepositAcceptance' })
 * ```
 */
export async function verifyEvidence(jws: string, keys: TrustedKeys, expect: EvidenceExpectations = {}): Promise<Evidence> {
  const { payload } = await verifyJws<Evidence>(jws, {
    typ: EVIDENCE_TYP,
    resolveKey: toResolver(keys),
    at: (p: Evidence) => (typeof p?.time === 'string' && !Number.isNaN(Date.parse(p.time)) ? new Date(p.time) : undefined),
    code: 'evidence-invalid',
  })
  const fail = (detail: string): never => {
    throw new TimbreError('evidence-invalid', { detail })
  }
  if (payload.v !== 1) fail('unsupported evidence version')
  if (!EVIDENCE_EVENTS.includes(payload.event)) fail(`unknown event ${payload.event}`)
  if (typeof payload.time !== 'string' || Number.isNaN(Date.parse(payload.time))) fail('time is not a date')
  if (expect.issuer && payload.issuer !== expect.issuer) fail(`issuer is ${payload.issuer}, expected ${expect.issuer}`)
  if (expect.messageId && payload.messageId !== expect.messageId) fail('evidence is for another message')
  if (expect.envelopeDigest && payload.envelopeDigest !== expect.envelopeDigest) fail('evidence is for another envelope')
  if (expect.event) {
    const events = Array.isArray(expect.event) ? expect.event : [expect.event]
    if (!events.includes(payload.event)) fail(`event is ${payload.event}, expected ${events.join(' or ')}`)
  }
  return payload
}

/**
 * Verify a stamp: a SubmissionAcceptance evidence, optionally bound to an envelope.
 *
 * @example
 * ```ts
 * const stamp = await verifyStamp(res.stamp, routerJwks, { envelopeDigest: tokenDigest(envelope) })
 * ```
 */
export function verifyStamp(jws: string, keys: TrustedKeys, expect: Omit<EvidenceExpectations, 'event'> = {}): Promise<Evidence> {
  return verifyEvidence(jws, keys, { ...expect, event: 'SubmissionAcceptance' })
}

const FINAL: Partial<Record<EvidenceEvent, DeliveryStatus>> = {
  DepositAcceptance: 'delivered',
  Handover: 'delivered',
  RelayRejection: 'rejected',
  DepositRejection: 'rejected',
  SubmissionRejection: 'rejected',
  RelayFailure: 'failed',
}

/**
 * The delivery status an evidence event implies, or undefined when it is not
 * final. A `RelayRejection` for `recipient-moved` means `rerouting`, not final.
 *
 * @example
 * ```ts
 * finalStatusOf('DepositAcceptance') // 'delivered'
 * ```
 */
export function finalStatusOf(event: EvidenceEvent, reasonCode?: string): DeliveryStatus | undefined {
  if (event === 'RelayRejection' && reasonCode === 'recipient-moved') return 'rerouting'
  return FINAL[event]
}
