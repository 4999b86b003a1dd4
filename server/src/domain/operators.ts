// Admission of operators into this directory (admin API, and the node itself
// at start): checks the record, keeps only public keys, and re-issues the
// lines of an operator whose endpoint or encryption keys changed (TMB-DIR-013).
import { assertPublicJwk, assertSchema, TimbreError, type Jwks, type PublicJwk } from '@timbre/sdk'
import { NodeError } from '../errors.js'
import type { OperatorStatus, OperatorsRepository } from '../store/operators-repository.js'
import type { DirectoryService } from './directory.js'
import type { OperatorRecord } from './directory-view.js'
import { toOperatorRecord } from './operator-record.js'

/** Body of `POST /v1/admin/operators` (spec operator.json). */
export interface OperatorRegistration {
  id: string
  name?: string
  roles: string[]
  baseUrl: string
  relayEndpoint?: string
  jwks: Jwks
  status?: OperatorStatus
}

async function publicKeys(jwks: Jwks): Promise<PublicJwk[]> {
  const out: PublicJwk[] = []
  for (const [i, k] of jwks.keys.entries()) {
    try {
      out.push(await assertPublicJwk(k, k.crv === 'X25519' ? 'enc' : 'sig'))
    } catch (err) {
      if (!(err instanceof TimbreError)) throw err
      throw new NodeError('schema-violation', { detail: err.detail, extra: { errors: [{ path: `/jwks/keys/${i}`, message: err.detail ?? err.message }] } })
    }
  }
  return out
}

export class OperatorRegistry {
  readonly #repo: OperatorsRepository
  readonly #directory: DirectoryService

  constructor(repo: OperatorsRepository, directory: DirectoryService) {
    this.#repo = repo
    this.#directory = directory
  }

  /** Register or replace an operator; its open lines follow a new endpoint or new keys. */
  async register(input: unknown): Promise<{ record: OperatorRecord & { name: string | null }; created: boolean }> {
    const body = assertSchema<OperatorRegistration>('operator.json', input)
    const keys = await publicKeys(body.jwks)
    const problems: string[] = []
    if (!keys.some((k) => k.crv === 'Ed25519')) problems.push('jwks must hold a signature (Ed25519) key')
    if (body.roles.includes('vault-operator') && !keys.some((k) => k.crv === 'X25519')) problems.push('a vault operator needs an encryption (X25519) key')
    if (problems.length > 0) {
      throw new NodeError('schema-violation', { detail: problems.join('; '), extra: { errors: problems.map((message) => ({ path: '/jwks', message })) } })
    }
    const baseUrl = body.baseUrl.replace(/\/+$/, '')
    const { before, after } = await this.#directory.upsertOperator({
      id: body.id,
      name: body.name ?? null,
      baseUrl,
      relayEndpoint: body.relayEndpoint ?? `${baseUrl}/v1/relay`,
      roles: body.roles,
      status: body.status ?? 'active',
      jwks: { keys: keys.map((k) => ({ ...k })) },
    })
    return { record: { ...toOperatorRecord(after), name: after.name }, created: before === undefined }
  }

  async get(id: string): Promise<(OperatorRecord & { name: string | null }) | undefined> {
    const r = await this.#repo.get(id)
    return r && { ...toOperatorRecord(r), name: r.name }
  }
}
