// The portability worker of a node: completes ports at their cut-over
// (directory role, TMB-PORT-018), pushes change notifications to routing
// nodes (TMB-DIR-018), delivers port notifications until answered 2xx
// (TMB-PORT-013), and, on a donor vault, transfers the archive of each
// completed port until the new operator answers 200/201 (TMB-ARC-004). Jobs
// live in `porting_jobs`, leased with FOR UPDATE SKIP LOCKED, so they survive
// a crash of the process and are taken up again at the next start.
import { TimbreError } from '@timbre/sdk'
import { sql } from 'kysely'
import { queueArchiveTransfer, signedPost, TRANSFER_GRACE_MS, type PortingRuntime } from '../domain/porting-runtime.js'
import type { JobRow } from '../store/porting-repository.js'

const LEASE_MS = 10 * 60_000
const SYNC_EVERY_MS = 30_000

/** Delay before retry n: 0.5 s doubling to 60 s, with jitter. */
const backoff = (attempts: number) => Math.min(60_000, 500 * 2 ** Math.max(0, attempts - 1)) * (0.5 + Math.random() / 2)

export class PortingWorker {
  readonly #rt: PortingRuntime
  #running = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #lastPushed: bigint | undefined
  #lastSync = 0
  readonly stats = { notifications: 0, pushes: 0, transfers: 0, failures: 0 }

  constructor(rt: PortingRuntime) {
    this.#rt = rt
    rt.onKick(() => this.kick())
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  async stop(): Promise<void> {
    this.#running = false
    this.kick()
    await this.#loop
  }

  /** Run a pass now; a kick that comes while a pass runs is kept for right after it. */
  kick(): void {
    const w = this.#wake
    this.#wake = undefined
    if (w) w()
    else this.#kicked = true
  }
  #kicked = false

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.tick()
      } catch (err) {
        this.#rt.logger.warn({ err: (err as Error).message }, 'portability worker tick failed')
      }
      if (!this.#running) break
      if (this.#kicked) {
        this.#kicked = false
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#rt.config.portability.workerPollMs)
        this.#wake = () => { clearTimeout(timer); resolve() }
      })
    }
  }

  /** One pass: due ports, pushes, periodic sync, due jobs. Public for tests. */
  async tick(): Promise<void> {
    const { service, vault } = this.#rt
    if (service) {
      await service.completeDue()
      await this.#pushChanges()
    }
    if (vault && Date.now() - this.#lastSync > SYNC_EVERY_MS) {
      this.#lastSync = Date.now()
      await this.#syncPorts().catch((err: unknown) => this.#rt.logger.warn({ err: (err as Error).message }, 'port sync failed'))
    }
    const jobs = await this.#rt.repo.claim(16, LEASE_MS, new Date())
    await Promise.all(jobs.map((job) => this.#runJob(job)))
    if (jobs.length === 16) this.kick()
  }

  // Donor: catch up with ports a notification did not bring (a missed one, a restart).
  async #syncPorts(): Promise<void> {
    const kit = this.#rt.vault!.kit
    for (const port of await kit.syncPorts()) await queueArchiveTransfer(this.#rt, port)
  }

  // Directory: when the feed moved, queue one coalesced push per routing node.
  async #pushChanges(): Promise<void> {
    const db = this.#rt.repo.db
    const r = await db.selectFrom('directory_changes').select(sql<string>`coalesce(max(cursor), 0)`.as('max')).executeTakeFirstOrThrow()
    const max = BigInt(r.max)
    if (this.#lastPushed === undefined) this.#lastPushed = 0n
    if (max <= this.#lastPushed) return
    this.#lastPushed = max
    const ops = await db.selectFrom('operators').select(['id', 'roles', 'status']).where('status', '=', 'active').execute()
    for (const op of ops) {
      if (op.id === this.#rt.config.nodeId || !(op.roles as string[]).includes('routing-node')) continue
      await this.#rt.repo.enqueueOrUpdate(db, 'directory-push', `directory-push:${op.id}`, { operatorId: op.id, cursor: max.toString() }, new Date())
    }
  }

  async #runJob(job: JobRow): Promise<void> {
    const { repo, logger } = this.#rt
    try {
      const next = await this.#handle(job)
      if (next) await repo.retry(job.id, next, 'not due yet')
      else await repo.done(job.id, new Date())
    } catch (err) {
      this.stats.failures++
      const message = err instanceof TimbreError ? `${err.code}: ${err.detail ?? err.message}` : (err as Error).message
      logger.warn({ job: job.key, attempts: job.attempts, err: message }, 'portability job failed, will retry')
      await repo.retry(job.id, new Date(Date.now() + backoff(job.attempts)), message).catch(() => undefined)
    }
  }

  // Undefined when done; a date to run again (not an error) otherwise.
  async #handle(job: JobRow): Promise<Date | undefined> {
    const p = job.payload as Record<string, any>
    switch (job.kind) {
      case 'port-notification': {
        const res = await signedPost(this.#rt, p.operatorId, '/v1/notifications/ports', p.port)
        if (res.status < 200 || res.status > 299) throw new Error(`the port notification to ${p.operatorId} answered ${res.status}`)
        this.stats.notifications++
        return undefined
      }
      case 'directory-push': {
        const res = await signedPost(this.#rt, p.operatorId, '/v1/notifications/directory', { cursor: p.cursor })
        // A node without the endpoint has not subscribed: nothing to retry.
        if (res.status === 404 || res.status === 405) return undefined
        if (res.status < 200 || res.status > 299) throw new Error(`the directory notification to ${p.operatorId} answered ${res.status}`)
        this.stats.pushes++
        return undefined
      }
      case 'archive-transfer': {
        const vault = this.#rt.vault
        if (!vault) return undefined
        const port = await vault.kit.getPort(p.portId)
        if (port.status === 'objected' || port.status === 'cancelled') return undefined
        const due = Date.parse(port.cutoverAt) + TRANSFER_GRACE_MS
        if (port.status === 'pending' || Date.now() < due) return new Date(Math.max(due, Date.now() + 200))
        const op = await this.#rt.directory.operator(port.recipientOperator)
        if (!op) throw new Error(`the new operator ${port.recipientOperator} is unknown to the directory`)
        // One attempt per run: the job is the retry loop, and it survives restarts.
        const result = await vault.kit.transferArchive(port.portId, op.baseUrl, { retry: { attempts: 1 } })
        this.stats.transfers++
        this.#rt.logger.info({ portId: port.portId, imported: result.imported, skipped: result.skipped }, 'archive transferred')
        // TMB-ARC-012: the documents go within 30 days of the new operator's acceptance.
        const after = this.#rt.config.portability.purgePortedAfterSeconds
        if (after !== null) {
          await this.#rt.repo.enqueue(this.#rt.repo.db, 'ported-purge', `purge:${port.portId}`, { portId: port.portId, address: port.address }, new Date(Date.now() + after * 1000))
          this.kick()
        }
        return undefined
      }
      case 'ported-purge': {
        const vault = this.#rt.vault
        if (!vault) return undefined
        const deleted = await vault.storage.purgeDocuments(p.address)
        await vault.storage.appendJournal(p.address, { at: new Date().toISOString(), event: 'port', detail: `${deleted} ported documents deleted (TMB-ARC-012)` })
        this.#rt.logger.info({ portId: p.portId, deleted }, 'ported documents deleted')
        return undefined
      }
    }
  }
}
