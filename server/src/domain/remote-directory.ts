// DirectoryView over another node's directory role, over HTTP. Nothing the
// remote answers is used unverified: every line is checked with
// verifyDirectoryLine against the directory's published signature keys and
// must be for the address asked (TMB-DIR-007). Operator records are cached
// briefly so a relay burst does not cost one directory call per request.
import { createRequestProof, KeySet, verifyDirectoryLine, type Jwks, type PrivateJwk, type PublicJwk } from '@timbre/sdk'
import { request } from 'undici'
import { NodeError } from '../errors.js'
import type { DirectoryView, OperatorRecord, ResolvedLine } from './directory-view.js'
import type { HostedAddressRegistrar } from './hosted-registrar.js'
import { signingKeyOf } from './operator-record.js'

export interface RemoteDirectoryOptions {
  /** Base URL of the directory node, e.g. `https://directory.example`. */
  readonly directoryUrl: string
  /** This node's id and signing key: the `iss` and key of its directory writes. */
  readonly nodeId: string
  readonly signingKey: PrivateJwk
  /** How long operator records and the directory JWKS are reused (default 30 s / 300 s). */
  readonly operatorTtlMs?: number
  readonly keysTtlMs?: number
  readonly timeoutMs?: number
}

interface Cached<T> { value: T; until: number }

interface Answer { status: number; json: any }

const unavailable = (detail: string, cause?: unknown) => new NodeError('unavailable', { detail, retryAfter: 5, cause })

export class RemoteDirectory implements DirectoryView, HostedAddressRegistrar {
  readonly kind = 'remote'
  readonly #base: string
  readonly #options: RemoteDirectoryOptions
  readonly #operators = new Map<string, Cached<OperatorRecord | undefined>>()
  #keys: Cached<PublicJwk[]> | undefined
  #directoryId: Cached<string> | undefined

  constructor(options: RemoteDirectoryOptions) {
    this.#base = options.directoryUrl.replace(/\/+$/, '')
    this.#options = options
  }

