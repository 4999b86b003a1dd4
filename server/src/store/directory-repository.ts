// Directory lines and the change feed (spec 8.1, 8.3). Every write goes
// through `write()`, which serialises directory writers so the feed has no
// gaps and never shows a later cursor before an earlier one (TMB-DIR-016).
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { Batcher } from './batcher.js'
import type { Database } from './schema.js'
import type { DirectoryChangesTable, DirectoryLinesTable } from './schema-directory.js'

/**
 * Advisory lock key of directory writes ('TMBRDIR1' as an int64). Chosen over
 * a counter row because it is taken at the START of the transaction: the
 * read of the current line and the write after it cannot interleave with
 * another writer (no lost update between two first registrations), and the
 * feed cursor is computed as max+1 under it, so a rolled-back write frees its
 * number instead of leaving a gap as a sequence would.
 */
export const DIRECTORY_WRITE_LOCK = 0x54_4d_42_52_44_49_52_31n

export interface LineRow {
  address: string
  version: number
  operatorId: string
  relayEndpoint: string
  encryptionKeys: Array<Record<string, unknown>>
  validFrom: Date
  validTo: Date | null
  createdAt: Date
}

export interface ChangeRow {
  cursor: bigint
  address: string
  version: number
  operatorId: string
  validFrom: Date
  validTo: Date | null
  line: string
  changedAt: Date
}

function toLine(r: Selectable<DirectoryLinesTable>): LineRow {
  return {
    address: r.address,
    version: r.version,
    operatorId: r.operator_id,
    relayEndpoint: r.relay_endpoint,
    encryptionKeys: r.encryption_keys,
    validFrom: new Date(r.valid_from),
    validTo: r.valid_to === null ? null : new Date(r.valid_to),
    createdAt: new Date(r.created_at),
  }
}

function toChange(r: Selectable<DirectoryChangesTable>): ChangeRow {
  return {
    cursor: BigInt(r.cursor),
    address: r.address,
    version: r.version,
    operatorId: r.operator_id,
    validFrom: new Date(r.valid_from),
    validTo: r.valid_to === null ? null : new Date(r.valid_to),
    line: r.line,
    changedAt: new Date(r.changed_at),
  }
}

/** The writes available inside `DirectoryRepository.write()`. */
export class DirectoryWriter {
  readonly #trx: Transaction<Database>

  constructor(trx: Transaction<Database>) {
    this.#trx = trx
  }

  get trx(): Transaction<Database> {
    return this.#trx
  }

  /** The highest version of an address (the current or scheduled line). */
  async latest(address: string): Promise<LineRow | undefined> {
    const r = await this.#trx.selectFrom('directory_lines').selectAll().where('address', '=', address).orderBy('version', 'desc').limit(1).executeTakeFirst()
    return r && toLine(r)
  }

  /** Lines of an operator whose validity has no end yet. */
  async openLinesOf(operatorId: string): Promise<LineRow[]> {
    const rows = await this.#trx.selectFrom('directory_lines').selectAll().where('operator_id', '=', operatorId).where('valid_to', 'is', null).orderBy('address').execute()
    return rows.map(toLine)
  }

  async insertLine(line: Omit<LineRow, 'createdAt' | 'validTo'>): Promise<LineRow> {
    const r = await this.#trx
      .insertInto('directory_lines')
      .values({
        address: line.address,
        version: line.version,
        operator_id: line.operatorId,
        relay_endpoint: line.relayEndpoint,
        encryption_keys: JSON.stringify(line.encryptionKeys),
        valid_from: line.validFrom,
        valid_to: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toLine(r)
  }

  /** Set valid_to once (the trigger of migration 0003 refuses a second time). */
  async closeLine(address: string, version: number, validTo: Date): Promise<LineRow> {
    const r = await this.#trx
      .updateTable('directory_lines')
      .set({ valid_to: validTo })
      .where('address', '=', address)
      .where('version', '=', version)
      .where('valid_to', 'is', null)
      .returningAll()
      .executeTakeFirstOrThrow()
    return toLine(r)
  }

  /** Append one change; the cursor is the next integer (writers hold the lock). */
  async appendChange(line: LineRow, jws: string, changedAt: Date): Promise<bigint> {
    const r = await this.#trx
      .insertInto('directory_changes')
      .values({
        cursor: sql<string>`(select coalesce(max(cursor), 0) + 1 from directory_changes)`,
        address: line.address,
        version: line.version,
        operator_id: line.operatorId,
        valid_from: line.validFrom,
        valid_to: line.validTo,
        line: jws,
        changed_at: changedAt,
      })
      .returning('cursor')
      .executeTakeFirstOrThrow()
    return BigInt(r.cursor)
  }
}

export class DirectoryRepository {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  /** Run directory writes in one transaction holding the directory write lock. */
  async write<T>(fn: (w: DirectoryWriter) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${DIRECTORY_WRITE_LOCK.toString()}::bigint)`.execute(trx)
      return fn(new DirectoryWriter(trx))
    })
  }

  /** The line valid at `at`: validFrom ≤ at < validTo (spec 8.1). */
  async validAt(address: string, at: Date): Promise<LineRow | undefined> {
    return this.#lookups.submit({ address, at })
  }

  // Concurrent lookups (one per submission) share one SELECT: each item
  // brings its own address and instant, and gets the one line valid then
  // (the exclusion constraint allows no second one).
  readonly #lookups = new Batcher<{ address: string; at: Date }, LineRow | undefined>({
    maxBatch: 128,
    parallel: 2,
    run: async (items) => {
      if (items.length === 1) {
        const { address, at } = items[0]!
        const r = await this.#db
          .selectFrom('directory_lines')
          .selectAll()
          .where('address', '=', address)
          .where('valid_from', '<=', at)
          .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
          .executeTakeFirst()
        return [{ ok: true, value: r && toLine(r) }]
      }
      const wanted = items.map((i, n) => sql`(${n}::int, ${i.address}, ${i.at.toISOString()}::timestamptz)`)
      const res = await sql<Selectable<DirectoryLinesTable> & { i: number }>`select v.i, l.* from (values ${sql.join(wanted)}) as v(i, a, t)
        join directory_lines l on l.address = v.a and l.valid_from <= v.t and (l.valid_to is null or l.valid_to > v.t)`.execute(this.#db)
      const found = new Map(res.rows.map((r) => [Number(r.i), r]))
      return items.map((_, n) => {
        const r = found.get(n)
        return { ok: true, value: r && toLine(r) }
      })
    },
  })

  /** Changes after a cursor, in order; `limit + 1` rows tell whether more exist. */
  async changesAfter(after: bigint, limit: number): Promise<ChangeRow[]> {
    const rows = await this.#db
      .selectFrom('directory_changes')
      .selectAll()
      .where('cursor', '>', after.toString())
      .orderBy('cursor')
      .limit(limit)
      .execute()
    return rows.map(toChange)
  }
}
