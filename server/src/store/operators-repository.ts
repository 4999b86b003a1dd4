// Admitted operators as the directory and trust list know them (spec 3.4, 8.2).
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Database } from './schema.js'
import type { OperatorsTable } from './schema-directory.js'

export type OperatorStatus = 'active' | 'suspended' | 'revoked'

export interface OperatorRow {
  id: string
  name: string | null
  baseUrl: string
  relayEndpoint: string
  roles: string[]
  status: OperatorStatus
  jwks: { keys: Array<Record<string, unknown>> }
  keyThumbprints: string[]
  revision: bigint
  createdAt: Date
  updatedAt: Date
}

export type OperatorInput = Pick<OperatorRow, 'id' | 'name' | 'baseUrl' | 'relayEndpoint' | 'roles' | 'status' | 'jwks'>

function toRow(r: Selectable<OperatorsTable>): OperatorRow {
  return {
    id: r.id,
    name: r.name,
    baseUrl: r.base_url,
    relayEndpoint: r.relay_endpoint,
    roles: r.roles,
    status: r.status,
    jwks: r.jwks,
    keyThumbprints: r.key_thumbprints,
    revision: BigInt(r.revision),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  }
}

export class OperatorsRepository {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  async get(id: string, trx?: Transaction<Database>): Promise<OperatorRow | undefined> {
    const row = await (trx ?? this.#db).selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toRow(row)
  }

  async list(): Promise<OperatorRow[]> {
    return (await this.#db.selectFrom('operators').selectAll().orderBy('id').execute()).map(toRow)
  }

  /** The highest revision of any operator (0 with none): the trust list's version. */
  async maxRevision(): Promise<bigint> {
    const r = await this.#db.selectFrom('operators').select(sql<string | null>`max(revision)`.as('m')).executeTakeFirst()
    return BigInt(r?.m ?? 0)
  }

  /**
   * Insert or replace an operator inside the caller's transaction; the
   * thumbprints only ever grow (TMB-TRUST-015). Returns the previous row too.
   */
  async upsert(trx: Transaction<Database>, op: OperatorInput): Promise<{ before: OperatorRow | undefined; after: OperatorRow }> {
    const before = await trx.selectFrom('operators').selectAll().where('id', '=', op.id).forUpdate().executeTakeFirst()
    const kids = op.jwks.keys.map((k) => String(k.kid))
    const thumbprints = [...new Set([...(before?.key_thumbprints ?? []), ...kids])]
    const values = {
      name: op.name,
      base_url: op.baseUrl,
      relay_endpoint: op.relayEndpoint,
      roles: JSON.stringify(op.roles),
      status: op.status,
      jwks: JSON.stringify(op.jwks),
      key_thumbprints: JSON.stringify(thumbprints),
      revision: sql<string>`nextval('operators_revision_seq')`,
    }
    const after = before
      ? await trx.updateTable('operators').set({ ...values, updated_at: new Date() }).where('id', '=', op.id).returningAll().executeTakeFirstOrThrow()
      : await trx.insertInto('operators').values({ id: op.id, ...values }).returningAll().executeTakeFirstOrThrow()
    return { before: before && toRow(before), after: toRow(after) }
  }
}
