// Discovery documents of peer operators (spec 3.x, 13.2), read from the
// operator's `baseUrl` in the directory and cached for the documents'
// max-age (300 s, TMB-TRUST-009). The routing node asks whether a vault
// operator announces `handover` (TMB-MTR-005); the vault operator asks a
// routing node for its `endpoints.evidence` (7.6). A document that cannot be
// read is cached briefly as unknown, so a burst does not hammer a peer.
import { request, type Dispatcher } from 'undici'
import type { DirectoryView } from './directory-view.js'

const TTL_MS = 300_000
const FAILURE_TTL_MS = 5_000

interface Discovery {
  endpoints?: Record<string, unknown>
  features?: unknown
  profiles?: unknown
}

export class PeerDiscovery {
  readonly #directory: DirectoryView
  readonly #cache = new Map<string, { doc: Discovery | undefined; baseUrl: string | undefined; until: number }>()
  readonly #dispatcher: Dispatcher | undefined

  constructor(directory: DirectoryView, dispatcher?: Dispatcher) {
    this.#directory = directory
    this.#dispatcher = dispatcher
  }

  async #load(operatorId: string): Promise<{ doc: Discovery | undefined; baseUrl: string | undefined }> {
    const hit = this.#cache.get(operatorId)
    if (hit && hit.until > Date.now()) return hit
    let baseUrl: string | undefined
    let doc: Discovery | undefined
    try {
      baseUrl = (await this.#directory.operator(operatorId))?.baseUrl?.replace(/\/+$/, '')
      if (baseUrl) {
        const res = await request(`${baseUrl}/.well-known/timbre`, {
          headers: { accept: 'application/json' },
          ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
          signal: AbortSignal.timeout(10_000),
        })
        const body = (await res.body.json().catch(() => undefined)) as Discovery | undefined
        if (res.statusCode === 200 && body && typeof body === 'object') doc = body
      }
    } catch { /* unknown for now */ }
    if (this.#cache.size > 10_000) this.#cache.clear()
    this.#cache.set(operatorId, { doc, baseUrl, until: Date.now() + (doc ? TTL_MS : FAILURE_TTL_MS) })
    return { doc, baseUrl }
  }

  /** The peer's discovery document, or undefined when it cannot be read now. */
  async document(operatorId: string): Promise<Discovery | undefined> {
    return (await this.#load(operatorId)).doc
  }

  /** True when the peer's discovery document lists `feature` in `features`; false when it does not or cannot be read. */
  async announces(operatorId: string, feature: string): Promise<boolean> {
    const doc = await this.document(operatorId)
    return Array.isArray(doc?.features) && doc.features.includes(feature)
  }

  /** `endpoints.evidence` of a routing node, or `{baseUrl}/v1/evidence` (7.6); undefined for an operator the directory does not know. */
  async evidenceEndpoint(operatorId: string): Promise<string | undefined> {
    const { doc, baseUrl } = await this.#load(operatorId)
    const declared = doc?.endpoints?.evidence
    if (typeof declared === 'string') return declared
    return baseUrl ? `${baseUrl}/v1/evidence` : undefined
  }

  /** Forget a peer (a push failed: read its document again next time). */
  forget(operatorId: string): void {
    this.#cache.delete(operatorId)
  }
}
