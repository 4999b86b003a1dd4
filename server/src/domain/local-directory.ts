// DirectoryView over this node's own directory role (store-backed). The
// routing and vault roles read through it; the directory routes use its
// service and registry directly.
import { toPublicJwk, type PublicJwk } from '@timbre/sdk'
import type { Kysely } from 'kysely'
import { DirectoryRepository, type DirectoryWriter, type LineRow } from '../store/directory-repository.js'
import { OperatorsRepository } from '../store/operators-repository.js'
import type { Database } from '../store/schema.js'
import { DirectoryService } from './directory.js'
import type { DirectoryView, OperatorRecord, ResolvedLine } from './directory-view.js'
import type { HostedAddressRegistrar } from './hosted-registrar.js'
import type { NodeKeyring } from './node-keys.js'
import { signingKeyOf, toOperatorRecord } from './operator-record.js'
import { OperatorRegistry } from './operators.js'

export class LocalDirectory implements DirectoryView, HostedAddressRegistrar {
  readonly kind = 'local'
  readonly service: DirectoryService
  readonly operators: OperatorRegistry
  readonly #repo: OperatorsRepository
  readonly #keys: NodeKeyring
  readonly #nodeId: string

  constructor(db: Kysely<Database>, nodeId: string, keys: NodeKeyring) {
    this.#repo = new OperatorsRepository(db)
    this.#keys = keys
    this.#nodeId = nodeId
    this.service = new DirectoryService(new DirectoryRepository(db), this.#repo, { nodeId, signingKey: keys.signingKey })
    this.operators = new OperatorRegistry(this.#repo, this.service)
  }

  /** The line row valid at `at`, read inside a directory write (porting's checks). */
  async lookupIn(w: DirectoryWriter, address: string, at: Date): Promise<LineRow | undefined> {
    const r = await w.trx
      .selectFrom('directory_lines')
      .select(['address', 'version', 'operator_id', 'valid_from', 'valid_to'])
      .where('address', '=', address)
      .where('valid_from', '<=', at)
      .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
      .executeTakeFirst()
    return r && ({ address: r.address, version: r.version, operatorId: r.operator_id, validFrom: new Date(r.valid_from), validTo: r.valid_to && new Date(r.valid_to) } as LineRow)
  }

  lookup(address: string, at?: Date): Promise<ResolvedLine | undefined> {
    return this.service.lookup(address, at)
  }

  async operator(id: string): Promise<OperatorRecord | undefined> {
    const r = await this.#repo.get(id)
    return r && toOperatorRecord(r)
  }

  async nodeKey(operatorId: string, kid: string, at?: Date): Promise<PublicJwk | undefined> {
    return signingKeyOf(await this.operator(operatorId), kid, at)
  }

  /** This node signs the lines: its signature keys, current and retired. */
  async directoryKeys(): Promise<PublicJwk[]> {
    return this.#keys.jwks().keys.filter((k) => k.use === 'sig').map(toPublicJwk)
  }

  async registerHosted(address: string): Promise<ResolvedLine> {
    return (await this.service.register(address, this.#nodeId)).resolved
  }
}
