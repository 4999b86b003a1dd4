// A routing node's local replica of a remote directory (spec 8.4). It reads
// the change feed from its cursor (every `replicaPollMs`, and at once on a
// directory notification), verifies every line, applies the changes strictly
// in cursor order with the cursor in the same transaction (TMB-DIR-020), and
// knows its staleness: the time since its last read that returned
// `hasMore: false` (TMB-DIR-021). Lookups come from the replica, with the
// version valid at the instant asked (TMB-DIR-023), or live from the
// directory while the replica is staler than the bound (TMB-DIR-022).
import { KeySet, verifyDirectoryLine, type DirectoryLine, type PublicJwk } from '@timbre/sdk'
import type { Kysely } from 'kysely'
import { request } from 'undici'
import type { NodeConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'
import type { Database } from '../store/schema.js'
import type { DirectoryView, OperatorRecord, ResolvedLine } from './directory-view.js'
import type { RemoteDirectory } from './remote-directory.js'

export interface ReplicaStatus {
  /** Cursor of the last applied change. */
  cursor: string
  /** Last read that returned hasMore: false (null before the first). */
  syncedAt: string | null
  /** Milliseconds since syncedAt (Infinity before the first). */
  stalenessMs: number
  /** True when lookups go live (staleness above the bound). */
  stale: boolean
  /** Changes the directory had beyond our cursor at the last read (cursor lag). */
  cursorLag: number
  /** Lookups answered from the replica / live since start. */
  replicaLookups: number
  liveLookups: number
}

interface FeedChange { cursor: string; address: string; version: number; operator: string; validFrom: string; validTo: string | null; line: string }

export class DirectoryReplica implements DirectoryView {
  readonly kind = 'replica'
  readonly #db: Kysely<Database>
  readonly #remote: RemoteDirectory
  readonly #url: string
  readonly #boundMs: number
  readonly #pollMs: number
  readonly #logger: Logger
  #cursor = 0n
  #syncedAt: Date | null = null
  #cursorLag = 0
  #loaded = false
  #syncing: Promise<void> | undefined
  #again = false
  #timer: NodeJS.Timeout | undefined
  #replicaLookups = 0
  #liveLookups = 0

  constructor(db: Kysely<Database>, remote: RemoteDirectory, directoryUrl: string, options: { stalenessBoundMs: number; pollMs: number; logger: Logger }) {
    this.#db = db
    this.#remote = remote
    this.#url = directoryUrl.replace(/\/+$/, '')
    this.#boundMs = options.stalenessBoundMs
    this.#pollMs = options.pollMs
    this.#logger = options.logger
  }

  start(): void {
    const tick = () => {
      this.sync().catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'directory replica sync failed'))
      this.#timer = setTimeout(tick, this.#pollMs)
      this.#timer.unref()
    }
    tick()
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
  }

  status(now: Date = new Date()): ReplicaStatus {
    const stalenessMs = this.#syncedAt ? now.getTime() - this.#syncedAt.getTime() : Infinity
    return {
      cursor: this.#cursor.toString(),
      syncedAt: this.#syncedAt?.toISOString() ?? null,
      stalenessMs,
      stale: stalenessMs > this.#boundMs,
      cursorLag: this.#cursorLag,
      replicaLookups: this.#replicaLookups,
      liveLookups: this.#liveLookups,
    }
  }

  /**
   * TMB-DIR-024: what `/ready` reports. A stale replica is still ready while
   * the directory answers (lookups go live); stale and unreachable is not.
   */
  async readiness(): Promise<{ ok: boolean; replica: { cursor: string; stalenessMs: number | null; stale: boolean } }> {
    const s = this.status()
    const ok = !s.stale || (await this.#remote.reachable())
    return { ok, replica: { cursor: s.cursor, stalenessMs: Number.isFinite(s.stalenessMs) ? s.stalenessMs : null, stale: s.stale } }
  }

  /** Read the feed to its end; concurrent calls share one run, and a call during a run causes another. */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#again = true
      return this.#syncing
    }
    const run = (async () => {
      try {
        do {
          this.#again = false
          await this.#syncOnce()
        } while (this.#again)
      } finally {
        this.#syncing = undefined
      }
    })()
    this.#syncing = run
    return run
  }

  async #load(): Promise<void> {
    if (this.#loaded) return
    const r = await this.#db.selectFrom('directory_replica_state').selectAll().where('directory_url', '=', this.#url).executeTakeFirst()
    if (r) this.#cursor = BigInt(r.cursor)
    this.#loaded = true
  }

  async #syncOnce(): Promise<void> {
    await this.#load()
    const keys = new KeySet(await this.#remote.directoryKeys())
    for (;;) {
      const res = await request(`${this.#url}/v1/directory/changes?after=${this.#cursor}&limit=1000`, { headersTimeout: 10_000, bodyTimeout: 30_000 })
      const body = (await res.body.json()) as { changes?: FeedChange[]; hasMore?: boolean }
      if (res.statusCode !== 200 || !Array.isArray(body.changes)) throw new Error(`the change feed answered ${res.statusCode}`)
      const changes = body.changes
      // Verify everything first; a gap is an error and the page is read again later (TMB-DIR-020).
      let expected = this.#cursor + 1n
      const verified: Array<{ change: FeedChange; validFrom: Date; validTo: Date | null }> = []
      for (const change of changes) {
        if (BigInt(change.cursor) !== expected) throw new Error(`gap in the change feed: expected ${expected}, got ${change.cursor}`)
        expected += 1n
        let fresh = keys
        const line = await verifyDirectoryLine(change.line, fresh).catch(async () => {
          fresh = new KeySet(await this.#remote.directoryKeys())
          return verifyDirectoryLine(change.line, fresh)
        })
        if (line.address !== change.address || line.version !== change.version) throw new Error(`change ${change.cursor} does not match its line`)
        verified.push({ change, validFrom: new Date(line.validFrom), validTo: line.validTo ? new Date(line.validTo) : null })
      }
      if (verified.length > 0) {
        const last = BigInt(verified.at(-1)!.change.cursor)
        await this.#db.transaction().execute(async (trx) => {
          for (const { change, validFrom, validTo } of verified) {
            await trx
              .insertInto('directory_replica_lines')
              .values({ address: change.address, version: change.version, operator_id: change.operator, valid_from: validFrom, valid_to: validTo, line: change.line })
              .onConflict((oc) => oc.columns(['address', 'version']).doUpdateSet({ operator_id: change.operator, valid_from: validFrom, valid_to: validTo, line: change.line }))
              .execute()
          }
          await trx
            .insertInto('directory_replica_state')
            .values({ directory_url: this.#url, cursor: last.toString(), synced_at: null })
            .onConflict((oc) => oc.column('directory_url').doUpdateSet({ cursor: last.toString() }))
            .execute()
        })
        this.#cursor = last
      }
      if (!body.hasMore) {
        this.#syncedAt = new Date()
        this.#cursorLag = 0
        await this.#db
          .insertInto('directory_replica_state')
          .values({ directory_url: this.#url, cursor: this.#cursor.toString(), synced_at: this.#syncedAt })
          .onConflict((oc) => oc.column('directory_url').doUpdateSet({ synced_at: this.#syncedAt! }))
          .execute()
        return
      }
      this.#cursorLag = changes.length
    }
  }

  /** The version valid at `at`, from the replica when fresh (TMB-DIR-023), else live (TMB-DIR-022). */
  async lookup(address: string, at: Date = new Date()): Promise<ResolvedLine | undefined> {
    if (this.status().stale) {
      this.#liveLookups++
      return this.#remote.lookup(address, at)
    }
    const r = await this.#db
      .selectFrom('directory_replica_lines')
      .select(['line', 'address'])
      .where('address', '=', address)
      .where('valid_from', '<=', at)
      .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
      .executeTakeFirst()
    if (!r) {
      // Unknown to the replica: ask the directory (an address registered a moment ago).
      this.#liveLookups++
      return this.#remote.lookup(address, at)
    }
    this.#replicaLookups++
    return { line: await this.#verified(r.line), jws: r.line }
  }

  // A stored line is verified once per directory key set, not on every
  // lookup: the text cannot change, and an Ed25519 verify per submission was
  // the replica's main cost. Lines were verified when applied, too.
  #checked = new Map<string, DirectoryLine>()
  #checkedKeys = ''
  static readonly VERIFIED_CACHE_MAX = 10_000

  async #verified(jws: string): Promise<DirectoryLine> {
    const keys = await this.#remote.directoryKeys()
    const kids = keys.map((k) => `${k.kid}:${k.x}`).sort().join(',')
    if (kids !== this.#checkedKeys) {
      this.#checked.clear()
      this.#checkedKeys = kids
    }
    const hit = this.#checked.get(jws)
    if (hit) return hit
    const line = await verifyDirectoryLine(jws, new KeySet(keys))
    if (this.#checked.size >= DirectoryReplica.VERIFIED_CACHE_MAX) this.#checked.delete(this.#checked.keys().next().value!)
    this.#checked.set(jws, line)
    return line
  }

  operator(id: string): Promise<OperatorRecord | undefined> {
    return this.#remote.operator(id)
  }

  nodeKey(operatorId: string, kid: string, at?: Date): Promise<PublicJwk | undefined> {
    return this.#remote.nodeKey(operatorId, kid, at)
  }

  directoryKeys(): Promise<PublicJwk[]> {
    return this.#remote.directoryKeys()
  }
}

/**
 * The directory a node's routing role reads: a replica of the remote
 * directory (started here, polled and pushed), else the node's own directory
 * (a local directory's table is its own replica).
 */
export function routingDirectory(config: NodeConfig, db: Kysely<Database>, directory: DirectoryView & { kind: string }, logger: Logger): DirectoryView {
  if (!config.roles.includes('routing-node') || directory.kind !== 'remote' || !config.directoryUrl) return directory
  const replica = new DirectoryReplica(db, directory as RemoteDirectory, config.directoryUrl, {
    stalenessBoundMs: config.portability.replicaStalenessSeconds * 1000,
    pollMs: config.portability.replicaPollMs,
    logger: logger.child({ component: 'directory-replica' }),
  })
  return replica
}
