/** The simulated sender's side of a submission to a routing node. */
import { createRequestProof, peekDirectoryLine, uuidv7, type PublicJwk, type SealedEnvelope } from '@timbre/sdk'
import type { HttpResponse } from '../../http.js'
import type { AssertionContext } from '../../runner/context.js'
import type { SimulatedSender } from '../../actors/sender.js'

export async function configuredSender(ctx: AssertionContext): Promise<SimulatedSender> {
  if (!ctx.config.sender?.id || !(ctx.config.sender.key || ctx.config.sender.keyFile)) {
    ctx.harness('the routing-node profile needs sender.id and sender.keyFile: a test sender registered with the target')
  }
  return ctx.sender()
}

/** The recipient's X25519 key, from the target's directory line for the address. */
export async function recipientKeyFor(ctx: AssertionContext, address: string): Promise<PublicJwk> {
  const t = await ctx.target()
  const url = `${t.endpoint('directory', '/v1/directory')}/addresses/${address}`
  const res = await ctx.http.send(url)
  if (res.status !== 200 || typeof res.json?.line !== 'string') ctx.harness(`cannot look up ${address} at ${url} (${res.status}); the routing-node profile needs a routable test address`)
  const line = peekDirectoryLine(res.json.line)
  const key = line?.encryptionKeys?.[0]
  if (!key) ctx.harness(`the directory line of ${address} lists no encryption key`)
  return key
}

export async function sealFor(
  ctx: AssertionContext,
  o: { messageId?: string; document?: string; recipient?: string; sender?: SimulatedSender; title?: string; senderReference?: string; issueDate?: string; recipientKey?: PublicJwk } = {},
): Promise<SealedEnvelope> {
  const sender = o.sender ?? (await configuredSender(ctx))
  const recipient = o.recipient ?? ctx.address(0)
  return sender.seal({
    recipient,
    recipientKey: o.recipientKey ?? (await recipientKeyFor(ctx, recipient)),
    ...(o.messageId ? { messageId: o.messageId } : {}),
    ...(o.document ? { document: o.document } : {}),
    ...(o.title ? { title: o.title } : {}),
    ...(o.senderReference ? { senderReference: o.senderReference } : {}),
    ...(o.issueDate ? { issueDate: o.issueDate } : {}),
  })
}

/** Poll GET /v1/deliveries/{messageId} until its status is one of `statuses`; returns the last answer's body. */
export async function waitForStatus(ctx: AssertionContext, messageId: string, statuses: string[], ms = 20_000): Promise<any> {
  const deadline = Date.now() + ms
  let last: any
  for (;;) {
    const res = await getAsSender(ctx, `/v1/deliveries/${messageId}`)
    if (res.status !== 200) ctx.fail(`GET /v1/deliveries/${messageId} answered ${res.status}`)
    last = res.json
    if (statuses.includes(last?.status)) return last
    if (Date.now() > deadline) ctx.fail(`the delivery is ${last?.status} after ${ms} ms; expected ${statuses.join(' or ')}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

/** The evidence list of a delivery (compact JWS strings). */
export async function evidenceOf(ctx: AssertionContext, messageId: string): Promise<string[]> {
  const res = await getAsSender(ctx, `/v1/deliveries/${messageId}/evidence`)
  if (res.status !== 200 || !Array.isArray(res.json?.evidence)) ctx.fail(`GET /v1/deliveries/${messageId}/evidence answered ${res.status} without an evidence list`)
  return res.json.evidence
}

/** POST a re-route of a delivery. */
export async function reroute(ctx: AssertionContext, messageId: string, body: Record<string, unknown>, o: { idempotencyKey?: string } = {}): Promise<HttpResponse> {
  const t = await ctx.target()
  const sender = await configuredSender(ctx)
  const url = new URL(`/v1/deliveries/${messageId}/reroute`, t.endpoint('submissions', '/v1/submissions'))
  const raw = JSON.stringify(body)
  const authorization = await createRequestProof({ key: sender.key, iss: sender.id, aud: t.operatorId, method: 'POST', path: url.pathname, body: raw })
  return ctx.http.send(url.toString(), { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': o.idempotencyKey ?? uuidv7(), authorization }, body: raw })
}

export interface SubmitOptions {
  idempotencyKey?: string | false
  proof?: false
  authorization?: string
  sender?: SimulatedSender
}

export async function submit(ctx: AssertionContext, body: Record<string, unknown> | string, o: SubmitOptions = {}): Promise<HttpResponse & { authorization?: string }> {
  const t = await ctx.target()
  const url = t.endpoint('submissions', '/v1/submissions')
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (o.idempotencyKey !== false) headers['idempotency-key'] = o.idempotencyKey ?? uuidv7()
  let authorization = o.authorization
  if (authorization === undefined && o.proof !== false) {
    const sender = o.sender ?? (await configuredSender(ctx))
    const u = new URL(url)
    authorization = await createRequestProof({ key: sender.key, iss: sender.id, aud: t.operatorId, method: 'POST', path: u.pathname + u.search, body: raw })
  }
  if (authorization) headers.authorization = authorization
  const res = await ctx.http.send(url, { method: 'POST', headers, body: raw })
  return { ...res, ...(authorization ? { authorization } : {}) }
}

export async function getAsSender(ctx: AssertionContext, path: string, withProof = true, as?: SimulatedSender): Promise<HttpResponse> {
  const t = await ctx.target()
  const url = new URL(path, t.endpoint('submissions', '/v1/submissions'))
  const headers: Record<string, string> = {}
  if (withProof) {
    const sender = as ?? (await configuredSender(ctx))
    headers.authorization = await createRequestProof({ key: sender.key, iss: sender.id, aud: t.operatorId, method: 'GET', path: url.pathname + url.search })
  }
  return ctx.http.send(url.toString(), { headers })
}
