// The node's own keys. Private JWKs are stored in plaintext (announced at
// start); a KMS-backed store can replace this repository later.
import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

export interface NodeKeyRecord {
  kid: string
  use: 'sig' | 'enc'
  alg: string
  privateJwk: Record<string, unknown>
  publicJwk: Record<string, unknown>
  notBefore: Date
  notAfter: Date | null
}

export class NodeKeysRepository {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** Every key, current and retired, oldest first. */
  async list(): Promise<NodeKeyRecord[]> {
    const rows = await this.#db.selectFrom('node_keys').selectAll().orderBy('not_before').orderBy('kid').execute()
    return rows.map((r) => ({
      kid: r.kid,
      use: r.use,
      alg: r.alg,
      privateJwk: r.private_jwk,
      publicJwk: r.public_jwk,
      notBefore: new Date(r.not_before),
      notAfter: r.not_after === null ? null : new Date(r.not_after),
    }))
  }

  /**
   * Insert a key as the current one for its use unless another process got
   * there first (partial unique index `node_keys_one_current`). True if inserted.
   */
  async insertCurrentIfAbsent(key: NodeKeyRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('node_keys')
      .values({
        kid: key.kid,
        use: key.use,
        alg: key.alg,
        private_jwk: JSON.stringify(key.privateJwk),
        public_jwk: JSON.stringify(key.publicJwk),
        not_before: key.notBefore,
        not_after: null,
      })
      .onConflict((oc) => oc.column('use').where('not_after', 'is', null).doNothing())
      .executeTakeFirst()
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n
  }
}
