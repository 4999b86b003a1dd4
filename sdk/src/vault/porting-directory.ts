/**
 * The vault operator's calls to the directory for portability (spec 9.2–9.4),
 * each signed with a request proof of the operator key (iss = operator id,
 * aud = the directory's node id from its discovery document).
 */
import type { Dispatcher } from 'undici'
import { TimbreError } from '../errors.js'
import { JsonHttp, type JsonResponse } from '../client/http.js'
import { RemoteKeys } from '../client/remote-keys.js'
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../client/retry.js'
import { isOperatorId } from '../protocol/identifiers.js'
import type { PrivateJwk, PublicJwk } from '../protocol/keys.js'
import { createRequestProof } from '../protocol/request-auth.js'
import { assertSchema } from '../protocol/schemas.js'
import type { ObjectionReasonCode, Port, PortConsent, PortStatus } from './porting-types.js'

/** Options of a {@link DirectoryPortingClient}. */
export interface DirectoryPortingClientOptions {
  /** Base URL of the directory node (a trailing `/v1/directory` is accepted and dropped). */
  directoryUrl: string
  /** This vault operator's id (proof `iss`). */
  operatorId: string
  /** The operator's Ed25519 private key. */
  signingKey: PrivateJwk
  /** An undici dispatcher, for tests or proxies. */
  dispatcher?: Dispatcher
  /** Retry policy of retryable failures. */
  retry?: Partial<RetryOptions>
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number
}

const unexpected = (detail: string, requestId?: string) => new TimbreError('unexpected-response', { detail, requestId })

/**
 * HTTP client of the directory's portability endpoints, as a vault operator.
 *
 * @example
 * ```ts
 * const dir = new DirectoryPortingClient({ directoryUrl: 'https://dir.example', operatorId: 'vault-a.example', signingKey })
 * await dir.registerPortingCode({ address, codeDigest, expiresAt })
 * ```
 */
export class DirectoryPortingClient {
  #base: string
  #operatorId: string
  #key: PrivateJwk
  #http: JsonHttp
  #retry: RetryOptions
  #nodeId: Promise<string> | undefined
  #keys: RemoteKeys

