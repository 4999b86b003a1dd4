// The node's outbox worker: drains the transactional outbox — relays and
// webhooks of the routing role, Handover pushes of the vault role (7.6). Several node processes on one PostgreSQL cooperate: a short
// transaction claims due rows with `FOR UPDATE SKIP LOCKED` and leases them
// (`locked_until`, `locked_by`), so no row is worked on by two processes at
// once (TMB-RTY-007); a process that dies leaves leases that expire and the
// rows are claimed again (TMB-RTY-003). Every outcome is written in one
// transaction guarded by the lease. On PGlite the same code runs on its
// single connection: inside a transaction callback only `trx` is used.
//
// Why our own outbox rather than pg-boss: PGlite has one connection (pg-boss
// wants a pool and its own schema), pg-boss takes ≈2.6 s to start, and the
// relay job must be written in the same transaction as the delivery and its
// stamp, with the caller's Kysely transaction, which pg-boss cannot join.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { decodeEvidence, pushEvidence, signEvidence, type DeliveryStatus, type Evidence, type EvidenceInput, type PublicJwk } from '@timbre/sdk'
import { sql, type Selectable, type Transaction } from 'kysely'
import { Forwarder, type RelayOutcome } from '../domain/forwarding.js'
import { Metering } from '../domain/metering.js'
import { enqueueWebhook, recordEvidence, recordEvidences, type RoutingServices } from '../domain/routing.js'
import type { Database, DeliveriesTable, OutboxTable } from '../store/schema.js'
import { relayDelayMs, webhookDelayMs } from './schedule.js'
import { sendWebhook, type WebhookPayload } from './webhooks.js'

type OutboxRow = Selectable<OutboxTable>
type DeliveryRow = Selectable<DeliveriesTable>

const FINAL = new Set<DeliveryStatus>(['delivered', 'rejected', 'failed'])

export interface WorkerStats {
  claimed: number
  relays: number
  webhooks: number
  handovers: number
}

export class OutboxWorker {
  readonly id: string
  readonly #r: RoutingServices
  readonly #forwarder: Forwarder
  readonly #metering: Metering
  readonly #kinds: OutboxRow['kind'][]
  readonly #inflight = new Set<Promise<void>>()
  #running = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #kicked = false
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  readonly stats: WorkerStats = { claimed: 0, relays: 0, webhooks: 0, handovers: 0 }

