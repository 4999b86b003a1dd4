// Porting codes, ports and portability jobs (migration 0007). Writes that
// must commit with directory lines take the caller's transaction.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Database } from './schema.js'
import type { PortingJobKind, PortsTable } from './schema-porting.js'

type Db = Kysely<Database> | Transaction<Database>

export type PortStatus = PortsTable['status']

export interface PortRow {
  portId: string
  address: string
  donor: string
  recipientOperator: string
  requestedAt: Date
  objectionDeadline: Date
  cutoverAt: Date
  status: PortStatus
  reason: { code: string; detail?: string } | null
  consent: { givenAt: string; reference: string }
  updatedAt: Date
}

export interface CodeRow {
  address: string
  codeDigest: string
  donor: string
  status: 'active' | 'used' | 'invalidated'
  registeredAt: Date
  expiresAt: Date
}

export interface JobRow {
  id: string
  kind: PortingJobKind
  key: string
  payload: Record<string, unknown>
  attempts: number
}

const toPort = (r: Selectable<PortsTable>): PortRow => ({
  portId: r.port_id,
  address: r.address,
  donor: r.donor,
  recipientOperator: r.recipient_operator,
  requestedAt: new Date(r.requested_at),
  objectionDeadline: new Date(r.objection_deadline),
  cutoverAt: new Date(r.cutover_at),
  status: r.status,
  reason: r.reason,
  consent: r.consent,
  updatedAt: new Date(r.updated_at),
})

export class PortingRepository {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  get db(): Kysely<Database> {
    return this.#db
  }

  // --- porting codes (directory) ---

  /** Register a code's digest, invalidating every earlier unused code of the address (TMB-PORT-004). */
  async registerCode(trx: Db, row: Omit<CodeRow, 'status'>): Promise<void> {
    await trx.updateTable('porting_codes').set({ status: 'invalidated' }).where('address', '=', row.address).where('status', '=', 'active').execute()
    await trx
      .insertInto('porting_codes')
      .values({ address: row.address, code_digest: row.codeDigest, donor: row.donor, registered_at: row.registeredAt, expires_at: row.expiresAt })
      .onConflict((oc) => oc.columns(['address', 'code_digest']).doUpdateSet({ status: 'active', donor: row.donor, registered_at: row.registeredAt, expires_at: row.expiresAt, used_at: null }))
      .execute()
  }

  async findCode(trx: Db, address: string, codeDigest: string): Promise<CodeRow | undefined> {
    const r = await trx.selectFrom('porting_codes').selectAll().where('address', '=', address).where('code_digest', '=', codeDigest).executeTakeFirst()
    return r && { address: r.address, codeDigest: r.code_digest, donor: r.donor, status: r.status, registeredAt: new Date(r.registered_at), expiresAt: new Date(r.expires_at) }
  }

  async useCode(trx: Db, address: string, codeDigest: string, at: Date): Promise<void> {
    await trx.updateTable('porting_codes').set({ status: 'used', used_at: at }).where('address', '=', address).where('code_digest', '=', codeDigest).execute()
  }

  /** After a port ends one way or another, codes the donor issued before it are void. */
  async invalidateCodes(trx: Db, address: string): Promise<void> {
    await trx.updateTable('porting_codes').set({ status: 'invalidated' }).where('address', '=', address).where('status', '=', 'active').execute()
  }

  // --- ports (directory) ---

  async insertPort(trx: Db, p: PortRow, codeDigest: string): Promise<void> {
    await trx
      .insertInto('ports')
      .values({
        port_id: p.portId,
        address: p.address,
        donor: p.donor,
        recipient_operator: p.recipientOperator,
        requested_at: p.requestedAt,
        objection_deadline: p.objectionDeadline,
        cutover_at: p.cutoverAt,
        status: p.status,
        reason: null,
        consent: JSON.stringify(p.consent),
        code_digest: codeDigest,
        updated_at: p.updatedAt,
      })
      .execute()
  }

  async getPort(db: Db, portId: string, forUpdate = false): Promise<PortRow | undefined> {
    let q = db.selectFrom('ports').selectAll().where('port_id', '=', portId)
    if (forUpdate) q = q.forUpdate()
    const r = await q.executeTakeFirst()
    return r && toPort(r)
  }