  constructor(options: DirectoryPortingClientOptions) {
    this.#base = new URL(options.directoryUrl).toString().replace(/\/+$/, '').replace(/\/v1\/directory$/, '')
    this.#operatorId = options.operatorId
    this.#key = options.signingKey
    this.#http = new JsonHttp({ dispatcher: options.dispatcher, timeoutMs: options.timeoutMs })
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#keys = new RemoteKeys(async () => {
      const { body, requestId } = await withRetry(() => this.#http.send<{ keys?: PublicJwk[] }>({ method: 'GET', url: `${this.#base}/.well-known/jwks.json` }), this.#retry)
      if (!body || !Array.isArray(body.keys)) throw unexpected('the directory JWKS is malformed', requestId)
      return body.keys
    })
  }

  /** Base URL of the directory node. */
  get baseUrl(): string {
    return this.#base
  }

  /**
   * The directory's node id (the `aud` of proofs, the `iss` of its notifications), from `/.well-known/timbre`.
   *
   * @example
   * ```ts
   * const aud = await dir.nodeId()
   * ```
   */
  nodeId(): Promise<string> {
    if (!this.#nodeId) {
      const loading = withRetry(() => this.#http.send<{ nodeId?: unknown }>({ method: 'GET', url: `${this.#base}/.well-known/timbre` }), this.#retry).then(
        ({ body, requestId }) => {
          if (!body || typeof body.nodeId !== 'string' || !isOperatorId(body.nodeId)) throw unexpected('the directory discovery document has no nodeId', requestId)
          return body.nodeId
        },
      )
      this.#nodeId = loading
      loading.catch(() => {
        if (this.#nodeId === loading) this.#nodeId = undefined
      })
    }
    return this.#nodeId
  }

  /**
   * A public key of the directory by kid (its JWKS, refetched once on an unknown kid).
   *
   * @example
   * ```ts
   * const key = await dir.key(kid)
   * ```
   */
  async key(kid: string): Promise<PublicJwk | undefined> {
    return this.#keys.resolver()(kid)
  }

  /**
   * `POST /v1/directory/porting-codes` (TMB-PORT-003): register a code's digest, never the code.
   *
   * @example
   * ```ts
   * await dir.registerPortingCode({ address, codeDigest: portingCodeDigest(address, code), expiresAt })
   * ```
   */
  async registerPortingCode(body: { address: string; codeDigest: string; expiresAt: string }): Promise<void> {
    await this.#signed('POST', '/v1/directory/porting-codes', JSON.stringify(body))
  }

  /**
   * `POST /v1/directory/ports` (9.3): file a port as the new operator.
   *
   * @example
   * ```ts
   * const port = await dir.requestPort({ address, portingCode, consent })
   * ```
   */
  async requestPort(input: { address: string; portingCode: string; consent: PortConsent }): Promise<Port> {
    const body = JSON.stringify({ address: input.address, portingCode: input.portingCode, recipientOperator: this.#operatorId, consent: input.consent })
    let attempts = 0
    try {
      return this.#port(await this.#signed<Port>('POST', '/v1/directory/ports', body, () => attempts++))
    } catch (err) {
      // A retry after a lost 201 meets the code it just used: the port it created is ours and pending.
      if (err instanceof TimbreError && err.code === 'porting-code-used' && attempts > 1) {
        const mine = (await this.listPorts('pending')).find((p) => p.address === input.address && p.recipientOperator === this.#operatorId)
        if (mine) return mine
      }
      throw err
    }
  }

  /**
   * `GET /v1/directory/ports[?status=…]` (TMB-PORT-013): the ports where this operator is donor or new operator.
   *
   * @example
   * ```ts
   * const pending = await dir.listPorts('pending')
   * ```
   */
  async listPorts(status?: PortStatus): Promise<Port[]> {
    const res = await this.#signed<{ ports?: unknown }>('GET', `/v1/directory/ports${status ? `?status=${encodeURIComponent(status)}` : ''}`)
    const list = assertSchema<{ ports: Port[] }>('port-list.json', res.body)
    return list.ports
  }

  /**
   * `GET /v1/directory/ports/{portId}` (TMB-PORT-014).
   *
   * @example
   * ```ts
   * const port = await dir.getPort(portId)
   * ```
   */
  async getPort(portId: string): Promise<Port> {
    return this.#port(await this.#signed<Port>('GET', `/v1/directory/ports/${encodeURIComponent(portId)}`))
  }

  /**
   * `POST /v1/directory/ports/{portId}/objection` (donor, TMB-PORT-016).
   *
   * @example
   * ```ts
   * await dir.objectPort(portId, 'vault-inactive', 'the vault is suspended')
   * ```
   */
  async objectPort(portId: string, code: ObjectionReasonCode, detail?: string): Promise<Port> {
    const body = JSON.stringify({ reason: { code, ...(detail ? { detail } : {}) } })
    return this.#port(await this.#signed<Port>('POST', `/v1/directory/ports/${encodeURIComponent(portId)}/objection`, body))
  }

  /**
   * `POST /v1/directory/ports/{portId}/cancellation` (new operator, TMB-PORT-019).
   *
   * @example
   * ```ts
   * await dir.cancelPort(portId)
   * ```
   */
  async cancelPort(portId: string): Promise<Port> {
    return this.#port(await this.#signed<Port>('POST', `/v1/directory/ports/${encodeURIComponent(portId)}/cancellation`, '{}'))
  }

  #port(res: JsonResponse<Port>): Port {
    try {
      return assertSchema<Port>('port.json', res.body)
    } catch (cause) {
      throw new TimbreError('unexpected-response', { detail: 'the directory answer is not a port record', requestId: res.requestId, cause })
    }
  }

  // A fresh proof per attempt: a proof's jti is single use.
  async #signed<T>(method: 'GET' | 'POST', path: string, body?: string, onAttempt?: () => void): Promise<JsonResponse<T>> {
    const aud = await this.nodeId()
    return withRetry(async () => {
      onAttempt?.()
      const authorization = await createRequestProof({ key: this.#key, iss: this.#operatorId, aud, method, path, body: body ?? '' })
      return this.#http.send<T>({ method, url: `${this.#base}${path}`, headers: { authorization }, ...(body !== undefined ? { body } : {}) })
    }, this.#retry)
  }
}
