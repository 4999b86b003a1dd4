// The operator admin API of a Timbre node (spec/openapi.yaml, tag `admin`),
// `Authorization: Bearer <admin token>`. Only what the examples need.
import type { Jwks, PublicJwk } from '@timbre/sdk'
import { HttpError, jsonRequest, trimSlash } from './http.js'

/** Body of `POST /v1/admin/operators` (schema `operator.json`). */
export interface OperatorRegistration {
  id: string
  name?: string
  roles: string[]
  baseUrl: string
  relayEndpoint?: string
  jwks: Jwks
  status?: 'active' | 'suspended' | 'revoked'
}

/** Answer of `POST /v1/admin/vault-addresses` (schema `vault-account.json`). */
export interface VaultAccount {
  address: string
  displayAddress: string
  operator: string
  reference?: string
  status: string
  createdAt: string
  line?: string
}

export class AdminApi {
  readonly baseUrl: string
  #token: string

  constructor(baseUrl: string, token: string) {
    this.baseUrl = trimSlash(baseUrl)
    this.#token = token
  }

  #call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) {
    return jsonRequest<T>(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#token}` },
      ...(body !== undefined ? { body } : {}),
    })
  }

  /**
   * Register a sender (`POST /v1/admin/senders`). Returns false when the
   * sender already existed with this very key (`sender-exists`), and throws
   * when it exists with another one.
   */
  async registerSender(sender: { id: string; jwk: PublicJwk; name?: string; webhookUrl?: string }): Promise<boolean> {
    const jwk = { kty: sender.jwk.kty, crv: sender.jwk.crv, x: sender.jwk.x }
    try {
      await this.#call('POST', '/v1/admin/senders', { id: sender.id, jwk, ...(sender.name && { name: sender.name }), ...(sender.webhookUrl && { webhookUrl: sender.webhookUrl }) })
      return true
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 409) throw err
      const { body } = await this.#call<{ senders?: Array<{ id: string; jwk?: { x?: string }; keys?: Array<{ x?: string }> }> }>('GET', '/v1/admin/senders')
      const existing = body.senders?.find((s) => s.id === sender.id)
      const keys = [existing?.jwk, ...(existing?.keys ?? [])].filter(Boolean)
      if (existing && keys.length > 0 && !keys.some((k) => k?.x === sender.jwk.x)) {
        throw new Error(`sender ${sender.id} is already registered at ${this.baseUrl} with another key`)
      }
      return false
    }
  }

  /** Register an operator in the directory (`POST /v1/admin/operators`); false when it was already there. */
  async registerOperator(operator: OperatorRegistration): Promise<boolean> {
    try {
      await this.#call('POST', '/v1/admin/operators', operator)
      return true
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) return false
      throw err
    }
  }

  /** Open a vault account at a vault operator node (`POST /v1/admin/vault-addresses`). */
  async openVaultAccount(reference?: string): Promise<VaultAccount> {
    const { body } = await this.#call<VaultAccount>('POST', '/v1/admin/vault-addresses', reference ? { reference } : {})
    return body
  }
}
