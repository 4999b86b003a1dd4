// Metering at the routing node (spec chapter 11): tariffs, the charge of one
// stamp at acceptance and the refund at a final rejection or failure, both
// inside the caller's transaction; top-ups and adjustments; balances,
// ledgers and signed monthly statements.
//
// The model: `stamp_accounts.balance` is a cache of sum(stamp_ledger.amount)
// that only ever moves in the transaction that appends the entry moving it.
// The charge is one conditional UPDATE (`balance - price >= -credit_limit`),
// which row-locks the account until commit, so concurrent submissions of a
// sender — in any number of processes on one database — serialise on it and
// exactly as many stamps are sold as the balance and credit cover
// (TMB-MTR-008). The same UPDATE takes the next ledger sequence and a time
// that never goes backwards per sender, so a month is a contiguous range of
// sequences (TMB-MTR-015).
import { signStatement, STAMP_CLASSES, statementCsv, uuidv7, type LedgerEntry, type SenderStatement, type StampBalance, type StampClass, type Tariff } from '@timbre/sdk'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { NodeConfig } from '../config/schema.js'
import { NodeError } from '../errors.js'
import type { Database } from '../store/schema.js'
import type { StampLedgerTable } from '../store/schema-metering.js'
import type { NodeKeyring } from './node-keys.js'

type Db = Kysely<Database> | Transaction<Database>

export interface MeteringDeps {
  readonly config: NodeConfig
  readonly db: Kysely<Database>
  readonly keys: NodeKeyring
  now(): Date
}

/** The `reason` of the MTR-005 refund (spec 11.2). */
export const HANDOVER_UNSUPPORTED = 'handover-unsupported'

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/

/** [from, to) of a `YYYY-MM` month, UTC; 400 for anything else. */
export function monthBounds(period: string): { from: Date; to: Date } {
  const m = PERIOD.exec(period)
  if (!m) throw new NodeError('schema-violation', { detail: 'period must be YYYY-MM', extra: { errors: [{ path: 'period', message: 'must be YYYY-MM' }] } })
  const y = Number(m[1])
  const mo = Number(m[2]) - 1
  return { from: new Date(Date.UTC(y, mo, 1)), to: new Date(Date.UTC(y, mo + 1, 1)) }
}

/** A month that is over by `now` (statements are issued for closed months only). */
export function closedMonth(period: string, now: Date): { from: Date; to: Date } {
  const b = monthBounds(period)
  if (b.to.getTime() > now.getTime()) throw new NodeError('not-found', { detail: `${period} is not a closed month` })
  return b
}

/** The discovery document's `tariffs` (TMB-MTR-001): one entry per class sold. */
export function tariffsOf(config: NodeConfig): Tariff[] {
  const t = config.metering.tariffs
  return STAMP_CLASSES.filter((c) => t[c] !== undefined).map((c) => ({ stampClass: c, amount: t[c]!, currency: config.metering.currency }))
}

const n = (v: string | number | bigint | null | undefined): number => Number(v ?? 0)

export function toLedgerEntry(r: Selectable<StampLedgerTable>): LedgerEntry {
  return {
    entryId: r.entry_id,
    sequence: n(r.sequence),
    sender: r.sender_id,
    time: new Date(r.created_at).toISOString(),
    kind: r.kind,
    ...(r.stamp_class ? { stampClass: r.stamp_class } : {}),
    amount: n(r.amount),
    currency: r.currency,
    ...(r.message_id ? { messageId: r.message_id } : {}),
    ...(r.evidence_id ? { evidenceId: r.evidence_id } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.operator_action ? { reference: r.operator_action } : {}),
    balanceAfter: n(r.balance_after),
  }
}

interface Append {
  senderId: string
  kind: LedgerEntry['kind']
  amount: number
  stampClass?: StampClass
  messageId?: string
  evidenceId?: string
  reason?: string
  reference?: string
  /** New credit limit (adjustments). */
  creditLimit?: number
}

export class Metering {
  readonly #d: MeteringDeps

  constructor(deps: MeteringDeps) {
    this.#d = deps
  }