  async #call(method: 'GET' | 'PUT', path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    try {
      const res = await request(this.#base + path, {
        method,
        headers: { accept: 'application/json', ...headers },
        ...(body !== undefined && { body }),
        headersTimeout: this.#options.timeoutMs ?? 10_000,
        bodyTimeout: this.#options.timeoutMs ?? 10_000,
      })
      const text = await res.body.text()
      let json: unknown
      try { json = JSON.parse(text) } catch { json = undefined }
      return { status: res.statusCode, json }
    } catch (err) {
      throw unavailable(`the directory at ${this.#base} is unreachable`, err)
    }
  }

  /** True when the directory answers its discovery document now (readiness, TMB-DIR-024). */
  async reachable(): Promise<boolean> {
    try {
      return (await this.#call('GET', '/.well-known/timbre')).status === 200
    } catch {
      return false
    }
  }

  /** The directory's node id (its discovery `nodeId`): the `aud` of writes and `issuer` of lines. */
  async directoryId(): Promise<string> {
    if (this.#directoryId && this.#directoryId.until > Date.now()) return this.#directoryId.value
    const res = await this.#call('GET', '/.well-known/timbre')
    if (res.status !== 200 || typeof res.json?.nodeId !== 'string') throw unavailable('the directory discovery document is unusable')
    this.#directoryId = { value: res.json.nodeId, until: Date.now() + (this.#options.keysTtlMs ?? 300_000) }
    return res.json.nodeId
  }

  async #fetchKeys(): Promise<PublicJwk[]> {
    const res = await this.#call('GET', '/.well-known/jwks.json')
    if (res.status !== 200 || !Array.isArray(res.json?.keys)) throw unavailable('the directory JWKS is unusable')
    const keys = (res.json as Jwks).keys.filter((k) => k.crv === 'Ed25519' && (k.use ?? 'sig') === 'sig')
    this.#keys = { value: keys, until: Date.now() + (this.#options.keysTtlMs ?? 300_000) }
    return keys
  }

  async directoryKeys(): Promise<PublicJwk[]> {
    if (this.#keys && this.#keys.until > Date.now()) return this.#keys.value
    return this.#fetchKeys()
  }

  // Verify a line; an unknown kid refreshes the JWKS once (the directory may have rotated).
  async #verify(jws: string, address: string): Promise<ResolvedLine> {
    const issuer = await this.directoryId()
    let keys = await this.directoryKeys()
    const kidOf = (): string | undefined => {
      try { return JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')).kid } catch { return undefined }
    }
    const kid = kidOf()
    if (kid && !keys.some((k) => k.kid === kid)) keys = await this.#fetchKeys()
    const line = await verifyDirectoryLine(jws, new KeySet(keys))
    if (line.address !== address) throw new NodeError('auth-invalid', { detail: 'the directory answered a line for another address' })
    if (line.issuer !== issuer) throw new NodeError('auth-invalid', { detail: 'the line was issued by another directory' })
    return { line, jws }
  }

  async lookup(address: string, at?: Date): Promise<ResolvedLine | undefined> {
    const query = at ? `?at=${encodeURIComponent(at.toISOString())}` : ''
    const res = await this.#call('GET', `/v1/directory/addresses/${encodeURIComponent(address)}${query}`)
    if (res.status === 404) return undefined
    if (res.status !== 200 || typeof res.json?.line !== 'string') throw unavailable(`directory lookup answered ${res.status}`)
    return this.#verify(res.json.line, address)
  }

  async operator(id: string): Promise<OperatorRecord | undefined> {
    const hit = this.#operators.get(id)
    if (hit && hit.until > Date.now()) return hit.value
    const res = await this.#call('GET', `/v1/directory/operators/${encodeURIComponent(id)}`)
    let value: OperatorRecord | undefined
    if (res.status === 200 && res.json && typeof res.json.id === 'string') {
      const j = res.json
      value = { id: j.id, baseUrl: j.baseUrl, relayEndpoint: j.relayEndpoint ?? `${j.baseUrl}/v1/relay`, roles: j.roles ?? [], status: j.status ?? 'active', jwks: j.jwks ?? { keys: [] } }
    } else if (res.status !== 404) {
      throw unavailable(`directory operator lookup answered ${res.status}`)
    }
    if (this.#operators.size > 10_000) this.#operators.clear()
    this.#operators.set(id, { value, until: Date.now() + (this.#options.operatorTtlMs ?? 30_000) })
    return value
  }

  async nodeKey(operatorId: string, kid: string, at?: Date): Promise<PublicJwk | undefined> {
    return signingKeyOf(await this.operator(operatorId), kid, at)
  }

  /** `PUT /v1/directory/addresses/{address}` signed by this node (TMB-DIR-010, TMB-AUTH-002). */
  async registerHosted(address: string): Promise<ResolvedLine> {
    const path = `/v1/directory/addresses/${encodeURIComponent(address)}`
    const body = JSON.stringify({ operator: this.#options.nodeId })
    const authorization = await createRequestProof({ key: this.#options.signingKey, iss: this.#options.nodeId, aud: await this.directoryId(), method: 'PUT', path, body })
    const res = await this.#call('PUT', path, body, { 'content-type': 'application/json', authorization })
    if (res.status === 200 || res.status === 201) return this.#verify(res.json?.line, address)
    const code = res.json?.code
    if (res.status >= 400 && res.status < 500 && typeof code === 'string') {
      // The directory's refusal, passed on as the operator's problem (e.g. node-untrusted: not admitted yet).
      throw new NodeError('directory-conflict', { detail: `the directory refused the registration: ${code}${res.json?.detail ? ` (${res.json.detail})` : ''}`, extra: { directoryProblem: code } })
    }
    throw unavailable(`the directory answered ${res.status} to the registration`)
  }
}
