// Sender onboarding rules: who may submit through this routing node, with
// which public key, and where their webhooks go. Shared by the admin API and
// the `timbre senders` commands. Wire shapes: spec schemas admin-sender.json,
// admin-sender-patch.json and sender.json.
import { assertPublicJwk, isOrganisationId, TimbreError, type PublicJwk } from '@timbre/sdk'
import { NodeError } from '../errors.js'
import type { SenderPatch, SenderRecord, SenderStatus } from '../store/senders-repository.js'

/** What the registry needs from storage. */
export interface SenderStore {
  insert(s: Omit<SenderRecord, 'createdAt' | 'updatedAt'>): Promise<SenderRecord | undefined>
  get(id: string): Promise<SenderRecord | undefined>
  list(options?: { after?: string; limit?: number }): Promise<SenderRecord[]>
  update(id: string, patch: SenderPatch): Promise<SenderRecord | undefined>
}

/** A sender as the admin API and CLI show it (spec sender.json). */
export interface Sender {
  id: string
  name?: string
  jwk: PublicJwk
  kid: string
  status: SenderStatus
  webhookUrl?: string
  createdAt: string
  updatedAt: string
}

export interface NewSender {
  id: string
  name?: string | undefined
  jwk: unknown
  webhookUrl?: string | null | undefined
}

export interface SenderChange {
  status?: SenderStatus | undefined
  webhookUrl?: string | null | undefined
  jwk?: unknown
}

function view(r: SenderRecord): Sender {
  const s: Sender = {
    id: r.id,
    jwk: r.jwk as unknown as PublicJwk,
    kid: r.kid,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  }
  if (r.name !== null) s.name = r.name
  if (r.webhookUrl !== null) s.webhookUrl = r.webhookUrl
  return s
}

function checkId(id: string): void {
  if (!isOrganisationId(id)) {
    throw new NodeError('schema-violation', {
      detail: `sender id must be an ISO 6523 organisation id (icd:value), got ${JSON.stringify(id.slice(0, 80))}`,
      extra: { errors: [{ path: '/id', message: 'must be an ISO 6523 organisation id' }] },
    })
  }
}

function checkWebhookUrl(url: string | null | undefined): void {
  if (url === null || url === undefined) return
  let u: URL | undefined
  try {
    u = new URL(url)
  } catch { /* reported below */ }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || url.length > 2048) {
    throw new NodeError('schema-violation', {
      detail: 'webhookUrl must be an absolute http(s) URL without credentials, at most 2048 characters',
      extra: { errors: [{ path: '/webhookUrl', message: 'must be an absolute http(s) URL' }] },
    })
  }
}

// Only public Ed25519 keys: a JWK with `d` would mean we hold a sender's secret.
async function checkKey(jwk: unknown): Promise<PublicJwk> {
  try {
    return await assertPublicJwk(jwk, 'sig')
  } catch (err) {
    if (err instanceof TimbreError) {
      throw new NodeError(err.code, { detail: err.detail, extra: { errors: [{ path: '/jwk', message: err.detail ?? err.message }] }, cause: err })
    }
    throw err
  }
}

export class SenderRegistry {
  readonly #store: SenderStore

  constructor(store: SenderStore) {
    this.#store = store
  }

  /** Register a sender with its public Ed25519 key. */
  async register(input: NewSender): Promise<Sender> {
    checkId(input.id)
    checkWebhookUrl(input.webhookUrl)
    const jwk = await checkKey(input.jwk)
    const record = await this.#store.insert({
      id: input.id,
      name: input.name ?? null,
      jwk: { ...jwk },
      kid: jwk.kid,
      status: 'active',
      webhookUrl: input.webhookUrl ?? null,
    })
    if (!record) throw new NodeError('sender-exists', { detail: `sender ${input.id} is already registered` })
    return view(record)
  }

  async get(id: string): Promise<Sender> {
    const r = await this.#store.get(id)
    if (!r) throw new NodeError('not-found', { detail: `no sender ${id}` })
    return view(r)
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<Sender[]> {
    return (await this.#store.list(options)).map(view)
  }

  /** Enable/disable a sender, set or clear its webhook URL, or replace its key. */
  async update(id: string, change: SenderChange): Promise<Sender> {
    checkWebhookUrl(change.webhookUrl)
    const patch: SenderPatch = {}
    if (change.status !== undefined) patch.status = change.status
    if (change.webhookUrl !== undefined) patch.webhookUrl = change.webhookUrl
    if (change.jwk !== undefined) {
      const jwk = await checkKey(change.jwk)
      patch.key = { jwk: { ...jwk }, kid: jwk.kid }
    }
    const r = await this.#store.update(id, patch)
    if (!r) throw new NodeError('not-found', { detail: `no sender ${id}` })
    return view(r)
  }
}