  async pendingFor(trx: Db, address: string): Promise<PortRow | undefined> {
    const r = await trx.selectFrom('ports').selectAll().where('address', '=', address).where('status', '=', 'pending').executeTakeFirst()
    return r && toPort(r)
  }

  async listFor(operator: string, status?: PortStatus): Promise<PortRow[]> {
    let q = this.#db.selectFrom('ports').selectAll().where((eb) => eb.or([eb('donor', '=', operator), eb('recipient_operator', '=', operator)]))
    if (status) q = q.where('status', '=', status)
    return (await q.orderBy('requested_at').orderBy('port_id').limit(1000).execute()).map(toPort)
  }

  async setStatus(trx: Db, portId: string, status: PortStatus, at: Date, reason?: { code: string; detail?: string }): Promise<PortRow> {
    const r = await trx
      .updateTable('ports')
      .set({ status, updated_at: at, ...(reason ? { reason: JSON.stringify(reason) } : {}) })
      .where('port_id', '=', portId)
      .returningAll()
      .executeTakeFirstOrThrow()
    return toPort(r)
  }

  /** Pending ports whose cut-over has come (silence = consent, TMB-PORT-018); marked completed. */
  async completeDue(now: Date): Promise<PortRow[]> {
    const rows = await this.#db
      .updateTable('ports')
      .set({ status: 'completed', updated_at: sql`cutover_at` as never })
      .where('status', '=', 'pending')
      .where('cutover_at', '<=', now)
      .returningAll()
      .execute()
    return rows.map(toPort)
  }

  // --- portability jobs (both roles) ---

  /** Queue a job; a key already queued is left alone (idempotent). */
  async enqueue(db: Db, kind: PortingJobKind, key: string, payload: Record<string, unknown>, availableAt: Date): Promise<boolean> {
    const r = await db
      .insertInto('porting_jobs')
      .values({ kind, key, payload: JSON.stringify(payload), available_at: availableAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('id')
      .executeTakeFirst()
    return r !== undefined
  }

  /** Queue a job, or bring an unfinished one forward with a new payload (directory pushes coalesce). */
  async enqueueOrUpdate(db: Db, kind: PortingJobKind, key: string, payload: Record<string, unknown>, availableAt: Date): Promise<void> {
    await db
      .insertInto('porting_jobs')
      .values({ kind, key, payload: JSON.stringify(payload), available_at: availableAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ payload: JSON.stringify(payload), available_at: availableAt, done_at: null, attempts: 0 }))
      .execute()
  }

  /** Lease due jobs (FOR UPDATE SKIP LOCKED: several processes on one PostgreSQL cooperate). */
  async claim(limit: number, leaseMs: number, now: Date): Promise<JobRow[]> {
    return this.#db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('porting_jobs')
        .select(['id'])
        .where('done_at', 'is', null)
        .where('available_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .orderBy('available_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute()
      if (due.length === 0) return []
      const rows = await trx
        .updateTable('porting_jobs')
        .set({ locked_until: new Date(now.getTime() + leaseMs), attempts: sql`attempts + 1` as never })
        .where('id', 'in', due.map((d) => d.id))
        .returning(['id', 'kind', 'key', 'payload', 'attempts'])
        .execute()
      return rows.map((r) => ({ id: String(r.id), kind: r.kind, key: r.key, payload: r.payload, attempts: r.attempts }))
    })
  }

  async done(id: string, at: Date): Promise<void> {
    await this.#db.updateTable('porting_jobs').set({ done_at: at, locked_until: null, last_error: null }).where('id', '=', id).execute()
  }

  async retry(id: string, at: Date, error: string): Promise<void> {
    await this.#db.updateTable('porting_jobs').set({ available_at: at, locked_until: null, last_error: error.slice(0, 1000) }).where('id', '=', id).execute()
  }

  async job(key: string): Promise<{ attempts: number; doneAt: Date | null; lastError: string | null } | undefined> {
    const r = await this.#db.selectFrom('porting_jobs').select(['attempts', 'done_at', 'last_error']).where('key', '=', key).executeTakeFirst()
    return r && { attempts: r.attempts, doneAt: r.done_at ? new Date(r.done_at) : null, lastError: r.last_error }
  }
}