  get currency(): string {
    return this.#d.config.metering.currency
  }

  /** True when the node sells stamps (some class has a price). */
  get charging(): boolean {
    return Object.keys(this.#d.config.metering.tariffs).length > 0
  }

  /** The discovery document's `tariffs` (TMB-MTR-001). */
  tariffs(): Tariff[] {
    return tariffsOf(this.#d.config)
  }

  /** TMB-MTR-002: 400 for a class the node does not sell. */
  assertSold(stampClass: StampClass): void {
    if (this.charging && this.#d.config.metering.tariffs[stampClass] === undefined) {
      throw new NodeError('schema-violation', { detail: `stamp class ${stampClass} is not sold here`, extra: { errors: [{ path: '/stampClass', message: 'is not sold by this routing node' }] } })
    }
  }

  // Move the balance and take the next sequence in one statement; `guard`
  // makes it conditional on the balance plus credit covering a debit.
  async #append(trx: Transaction<Database>, e: Append, guard: boolean): Promise<LedgerEntry | undefined> {
    const now = this.#d.now()
    for (let attempt = 0; attempt < 2; attempt++) {
      let q = trx.updateTable('stamp_accounts')
        .set({
          balance: sql`balance + ${e.amount}`,
          last_sequence: sql`last_sequence + 1`,
          updated_at: sql`greatest(updated_at, ${now})`,
          ...(e.creditLimit !== undefined ? { credit_limit: e.creditLimit } : {}),
        })
        .where('sender_id', '=', e.senderId)
      if (guard) q = q.where(sql<boolean>`balance + ${e.amount} >= -credit_limit`)
      const row = await q.returning(['balance', 'last_sequence', 'updated_at', 'currency']).executeTakeFirst()
      if (row) {
        const inserted = await trx.insertInto('stamp_ledger').values({
          entry_id: uuidv7(now.getTime()),
          sender_id: e.senderId,
          sequence: n(row.last_sequence),
          kind: e.kind,
          stamp_class: e.stampClass ?? null,
          amount: e.amount,
          currency: row.currency,
          message_id: e.messageId ?? null,
          evidence_id: e.evidenceId ?? null,
          reason: e.reason ?? null,
          operator_action: e.reference ?? null,
          balance_after: n(row.balance),
          created_at: new Date(row.updated_at),
        }).returningAll().executeTakeFirstOrThrow()
        return toLedgerEntry(inserted)
      }
      const exists = await trx.selectFrom('stamp_accounts').select('sender_id').where('sender_id', '=', e.senderId).executeTakeFirst()
      if (exists) return undefined
      await trx.insertInto('stamp_accounts').values({ sender_id: e.senderId, currency: this.currency, updated_at: new Date(0) })
        .onConflict((oc) => oc.column('sender_id').doNothing()).execute()
    }
    return undefined
  }

  /**
   * Step 17 (TMB-MTR-007): a first, read-only check, so that a sender
   * without funds is refused before any signing; the charge in step 18
   * checks again, atomically.
   */
  async precheck(senderId: string, stampClass: StampClass): Promise<void> {
    if (!this.charging) return
    const price = this.#d.config.metering.tariffs[stampClass] ?? 0
    const b = await this.balance(senderId)
    if (b.available < price) throw new NodeError('stamp-balance-exhausted', { detail: `the balance and credit do not cover a ${stampClass} stamp (${price} ${this.currency})` })
  }

  /**
   * Step 17 + 18 (TMB-MTR-003/007/008): charge one stamp, in the transaction
   * that stores the stamp. Throws 402 `stamp-balance-exhausted`, which rolls
   * the whole transaction back: nothing else changes.
   */
  async charge(trx: Transaction<Database>, c: { senderId: string; messageId: string; stampClass: StampClass; evidenceId: string }): Promise<LedgerEntry | undefined> {
    if (!this.charging) return undefined
    const price = this.#d.config.metering.tariffs[c.stampClass]
    if (price === undefined) throw new NodeError('schema-violation', { detail: `stamp class ${c.stampClass} is not sold here` })
    const entry = await this.#append(trx, { senderId: c.senderId, kind: 'charge', amount: -price, stampClass: c.stampClass, messageId: c.messageId, evidenceId: c.evidenceId }, true)
    if (!entry) throw new NodeError('stamp-balance-exhausted', { detail: `the balance and credit do not cover a ${c.stampClass} stamp (${price} ${this.currency})` })
    return entry
  }

  /**
   * TMB-MTR-004: refund the charge of a delivery that ended `rejected` or
   * `failed`, pointing to the final evidence. Nothing when it was never
   * charged (accepted while the node did not charge) or already refunded.
   */
  async refund(trx: Transaction<Database>, r: { senderId: string; messageId: string; evidenceId: string; reason: string }): Promise<LedgerEntry | undefined> {
    const charge = await trx.selectFrom('stamp_ledger').select(['amount', 'stamp_class'])
      .where('sender_id', '=', r.senderId).where('message_id', '=', r.messageId).where('kind', '=', 'charge').executeTakeFirst()
    if (!charge) return undefined
    const done = await trx.selectFrom('stamp_ledger').select('id').where('kind', '=', 'refund').where('evidence_id', '=', r.evidenceId).executeTakeFirst()
    if (done) return undefined
    return this.#append(trx, { senderId: r.senderId, kind: 'refund', amount: -n(charge.amount), stampClass: charge.stamp_class!, messageId: r.messageId, evidenceId: r.evidenceId, reason: r.reason }, false)
  }

  /**
   * TMB-MTR-005: a `registered` delivery deposited by an operator that does
   * not announce `handover` gets back the difference between the registered
   * price it was charged and the standard price, pointing to the
   * DepositAcceptance, reason `handover-unsupported` (11.2). Nothing when it
   * was not charged as registered, when the node sells no standard stamp or
   * the difference is not positive, or when it was refunded already.
   */
  async refundSurcharge(trx: Transaction<Database>, r: { senderId: string; messageId: string; evidenceId: string }): Promise<LedgerEntry | undefined> {
    const standard = this.#d.config.metering.tariffs.standard
    if (standard === undefined) return undefined
    const charge = await trx.selectFrom('stamp_ledger').select(['amount', 'stamp_class'])
      .where('sender_id', '=', r.senderId).where('message_id', '=', r.messageId).where('kind', '=', 'charge').executeTakeFirst()
    if (!charge || charge.stamp_class !== 'registered') return undefined
    const difference = -n(charge.amount) - standard
    if (difference <= 0) return undefined
    const done = await trx.selectFrom('stamp_ledger').select('id').where('kind', '=', 'refund').where('evidence_id', '=', r.evidenceId).executeTakeFirst()
    if (done) return undefined
    return this.#append(trx, { senderId: r.senderId, kind: 'refund', amount: difference, stampClass: 'registered', messageId: r.messageId, evidenceId: r.evidenceId, reason: HANDOVER_UNSUPPORTED }, false)
  }

  async #senderExists(senderId: string): Promise<void> {
    const s = await this.#d.db.selectFrom('senders').select('id').where('id', '=', senderId).executeTakeFirst()
    if (!s) throw new NodeError('not-found', { detail: `no sender ${senderId}` })
  }

