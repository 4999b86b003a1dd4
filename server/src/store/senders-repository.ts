// Registered senders (organisations allowed to submit through this node).
import type { Kysely, Selectable } from 'kysely'
import type { Database, SendersTable } from './schema.js'
import { senderCache } from './sender-cache.js'

export type SenderStatus = 'active' | 'disabled'

export interface SenderRecord {
  id: string
  name: string | null
  jwk: Record<string, unknown>
  kid: string
  status: SenderStatus
  webhookUrl: string | null
  createdAt: Date
  updatedAt: Date
}

export interface SenderPatch {
  status?: SenderStatus
  webhookUrl?: string | null
  /** Key replacement: the JWK and its thumbprint travel together. */
  key?: { jwk: Record<string, unknown>; kid: string }
}

function toRecord(r: Selectable<SendersTable>): SenderRecord {
  return {
    id: r.id,
    name: r.name,
    jwk: r.jwk,
    kid: r.kid,
    status: r.status,
    webhookUrl: r.webhook_url,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  }
}

export class SendersRepository {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** Insert a new sender; undefined when the id is already taken. */
  async insert(s: Omit<SenderRecord, 'createdAt' | 'updatedAt'>): Promise<SenderRecord | undefined> {
    const row = await this.#db
      .insertInto('senders')
      .values({ id: s.id, name: s.name, jwk: JSON.stringify(s.jwk), kid: s.kid, status: s.status, webhook_url: s.webhookUrl })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst()
    return row && toRecord(row)
  }

  async get(id: string): Promise<SenderRecord | undefined> {
    const row = await this.#db.selectFrom('senders').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toRecord(row)
  }

  /** Senders in id order, `limit` at a time after the `after` id. */
  async list(options: { after?: string; limit?: number } = {}): Promise<SenderRecord[]> {
    let q = this.#db.selectFrom('senders').selectAll().orderBy('id')
    if (options.after !== undefined) q = q.where('id', '>', options.after)
    const rows = await q.limit(options.limit ?? 1000).execute()
    return rows.map(toRecord)
  }

  /** Apply a patch; undefined when no such sender. */
  async update(id: string, patch: SenderPatch): Promise<SenderRecord | undefined> {
    try {
      const row = await this.#db
        .updateTable('senders')
        .set({
          updated_at: new Date(),
          ...(patch.status !== undefined && { status: patch.status }),
          ...(patch.webhookUrl !== undefined && { webhook_url: patch.webhookUrl }),
          ...(patch.key !== undefined && { jwk: JSON.stringify(patch.key.jwk), kid: patch.key.kid }),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      return row && toRecord(row)
    } finally {
      // The submission path's key/status cache (sender-cache.ts) sees this change at once.
      senderCache(this.#db).invalidate(id)
    }
  }
}
