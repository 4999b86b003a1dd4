// The routing node's collaborators, built once per node (http/app.ts) and
// shared by the submission routes and the outbox worker. `now` is the one
// clock of the routing role: tests inject their own so that schedules run
// without sleeping through real time.
import type { Kysely, Transaction } from 'kysely'
import { signWebhook, type Evidence, type DeliveryStatus } from '@timbre/sdk'
import type { NodeConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'
import type { Database } from '../store/schema.js'
import { ReplayRepository } from '../store/replay-repository.js'
import type { DirectoryView } from './directory-view.js'
import type { NodeKeyring } from './node-keys.js'
import { PeerDiscovery } from './peer-discovery.js'

export type Clock = () => Date

export interface RoutingServices {
  readonly config: NodeConfig
  readonly db: Kysely<Database>
  readonly keys: NodeKeyring
  readonly directory: DirectoryView
  readonly replay: ReplayRepository
  readonly logger: Logger
  /** Discovery documents of peer operators (features, evidence endpoints), cached. */
  readonly peers: PeerDiscovery
  now(): Date
  /** Wake the worker: new work is due (set by the worker when it starts). */
  kick(): void
}

export interface RoutingOptions {
  config: NodeConfig
  db: Kysely<Database>
  keys: NodeKeyring
  directory: DirectoryView
  logger: Logger
  now?: Clock
}

export function createRoutingServices(o: RoutingOptions): RoutingServices & { onKick(fn: () => void): void } {
  let kicker: () => void = () => {}
  return {
    config: o.config,
    db: o.db,
    keys: o.keys,
    directory: o.directory,
    replay: new ReplayRepository(o.db),
    logger: o.logger,
    peers: new PeerDiscovery(o.directory),
    now: o.now ?? (() => new Date()),
    kick: () => kicker(),
    onKick(fn) { kicker = fn },
  }
}

type Db = Kysely<Database> | Transaction<Database>

/** Store one evidence of a delivery; an evidence id seen before is ignored (repeats). */
export async function recordEvidence(db: Db, senderId: string, jws: string, evidence: Evidence, at: Date): Promise<void> {
  await recordEvidences(db, senderId, [{ jws, evidence }], at)
}

/** Store several evidences of one delivery in one statement; ids seen before are ignored. */
export async function recordEvidences(db: Db, senderId: string, items: ReadonlyArray<{ jws: string; evidence: Evidence }>, at: Date): Promise<void> {
  if (items.length === 0) return
  await db
    .insertInto('evidence')
    .values(items.map(({ jws, evidence }) => ({ evidence_id: evidence.evidenceId, sender_id: senderId, message_id: evidence.messageId, event: evidence.event, issuer: evidence.issuer, jws, created_at: at })))
    .onConflict((oc) => oc.column('evidence_id').doNothing())
    .execute()
}

/**
 * Queue the webhook of a status change (TMB-EVD-017) when the sender has a
 * webhook URL. The body is fixed now, so every retry sends the same bytes
 * under the same webhook-id (TMB-EVD-018).
 */
export async function enqueueWebhook(db: Db, senderId: string, status: DeliveryStatus, evidence: Evidence, jws: string, at: Date): Promise<void> {
  const sender = await db.selectFrom('senders').select('webhook_url').where('id', '=', senderId).executeTakeFirst()
  if (!sender?.webhook_url) return
  const body = JSON.stringify({ type: 'delivery.status', messageId: evidence.messageId, status, evidence: jws })
  await db
    .insertInto('outbox')
    .values({ kind: 'webhook', sender_id: senderId, message_id: evidence.messageId, payload: JSON.stringify({ url: sender.webhook_url, id: evidence.evidenceId, body }), available_at: at })
    .execute()
}

export { signWebhook }
