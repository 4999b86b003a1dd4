/**
 * Building relays as the suite's routing node would send them, spoiling
 * them one fault at a time, and posting them to the target.
 */
import { RecordingHttp } from '../http.js'
import {
  peekDirectoryLine,
  verifyEvidence,
  tokenDigest,
  type Evidence,
  type PublicJwk,
  type SealedEnvelope,
} from '@timbre/sdk'
import type { HttpResponse } from '../http.js'
import type { AssertionContext } from '../runner/context.js'
import type { ProofOverrides } from '../actors/routing-node.js'
import { SimulatedSender } from '../actors/sender.js'

export interface RelayParts {
  sealed: SealedEnvelope
  sender: SimulatedSender
  senderKey: PublicJwk
  stamp: string
  route: string
  recipient: string
}

export interface PartsOptions {
  recipient?: string
  sender?: SimulatedSender
  messageId?: string
  document?: string | Uint8Array
}

/** The target's X25519 key, or a harness error. */
export async function recipientKey(ctx: AssertionContext): Promise<PublicJwk> {
  const t = await ctx.target()
  if (!t.encryptionKey) ctx.fail('the target JWKS has no X25519 encryption key to encrypt for')
  return t.encryptionKey
}

/**
 * The route (directory line) for an address hosted by the target: the line
 * of the target's own directory when it has one for the address (a node that
 * is also a directory trusts only its own lines), otherwise a line signed by
 * the suite playing the directory.
 */
export async function routeFor(ctx: AssertionContext, address: string): Promise<string> {
  const t = await ctx.target()
  if (typeof t.discovery.endpoints?.directory === 'string') {
    let cached = ctx.state.routes.get(address)
    if (!cached) {
      cached = (async () => {
        try {
          const http = new RecordingHttp(ctx.state.setupExchanges, ctx.config.timeoutMs)
          const res = await http.send(`${t.discovery.endpoints.directory.replace(/\/+$/, '')}/addresses/${address}`)
          if (res.status !== 200 || typeof res.json?.line !== 'string') return undefined
          return peekDirectoryLine(res.json.line)?.operator === t.operatorId ? (res.json.line as string) : undefined
        } catch {
          return undefined
        }
      })()
      ctx.state.routes.set(address, cached)
    }
    const line = await cached
    if (line) return line
  }
  return ctx.directory.line(address, t.operatorId, t.endpoint('relay', '/v1/relay'), t.encryptionKeys.filter((k) => !k.timbre_not_after))
}

/** A valid relay for a fresh document. */
export async function validParts(ctx: AssertionContext, o: PartsOptions = {}): Promise<RelayParts> {
  const t = await ctx.target()
  const sender = o.sender ?? (await ctx.sender())
  const recipient = o.recipient ?? ctx.address(0)
  const sealed = await sender.seal({
    recipient,
    recipientKey: await recipientKey(ctx),
    ...(o.messageId ? { messageId: o.messageId } : {}),
    ...(o.document !== undefined ? { document: o.document } : {}),
  })
  return {
    sealed,
    sender,
    senderKey: sender.publicKey,
    stamp: await ctx.router.stamp(sealed, t.operatorId),
    route: await routeFor(ctx, recipient),
    recipient,
  }
}

/** Re-issue the stamp so that it matches the (altered) envelope. */
export async function restamp(ctx: AssertionContext, p: RelayParts): Promise<RelayParts> {
  const t = await ctx.target()
  return { ...p, stamp: await ctx.router.stamp(p.sealed, t.operatorId) }
}

export function relayBody(p: RelayParts): Record<string, unknown> {
  return { envelope: p.sealed.envelope, content: p.sealed.content, stamp: p.stamp, senderKey: p.senderKey, route: p.route }
}

export interface PostOptions {
  /** Spoil the proof; `false` sends none. */
  proof?: ProofOverrides | false
  /** A ready Authorization value (for replays). */
  authorization?: string
  contentType?: string
}

/** POST a relay body (object or raw string) to the target's relay endpoint. */
export async function postRelay(ctx: AssertionContext, body: Record<string, unknown> | string | Uint8Array, o: PostOptions = {}): Promise<HttpResponse & { authorization?: string }> {
  const t = await ctx.target()
  const url = t.endpoint('relay', '/v1/relay')
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' }
  let authorization = o.authorization
  if (authorization === undefined && o.proof !== false) {
    const u = new URL(url)
    authorization = await ctx.router.proof(t.operatorId, 'POST', u.pathname + u.search, raw, o.proof || {})
  }
  if (authorization) headers.authorization = authorization
  const res = await ctx.http.send(url, { method: 'POST', headers, body: raw })
  return { ...res, ...(authorization ? { authorization } : {}) }
}

/** Require a deposit answer with DepositAcceptance evidence for these parts; returns the evidence. */
export async function expectDeposit(ctx: AssertionContext, res: HttpResponse, p: RelayParts, statuses: number[] = [201]): Promise<{ evidence: Evidence; jws: string }> {
  const t = await ctx.target()
  if (!statuses.includes(res.status)) ctx.fail(`expected ${statuses.join(' or ')} with DepositAcceptance evidence, got ${res.status}${res.json?.code ? ' ' + res.json.code : ''}${res.json?.detail ? ': ' + res.json.detail : ''}`)
  const jws = res.json?.evidence
  if (typeof jws !== 'string') ctx.fail('the answer has no evidence member (compact JWS)')
  let evidence: Evidence
  try {
    evidence = await verifyEvidence(jws, t.keys, { event: 'DepositAcceptance', messageId: p.sealed.metadata.messageId })
  } catch (err) {
    ctx.fail(`the DepositAcceptance evidence does not verify with the target's JWKS: ${(err as Error).message}`)
  }
  return { evidence, jws }
}

/** Compare the deposit evidence with what RLY-016 requires. */
export function depositEvidenceErrors(ev: Evidence, p: RelayParts, operatorId: string): string[] {
  const m = p.sealed.metadata
  const stamp = JSON.parse(Buffer.from(p.stamp.split('.')[1]!, 'base64url').toString())
  const errors: string[] = []
  const eq = (name: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) errors.push(`${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  }
  eq('issuer', ev.issuer, operatorId)
  eq('sender', ev.sender, m.sender)
  eq('recipient', ev.recipient, m.recipient)
  eq('contentDigest', ev.contentDigest, m.content.digest)
  eq('envelopeDigest', ev.envelopeDigest, tokenDigest(p.sealed.envelope))
  eq('senderKid', ev.senderKid, p.senderKey.kid)
  eq('stampClass', ev.stampClass, stamp.stampClass)
  eq('recipientOperator', ev.recipientOperator, operatorId)
  eq('previousEvidenceId', ev.previousEvidenceId, stamp.evidenceId)
  return errors
}

/**
 * True when the target is its own directory and has no line for `address`:
 * it then trusts no route the suite can sign for it, so refusals after the
 * route check (recipient-unknown) cannot be reached over the wire.
 */
export async function unroutableOnTarget(ctx: AssertionContext, address: string): Promise<boolean> {
  const t = await ctx.target()
  if (typeof t.discovery.endpoints?.directory !== 'string') return false
  await routeFor(ctx, address)
  return (await ctx.state.routes.get(address)) === undefined
}