  /** Admin: a top-up (TMB-MTR-009). */
  async topup(senderId: string, amount: number, reference: string): Promise<LedgerEntry> {
    await this.#senderExists(senderId)
    return this.#d.db.transaction().execute(async (trx) => (await this.#append(trx, { senderId, kind: 'topup', amount, reference }, false))!)
  }

  /** Admin: a correction and/or a new credit limit, one `adjustment` entry (TMB-MTR-009/011). */
  async adjust(senderId: string, amount: number, reference: string, creditLimit?: number): Promise<LedgerEntry> {
    await this.#senderExists(senderId)
    const entry = await this.#d.db.transaction().execute(async (trx) =>
      this.#append(trx, { senderId, kind: 'adjustment', amount, reference, ...(creditLimit !== undefined ? { creditLimit } : {}) }, true))
    if (!entry) throw new NodeError('schema-violation', { detail: 'the adjustment would take the balance below minus the credit limit', extra: { errors: [{ path: '/amount', message: 'not covered by balance and credit limit' }] } })
    return entry
  }

  /** TMB-MTR-010. */
  async balance(senderId: string, db: Db = this.#d.db): Promise<StampBalance> {
    const a = await db.selectFrom('stamp_accounts').select(['balance', 'credit_limit', 'currency']).where('sender_id', '=', senderId).executeTakeFirst()
    const balance = n(a?.balance)
    const creditLimit = n(a?.credit_limit)
    return { sender: senderId, currency: a?.currency ?? this.currency, balance, creditLimit, available: balance + creditLimit }
  }

