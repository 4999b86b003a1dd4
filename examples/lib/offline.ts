// Offline verification: fetch every issuer's public keys ONCE, then check
// stamps and evidence chains with no further network access.
import { decodeEvidence, verifyEvidence, verifyStamp, type Evidence, type PublicJwk } from '@timbre/sdk'
import { jsonRequest, trimSlash } from './http.js'

/** Public keys by issuer (operator id), fetched once. */
export class KeyBook {
  readonly #keys = new Map<string, PublicJwk[]>()

  /** Add an issuer's keys. */
  set(issuer: string, keys: PublicJwk[]): this {
    this.#keys.set(issuer, keys.filter((k) => k.use === 'sig'))
    return this
  }

  /** The issuer's signature keys (empty when unknown: every signature by it then fails). */
  keysOf(issuer: string): PublicJwk[] {
    return this.#keys.get(issuer) ?? []
  }

  get issuers(): string[] {
    return [...this.#keys.keys()]
  }

  /** Fetch a node's discovery document and JWKS; returns its node id. */
  async addNode(baseUrl: string): Promise<string> {
    const base = trimSlash(baseUrl)
    const { body: discovery } = await jsonRequest<{ nodeId: string; endpoints?: { jwks?: string } }>(`${base}/.well-known/timbre`)
    const { body: jwks } = await jsonRequest<{ keys: PublicJwk[] }>(discovery.endpoints?.jwks ?? `${base}/.well-known/jwks.json`)
    this.set(discovery.nodeId, jwks.keys)
    return discovery.nodeId
  }

  /** Fetch an operator's keys from the directory's operator record. */
  async addOperatorFromDirectory(directoryUrl: string, operatorId: string): Promise<void> {
    const { body } = await jsonRequest<{ id: string; jwks: { keys: PublicJwk[] } }>(
      `${trimSlash(directoryUrl)}/v1/directory/operators/${encodeURIComponent(operatorId)}`,
    )
    if (body.id !== operatorId) throw new Error(`the directory answered for ${body.id}, not ${operatorId}`)
    this.set(operatorId, body.jwks.keys)
  }
}

/** What an evidence chain says, once every signature checked out. */
export interface CheckedChain {
  stamp: Evidence
  events: Evidence[]
  /** DepositAcceptance evidences (distinct evidence ids). Exactly one for a good delivery. */
  deposits: Evidence[]
  /** Everything that did not check out. */
  problems: string[]
}

/** Verify a stamp offline against the routing node's keys. */
export function verifyStampOffline(book: KeyBook, jws: string, routerId: string, messageId: string): Promise<Evidence> {
  return verifyStamp(jws, book.keysOf(routerId), { issuer: routerId, messageId })
}

/**
 * Verify every evidence of a delivery offline: each with its issuer's keys,
 * all for this message, the stamp first and by the routing node, deposits
 * by the operator the message was routed to, each pointing back to an
 * evidence of the same chain.
 */
export async function verifyChainOffline(
  book: KeyBook,
  chain: string[],
  expect: { routerId: string; messageId: string; sender: string; recipient: string; operator?: string },
): Promise<CheckedChain> {
  const problems: string[] = []
  const events: Evidence[] = []
  for (const jws of chain) {
    let issuer: string
    try {
      issuer = decodeEvidence(jws).issuer
    } catch {
      problems.push('an evidence is not an evidence JWS')
      continue
    }
    try {
      events.push(await verifyEvidence(jws, book.keysOf(issuer), { issuer, messageId: expect.messageId }))
    } catch (err) {
      problems.push(`evidence by ${issuer} does not verify: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  const stamp = events[0]
  if (!stamp || stamp.event !== 'SubmissionAcceptance' || stamp.issuer !== expect.routerId) problems.push('the chain does not start with the stamp')
  const ids = new Set(events.map((e) => e.evidenceId))
  for (const e of events) {
    if (e.sender !== expect.sender || e.recipient !== stamp?.recipient) problems.push(`${e.event} names another sender or recipient`)
    if (e.envelopeDigest !== stamp?.envelopeDigest) problems.push(`${e.event} is for another envelope`)
    if (e.previousEvidenceId && !ids.has(e.previousEvidenceId)) problems.push(`${e.event} points to an evidence outside the chain`)
  }
  if (stamp && stamp.recipient !== expect.recipient) problems.push('the stamp names another recipient')
  const seen = new Set<string>()
  const deposits = events.filter((e) => e.event === 'DepositAcceptance' && !seen.has(e.evidenceId) && seen.add(e.evidenceId))
  for (const d of deposits) {
    if (expect.operator && d.issuer !== expect.operator) problems.push(`deposit by ${d.issuer}, expected ${expect.operator}`)
  }
  return { stamp: stamp!, events, deposits, problems }
}
