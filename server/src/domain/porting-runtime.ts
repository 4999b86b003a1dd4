// What the portability worker and routes share on one node: the directory's
// port service (directory role), the vault kit (vault role), the directory
// replica (routing role on a remote directory), and the jobs table.
import { createRequestProof, type Port } from '@timbre/sdk'
import { request } from 'undici'
import type { NodeConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'
import type { PortingRepository, PortRow } from '../store/porting-repository.js'
import type { DirectoryView } from './directory-view.js'
import type { NodeKeyring } from './node-keys.js'
import { portRecord, type PortingService } from './porting.js'
import type { DirectoryReplica } from './directory-replica.js'
import type { VaultRole } from './vault-role.js'

export interface PortingRuntime {
  readonly config: NodeConfig
  readonly keys: NodeKeyring
  readonly logger: Logger
  readonly repo: PortingRepository
  /** The directory this node consults (its own or remote). */
  readonly directory: DirectoryView
  /** Directory role: ports. */
  readonly service: PortingService | null
  /** Vault role: the kit and its storage. */
  readonly vault: VaultRole | null
  /** Routing role on a remote directory: the replica. */
  readonly replica: DirectoryReplica | null
  /** Wake the worker (new jobs are due). */
  kick(): void
  onKick(fn: () => void): void
}

/** Seconds after the cut-over before the donor exports, so relays checked just before it have committed. */
export const TRANSFER_GRACE_MS = 1_000

/** Queue the notifications of a port change (TMB-PORT-013, -017, and completion to both sides). */
export async function queuePortNotifications(rt: PortingRuntime, port: PortRow, event: 'requested' | 'objected' | 'cancelled' | 'completed'): Promise<void> {
  const to = event === 'requested' || event === 'cancelled' ? [port.donor] : event === 'objected' ? [port.recipientOperator] : [port.donor, port.recipientOperator]
  const now = new Date()
  for (const operatorId of to) {
    // Even to this node itself: the operator's own endpoint verifies the directory's proof.
    await rt.repo.enqueue(rt.repo.db, 'port-notification', `port:${port.portId}:${event}:${operatorId}`, { operatorId, port: portRecord(port) }, now)
  }
  rt.kick()
}

/** Donor: schedule the archive transfer of a port at its cut-over (TMB-ARC-004). */
export async function queueArchiveTransfer(rt: PortingRuntime, port: Pick<Port, 'portId' | 'cutoverAt' | 'donor' | 'status'>): Promise<void> {
  if (port.donor !== rt.config.nodeId || (port.status !== 'pending' && port.status !== 'completed')) return
  const at = new Date(Date.parse(port.cutoverAt) + TRANSFER_GRACE_MS)
  await rt.repo.enqueue(rt.repo.db, 'archive-transfer', `archive:${port.portId}`, { portId: port.portId }, at)
  rt.kick()
}

export interface SignedPostResult {
  status: number
  text: string
}

/** A POST signed by this node (iss = node id, aud = the operator) to an operator's base URL. */
export async function signedPost(rt: PortingRuntime, operatorId: string, path: string, body: unknown): Promise<SignedPostResult> {
  const op = await rt.directory.operator(operatorId)
  if (!op) throw new Error(`unknown operator ${operatorId}`)
  const text = JSON.stringify(body)
  const authorization = await createRequestProof({ key: rt.keys.signingKey, iss: rt.config.nodeId, aud: operatorId, method: 'POST', path, body: text })
  const res = await request(op.baseUrl.replace(/\/+$/, '') + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: text,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
  return { status: res.statusCode, text: await res.body.text() }
}