  constructor(routing: RoutingServices) {
    this.#r = routing
    this.#forwarder = new Forwarder(routing)
    this.#metering = new Metering(routing)
    // Only the jobs of the roles played: relays and webhooks (routing node), Handover pushes (vault operator).
    const roles = routing.config.roles
    this.#kinds = [...(roles.includes('routing-node') ? (['relay', 'webhook'] as const) : []), ...(roles.includes('vault-operator') ? (['handover'] as const) : [])]
    this.id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /** Stop claiming, let in-flight work finish, close connections. */
  async stop(): Promise<void> {
    this.#running = false
    this.kick()
    await this.#loop
    await Promise.allSettled([...this.#inflight])
    if (this.#timer) clearTimeout(this.#timer)
    await this.#forwarder.close()
  }

  /** Look for work now (a submission committed, a retry came due). */
  kick(): void {
    const wake = this.#wake
    this.#wake = undefined
    // Not sleeping (claiming or busy): remember it, so the next sleep returns at
    // once instead of waiting a poll interval for a row committed meanwhile.
    if (wake) wake()
    else this.#kicked = true
  }

  // Wake up when a row this process rescheduled comes due, sooner than the poll.
  #wakeAt(at: Date): void {
    const t = at.getTime()
    if (t >= this.#timerAt) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = t
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#timerAt = Infinity
      this.kick()
    }, Math.max(0, t - this.#r.now().getTime()))
    this.#timer.unref()
  }

  #sleep(ms: number): Promise<void> {
    if (this.#kicked) {
      this.#kicked = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#wake = undefined; resolve() }, ms)
      this.#wake = () => { clearTimeout(timer); resolve() }
    })
  }

  async #run(): Promise<void> {
    const { concurrency, batchSize, pollIntervalMs } = this.#r.config.delivery
    while (this.#running) {
      const free = concurrency - this.#inflight.size
      if (free <= 0) {
        await Promise.race([...this.#inflight, this.#sleep(pollIntervalMs)])
        continue
      }
      let rows: OutboxRow[] = []
      try {
        rows = await this.claim(Math.min(batchSize, free))
      } catch (err) {
        if (!this.#running) break
        this.#r.logger.error({ err }, 'outbox claim failed')
      }
      for (const row of rows) {
        const p = this.#process(row).catch((err) => this.#r.logger.error({ err, outboxId: row.id, kind: row.kind }, 'outbox row failed'))
        const tracked = p.finally(() => {
          this.#inflight.delete(tracked)
          this.kick()
        })
        this.#inflight.add(tracked)
      }
      if (rows.length === 0 && this.#running) await this.#sleep(pollIntervalMs)
    }
  }

  /** Claim and lease up to `limit` due rows (one short transaction). */
  async claim(limit: number): Promise<OutboxRow[]> {
    const now = this.#r.now()
    const until = new Date(now.getTime() + this.#r.config.delivery.leaseMs)
    const rows = await this.#r.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('outbox')
        .select('id')
        .where('kind', 'in', this.#kinds)
        .where('available_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .orderBy('available_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute()
      if (due.length === 0) return []
      const claimed = await trx
        .updateTable('outbox')
        .set({ locked_until: until, locked_by: this.id, attempts: sql<number>`attempts + 1` })
        .where('id', 'in', due.map((r) => r.id))
        .returningAll()
        .execute()
      // TMB-EVD-010: accepted → relaying as the first attempt starts.
      // One statement for the whole claim, not one per relay.
      const relays = claimed.filter((r) => r.kind === 'relay')
      if (relays.length > 0) {
        await trx.updateTable('deliveries').set({ status: 'relaying', updated_at: now })
          .where((eb) => eb(eb.refTuple('sender_id', 'message_id'), 'in', relays.map((r) => eb.tuple(r.sender_id, r.message_id))))
          .where('status', '=', 'accepted').execute()
      }
      return claimed
    })
    this.stats.claimed += rows.length
    return rows
  }

  async #process(row: OutboxRow): Promise<void> {
    if (row.kind === 'webhook') return this.#webhook(row)
    if (row.kind === 'handover') return this.#handover(row)
    return this.#relay(row)
  }

  // Row changes are guarded by the lease: a row whose lease expired and was claimed again is not ours.
  #ours(trx: Transaction<Database>, row: OutboxRow) {
    return trx.deleteFrom('outbox').where('id', '=', row.id).where('locked_by', '=', this.id)
  }

  async #webhook(row: OutboxRow): Promise<void> {
    this.stats.webhooks++
    const p = row.payload as unknown as WebhookPayload
    const result = await sendWebhook(this.#r, this.#forwarder.dispatcher, p)
    await this.#r.db.transaction().execute(async (trx) => {
      if (result.ok) return void (await this.#ours(trx, row).execute())
      const delay = webhookDelayMs(row.attempts, this.#r.config.delivery.webhookRetrySeconds)
      if (delay === undefined) {
        this.#r.logger.warn({ messageId: row.message_id, sender: row.sender_id, webhookId: p.id, attempts: row.attempts, error: result.error }, 'webhook given up')
        return void (await this.#ours(trx, row).execute())
      }
      const at = new Date(this.#r.now().getTime() + delay)
      await trx.updateTable('outbox').set({ available_at: at, locked_until: null, locked_by: null, last_error: result.error })
        .where('id', '=', row.id).where('locked_by', '=', this.id).execute()
      this.#wakeAt(at)
    })
  }

  /**
   * Vault role, TMB-EVD-015: push a Handover to the stamp's issuer
   * (`endpoints.evidence` of its discovery document), retrying per chapter 10
   * (network errors, 408, 425, 429, 5xx) until it answers 202 or 404. Any
   * other answer is final (TMB-RTY-001): logged and dropped.
   */
  async #handover(row: OutboxRow): Promise<void> {
    this.stats.handovers++
    const p = row.payload as { routingNode: string; evidence: string }
    const url = await this.#r.peers.evidenceEndpoint(p.routingNode)
    const result = url
      ? await pushEvidence({ url, evidence: p.evidence, operatorId: this.#r.config.nodeId, routingNode: p.routingNode, signingKey: this.#r.keys.signingKey, dispatcher: this.#forwarder.dispatcher, timeoutMs: this.#r.config.delivery.relayTimeoutMs })
      : { status: 0, outcome: 'retry' as const, error: `the directory knows no operator ${p.routingNode}` }
    await this.#r.db.transaction().execute(async (trx) => {
      if (result.outcome === 'done') return void (await this.#ours(trx, row).execute())
      if (result.outcome === 'refused') {
        this.#r.logger.warn({ messageId: row.message_id, sender: row.sender_id, routingNode: p.routingNode, error: result.error }, 'handover push refused finally')
        return void (await this.#ours(trx, row).execute())
      }
      this.#r.peers.forget(p.routingNode)
      const { retryBaseMs, retryCapMs } = this.#r.config.delivery
      const at = new Date(this.#r.now().getTime() + relayDelayMs(row.attempts, retryBaseMs, retryCapMs, result.retryAfterMs))
      await trx.updateTable('outbox').set({ available_at: at, locked_until: null, locked_by: null, last_error: result.error ?? null })
        .where('id', '=', row.id).where('locked_by', '=', this.id).execute()
      this.#wakeAt(at)
    })
  }

  async #relay(row: OutboxRow): Promise<void> {
    const db = this.#r.db
    const d = await db.selectFrom('deliveries').selectAll().where('sender_id', '=', row.sender_id).where('message_id', '=', row.message_id).executeTakeFirst()
    if (!d || FINAL.has(d.status)) {
      await db.transaction().execute(async (trx) => void (await this.#ours(trx, row).execute()))
      return
    }
    const now = this.#r.now()
    if (now.getTime() >= new Date(d.window_ends_at).getTime()) return this.#windowEnded(row, d)
    if (d.status === 'rerouting') {
      // Waiting for the sender's re-route; this row only fires the window's end.
      await db.updateTable('outbox').set({ available_at: d.window_ends_at, locked_until: null, locked_by: null })
        .where('id', '=', row.id).where('locked_by', '=', this.id).execute()
      return
    }
    this.stats.relays++
    const senderKey = (row.payload as { senderKey: PublicJwk }).senderKey
    const outcome = await this.#forwarder.relay(d, senderKey)
    // TMB-MTR-005: does the depositing operator announce `handover`? Asked
    // before the transaction (a network read); unknown counts as not announced.
    const surcharge = outcome.kind === 'delivered' && d.stamp_class === 'registered' && outcome.vault.evidence.event === 'DepositAcceptance' && this.#metering.charging
      ? !(await this.#r.peers.announces(outcome.line.line.operator, 'handover'))
      : false
    await this.#record(row, d, outcome, surcharge)
  }

  // The fields every routing-node evidence about this delivery copies from its stamp.
  static #fromStamp(stamp: Evidence): Omit<EvidenceInput, 'event' | 'issuer'> {
    return {
      messageId: stamp.messageId,
      sender: stamp.sender,
      recipient: stamp.recipient,
      contentDigest: stamp.contentDigest,
      envelopeDigest: stamp.envelopeDigest,
      ...(stamp.senderKid ? { senderKid: stamp.senderKid } : {}),
      ...(stamp.stampClass ? { stampClass: stamp.stampClass } : {}),
      ...(stamp.recipientOperator ? { recipientOperator: stamp.recipientOperator } : {}),
    }
  }

  async #sign(input: EvidenceInput): Promise<{ jws: string; evidence: Evidence }> {
    return signEvidence(input, this.#r.keys.signingKey)
  }

  /**
   * Lock the delivery and check nothing changed under us (a final status, a
   * re-route with a new stamp); false → just drop our row.
   */
  async #lockDelivery(trx: Transaction<Database>, d: DeliveryRow): Promise<boolean> {
    const cur = await trx.selectFrom('deliveries').select(['status', 'stamp']).where('sender_id', '=', d.sender_id).where('message_id', '=', d.message_id).forUpdate().executeTakeFirst()
    return !!cur && !FINAL.has(cur.status) && cur.stamp === d.stamp
  }

  async #decide(outcome: Exclude<RelayOutcome, { kind: 'retry' }>, base: Omit<EvidenceInput, 'event' | 'issuer'>, stamp: Evidence, now: Date): Promise<{ status: DeliveryStatus; own: { jws: string; evidence: Evidence } }> {
    const nodeId = this.#r.config.nodeId
    const previousEvidenceId = outcome.vault?.evidence.evidenceId ?? stamp.evidenceId
    if (outcome.kind === 'delivered') {
      // TMB-RLY-025.
      return { status: 'delivered', own: await this.#sign({ ...base, event: 'RelayAcceptance', issuer: nodeId, time: now.toISOString(), recipientOperator: outcome.line.line.operator, previousEvidenceId }) }
    }
    if (outcome.kind === 'moved') {
      // TMB-PORT-024: not final; the row stays to fire the window's end unless a re-route comes.
      return { status: 'rerouting', own: await this.#sign({ ...base, event: 'RelayRejection', issuer: nodeId, time: now.toISOString(), reason: { code: 'recipient-moved', detail: outcome.detail }, previousEvidenceId }) }
    }
    // TMB-RLY-026.
    return { status: 'rejected', own: await this.#sign({ ...base, event: 'RelayRejection', issuer: nodeId, time: now.toISOString(), reason: { code: outcome.code, detail: outcome.detail }, previousEvidenceId }) }
  }

  async #record(row: OutboxRow, d: DeliveryRow, outcome: RelayOutcome, refundSurcharge = false): Promise<void> {
    const stamp = decodeEvidence(d.stamp)
    const base = OutboxWorker.#fromStamp(stamp)
    const attempts = d.attempts + 1
    const now = this.#r.now()
    // Our evidence is signed before the transaction, so the delivery's row lock
    // is not held across the signature (nothing in it depends on the lock).
    const decision = outcome.kind === 'retry' ? undefined : await this.#decide(outcome, base, stamp, now)
    await this.#r.db.transaction().execute(async (trx) => {
      const key = (q: any) => q.where('sender_id', '=', d.sender_id).where('message_id', '=', d.message_id)
      if (!(await this.#lockDelivery(trx, d))) return void (await this.#ours(trx, row).execute())
      if (outcome.kind === 'retry') {
        const delay = relayDelayMs(attempts, this.#r.config.delivery.retryBaseMs, this.#r.config.delivery.retryCapMs, outcome.retryAfterMs)
        // The window's end is itself an appointment: RelayFailure is issued then (TMB-RTY-006).
        const at = new Date(Math.min(now.getTime() + delay, new Date(d.window_ends_at).getTime()))
        const moved = await trx.updateTable('outbox').set({ available_at: at, locked_until: null, locked_by: null, last_error: outcome.error })
          .where('id', '=', row.id).where('locked_by', '=', this.id).executeTakeFirst()
        if (Number(moved.numUpdatedRows) !== 1) return
        await key(trx.updateTable('deliveries').set({ attempts, next_attempt_at: at, updated_at: now })).execute()
        this.#wakeAt(at)
        return
      }
      const { status, own } = decision!
      // The vault's evidence and ours, one statement.
      await recordEvidences(trx, d.sender_id, [...(outcome.vault ? [outcome.vault] : []), own], now)
      // TMB-MTR-005: a registered delivery deposited by an operator without
      // `handover` gets the registered surcharge back, in the transaction that
      // records the DepositAcceptance.
      if (refundSurcharge && outcome.kind === 'delivered') {
        await this.#metering.refundSurcharge(trx, { senderId: d.sender_id, messageId: d.message_id, evidenceId: outcome.vault.evidence.evidenceId })
      }
      const final = status !== 'rerouting'
      // TMB-MTR-004: a final rejection refunds the stamp; recipient-moved (rerouting) never does.
      if (status === 'rejected') await this.#metering.refund(trx, { senderId: d.sender_id, messageId: d.message_id, evidenceId: own.evidence.evidenceId, reason: own.evidence.reason!.code })
      await key(trx.updateTable('deliveries').set({
        status,
        attempts,
        updated_at: now,
        next_attempt_at: null,
        reason: own.evidence.reason ? JSON.stringify(own.evidence.reason) : null,
        ...(final ? { final_at: now } : {}),
        ...(outcome.kind === 'delivered' ? { recipient_operator: outcome.line.line.operator, route_version: outcome.line.line.version } : {}),
      })).execute()
      if (final) await this.#ours(trx, row).execute()
      else await trx.updateTable('outbox').set({ available_at: d.window_ends_at, locked_until: null, locked_by: null, last_error: 'detail' in outcome ? outcome.detail : null }).where('id', '=', row.id).where('locked_by', '=', this.id).execute()
      await enqueueWebhook(trx, d.sender_id, status, own.evidence, own.jws, now)
    })
    this.kick()
  }

  // TMB-RTY-006: the window ended without a final answer.
  async #windowEnded(row: OutboxRow, d: DeliveryRow): Promise<void> {
    const stamp = decodeEvidence(d.stamp)
    await this.#r.db.transaction().execute(async (trx) => {
      if (!(await this.#lockDelivery(trx, d))) return void (await this.#ours(trx, row).execute())
      const now = this.#r.now()
      const reason = { code: 'delivery-window-expired', ...(row.last_error ? { detail: row.last_error.slice(0, 1000) } : {}) }
      const own = await this.#sign({ ...OutboxWorker.#fromStamp(stamp), event: 'RelayFailure', issuer: this.#r.config.nodeId, time: now.toISOString(), reason, previousEvidenceId: stamp.evidenceId })
      await recordEvidence(trx, d.sender_id, own.jws, own.evidence, now)
      // TMB-MTR-004: the RelayFailure refunds the stamp.
      await this.#metering.refund(trx, { senderId: d.sender_id, messageId: d.message_id, evidenceId: own.evidence.evidenceId, reason: reason.code })
      await trx.updateTable('deliveries').set({ status: 'failed', final_at: now, updated_at: now, next_attempt_at: null, reason: JSON.stringify(reason) })
        .where('sender_id', '=', d.sender_id).where('message_id', '=', d.message_id).execute()
      await this.#ours(trx, row).execute()
      await enqueueWebhook(trx, d.sender_id, 'failed', own.evidence, own.jws, now)
    })
    this.kick()
  }
}