  /** TMB-MTR-013: entries whose time lies in [from, to), in sequence order. */
  async ledger(senderId: string, from?: Date, to?: Date, db: Db = this.#d.db): Promise<LedgerEntry[]> {
    let q = db.selectFrom('stamp_ledger').selectAll().where('sender_id', '=', senderId)
    if (from) q = q.where('created_at', '>=', from)
    if (to) q = q.where('created_at', '<', to)
    return (await q.orderBy('sequence').execute()).map(toLedgerEntry)
  }

  #summarise(senderId: string, period: string, opening: number, entries: LedgerEntry[]): SenderStatement {
    const sum = (list: LedgerEntry[]) => ({ count: list.length, amount: list.reduce((a, e) => a + e.amount, 0) })
    const charges = entries.filter((e) => e.kind === 'charge')
    const all = sum(entries)
    return {
      v: 1,
      kind: 'sender-statement',
      statementId: uuidv7(this.#d.now().getTime()),
      issuer: this.#d.config.nodeId,
      sender: senderId,
      period,
      currency: entries[0]?.currency ?? this.currency,
      openingBalance: opening,
      closingBalance: opening + all.amount,
      classes: STAMP_CLASSES.map((c) => ({ stampClass: c, ...sum(charges.filter((e) => e.stampClass === c)) })).filter((c) => c.count > 0),
      refunds: sum(entries.filter((e) => e.kind === 'refund')),
      topups: sum(entries.filter((e) => e.kind === 'topup')),
      adjustments: sum(entries.filter((e) => e.kind === 'adjustment')),
      ...(entries.length > 0 ? { firstSequence: entries[0]!.sequence, lastSequence: entries.at(-1)!.sequence } : {}),
      issuedAt: this.#d.now().toISOString(),
    }
  }

  async #periodEntries(senderId: string, period: string): Promise<{ opening: number; entries: LedgerEntry[] }> {
    const { from, to } = closedMonth(period, this.#d.now())
    const before = await this.#d.db.selectFrom('stamp_ledger').select((eb) => eb.fn.sum<string>('amount').as('s'))
      .where('sender_id', '=', senderId).where('created_at', '<', from).executeTakeFirst()
    return { opening: n(before?.s), entries: await this.ledger(senderId, from, to) }
  }

  /**
   * TMB-MTR-014/015: the signed statement of a closed month, issued once and
   * then served unchanged.
   */
  async statement(senderId: string, period: string): Promise<string> {
    closedMonth(period, this.#d.now())
    const issued = () => this.#d.db.selectFrom('issued_statements').select('jws')
      .where('kind', '=', 'sender-statement').where('subject', '=', senderId).where('period', '=', period).executeTakeFirst()
    const existing = await issued()
    if (existing) return existing.jws
    const { opening, entries } = await this.#periodEntries(senderId, period)
    const jws = await signStatement(this.#summarise(senderId, period, opening, entries), this.#d.keys.signingKey)
    await this.#d.db.insertInto('issued_statements').values({ kind: 'sender-statement', subject: senderId, period, jws })
      .onConflict((oc) => oc.columns(['kind', 'subject', 'period']).doNothing()).execute()
    return (await issued())!.jws
  }

  /** The same month as CSV (11.5). */
  async statementCsv(senderId: string, period: string): Promise<string> {
    return statementCsv((await this.#periodEntries(senderId, period)).entries)
  }
}
