/**
 * `client.stamps`: the sender's side of metering (spec chapter 11) — its
 * balance, its ledger and usage for a month, and its monthly statements,
 * verified against the routing node's keys before they are returned.
 */
import { TimbreError } from '../errors.js'
import type { KeyResolver } from '../protocol/key-set.js'
import {
  STAMP_CLASSES,
  verifyStatement,
  type CountAmount,
  type LedgerEntry,
  type SenderStatement,
  type StampBalance,
  type StampClass,
} from '../protocol/statement.js'

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/

/**
 * The first instant of a `YYYY-MM` month and of the next one (UTC).
 *
 * @example
 * ```ts
 * periodBounds('2026-11') // { from: 2026-11-01T00:00:00Z, to: 2026-12-01T00:00:00Z }
 * ```
 */
export function periodBounds(period: string): { from: Date; to: Date } {
  const m = PERIOD.exec(period)
  if (!m) throw new TimbreError('schema-violation', { detail: 'period must be YYYY-MM' })
  const y = Number(m[1])
  const mo = Number(m[2]) - 1
  return { from: new Date(Date.UTC(y, mo, 1)), to: new Date(Date.UTC(y, mo + 1, 1)) }
}

/** What a sender used in a month, computed from its ledger (the month may be open). */
export interface StampUsage {
  period: string
  currency: string | undefined
  /** Stamps bought per class: count and (negative) amount. */
  classes: { stampClass: StampClass; count: number; amount: number }[]
  refunds: CountAmount
  topups: CountAmount
  adjustments: CountAmount
  /** The ledger entries of the month, in sequence order. */
  entries: LedgerEntry[]
}

/** A verified monthly statement. */
export interface VerifiedStatement {
  statement: SenderStatement
  /** The signed statement as received, to archive. */
  jws: string
}

/** @internal the client's transport, handed over by TimbreClient. */
export interface StampsTransport {
  senderId: string
  signedGet<T>(path: string): Promise<{ body: T; requestId: string | undefined }>
  routerKeys(): KeyResolver
  nodeId(): Promise<string>
}

/**
 * The stamps API of a {@link TimbreClient} (`client.stamps`).
 *
 * @example
 * ```ts
 * const { statement, jws } = await client.stamps.statement('2026-11') // verified before it is returned
 * console.log(statement.closingBalance) // keep `jws` for the accounts
 * ```
 */
export class StampsApi {
  readonly #t: StampsTransport

  /** @internal */
  constructor(transport: StampsTransport) {
    this.#t = transport
  }

  /**
   * The sender's balance, credit limit and available amount, in minor units.
   *
   * @example
   * ```ts
   * const { available, currency } = await client.stamps.balance()
   * ```
   */
  async balance(): Promise<StampBalance> {
    const { body, requestId } = await this.#t.signedGet<StampBalance>('/v1/stamps/balance')
    if (!body || typeof body.balance !== 'number' || body.sender !== this.#t.senderId) {
      throw new TimbreError('unexpected-response', { detail: 'the balance answer is malformed', requestId })
    }
    return body
  }

  /**
   * Ledger entries whose time lies in [`from`, `to`), in sequence order.
   *
   * @example
   * ```ts
   * const entries = await client.stamps.ledger(new Date('2026-11-01'), new Date('2026-12-01'))
   * ```
   */
  async ledger(from: Date, to: Date): Promise<LedgerEntry[]> {
    const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`
    const { body, requestId } = await this.#t.signedGet<{ entries?: LedgerEntry[] }>(`/v1/stamps/ledger?${q}`)
    if (!body || !Array.isArray(body.entries)) throw new TimbreError('unexpected-response', { detail: 'the ledger answer is malformed', requestId })
    return body.entries
  }

  /**
   * Usage of a month (`YYYY-MM`, UTC), also the current one: stamps bought
   * per class, refunds, top-ups and adjustments, with the entries.
   *
   * @example
   * ```ts
   * const u = await client.stamps.usage('2026-11')
   * u.classes.find((c) => c.stampClass === 'standard')?.count // 100
   * ```
   */
  async usage(period: string): Promise<StampUsage> {
    const { from, to } = periodBounds(period)
    const entries = await this.ledger(from, to)
    const sum = (list: LedgerEntry[]): CountAmount => ({ count: list.length, amount: list.reduce((a, e) => a + e.amount, 0) })
    const charges = entries.filter((e) => e.kind === 'charge')
    return {
      period,
      currency: entries[0]?.currency,
      classes: STAMP_CLASSES.map((c) => ({ stampClass: c, ...sum(charges.filter((e) => e.stampClass === c)) })).filter((c) => c.count > 0),
      refunds: sum(entries.filter((e) => e.kind === 'refund')),
      topups: sum(entries.filter((e) => e.kind === 'topup')),
      adjustments: sum(entries.filter((e) => e.kind === 'adjustment')),
      entries,
    }
  }

  /**
   * The signed statement of a closed month, verified (signature with the
   * routing node's keys, sender, period, arithmetic) before it is returned.
   *
   * @example
   * ```ts
   * const { statement, jws } = await client.stamps.statement('2026-11')
   * console.log(statement.openingBalance, statement.closingBalance)
   * ```
   */
  async statement(period: string): Promise<VerifiedStatement> {
    periodBounds(period)
    const { body, requestId } = await this.#t.signedGet<{ statement?: string }>(`/v1/stamps/statements/${period}`)
    if (!body || typeof body.statement !== 'string') throw new TimbreError('unexpected-response', { detail: 'the statement answer is malformed', requestId })
    const statement = await verifyStatement<SenderStatement>(body.statement, this.#t.routerKeys(), {
      kind: 'sender-statement',
      sender: this.#t.senderId,
      period,
      issuer: await this.#t.nodeId(),
    })
    return { statement, jws: body.statement }
  }
}
