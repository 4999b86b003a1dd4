/**
 * The toolkit of a vault vendor: one object holding the operator's keys and
 * storage, serving relays, opening accounts and re-checking deposits.
 */
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import type { Dispatcher } from 'undici'
import { TimbreError, type ProblemDetails } from '../errors.js'
import { backoffDelay, sleep, type RetryOptions } from '../client/retry.js'
import { buildVaultArchive, type ExportArchiveOptions } from './archive-export.js'
import { handleArchiveImport, type ArchiveImportRequest } from './archive-handler.js'
import { importVaultArchive, type ImportArchiveOptions } from './archive-import.js'
import { diskStaging, memoryStaging } from './archive-staging.js'
import { archiveImportUrl, putArchive, type TransferArchiveOptions } from './archive-transfer.js'
import { handoverApplies, pushEvidence, signHandover, type EvidencePushResult, type HandoverClasses, type IssuedHandover } from './handover.js'
import { PortingDesk } from './porting.js'
import { DirectoryPortingClient } from './porting-directory.js'
import { portingPlugin } from './porting-plugin.js'
import type { IssuedPortingCode, NodeRequest, NodeResponse, Port, PortConsent, PortRequestHandler, PortStatus } from './porting-types.js'
import { MemoryReplayStore } from './replay-store.js'
import { FsVaultStorage } from './storage/fs.js'
import { MemoryVaultStorage } from './storage/memory.js'
import type { ArchiveImportResponse } from './storage/types.js'
import { contentDigest, digestEquals, tokenDigest } from '../protocol/digest.js'
import { verifyEnvelope, type EnvelopeMetadata } from '../protocol/envelope.js'
import { decodeEvidence, verifyEvidence, verifyStamp, type Evidence } from '../protocol/evidence.js'
import { KeySet } from '../protocol/key-set.js'
import { toPublicJwk, type Jwks, type PublicJwk } from '../protocol/keys.js'
import { generateVaultAddress, type VaultAddress } from '../protocol/vault-address.js'
import { relayPlugin, type RelayPluginOptions } from './fastify-plugin.js'
import { createRelayHandler, type NodeKeyResolver, type RelayHandler, type RelayHandlerOptions } from './relay-handler.js'
import type { DepositRecord, VaultStorage } from './storage/types.js'

/** Options of a {@link VaultKit}: those of the relay handler, plus retired keys. */
export interface VaultKitOptions extends RelayHandlerOptions {
  /** Retired signing keys, still needed to verify evidence signed before a rotation. */
  verificationKeys?: PublicJwk[]
  /**
   * Base URL of the directory node, for portability (porting codes, ports,
   * port notifications, the port of an archive import). Proofs are signed with
   * `signingKey` (iss = `operatorId`, aud = the directory's node id). A
   * function is called at the first portability call (a node that learns its
   * own URL only once it listens).
   */
  directoryUrl?: string | (() => string)
  /** Trusted keys of other vault operators (donors of archives), by operator id and kid. Default: `resolveNodeKey`. */
  resolveOperatorKey?: NodeKeyResolver
  /** An undici dispatcher for the kit's outgoing calls (directory, archive transfers). */
  dispatcher?: Dispatcher
  /** Retry policy of directory calls. */
  directoryRetry?: Partial<RetryOptions>
  /**
   * Handover evidence (7.6), issued at the first {@link VaultKit.openDocument}
   * of a document. Needs a storage with `recordHandover`; `false` turns it off.
   */
  handover?: HandoverOptions | false
  /** Where incoming archives are staged for storages other than {@link MemoryVaultStorage} (default: the storage's `tmp` or the system temporary directory). */
  tempDir?: string
}

/** Options of Handover evidence (7.6, TMB-EVD-015/016). */
export interface HandoverOptions {
  /** `registered` (default): Handover for registered deliveries only (TMB-EVD-015); `all`: for standard ones too (TMB-EVD-016). */
  classes?: HandoverClasses
  /**
   * Bring a Handover just kept to the stamp's issuer. Default: the kit pushes
   * it at once with {@link VaultKit.pushHandover}, retrying in this process
   * only (lost on restart). A node with a durable queue enqueues the push in
   * `VaultStorage.recordHandover` and passes a function that wakes its queue.
   */
  deliver?: (handover: IssuedHandover) => void | Promise<void>
  /** The evidence endpoint of a routing node (by operator id). Default: none, so the default `deliver` needs it. */
  resolveEvidenceEndpoint?: (routingNode: string) => Promise<string | undefined>
}

/** What {@link VaultKit.openDocument} returns. */
export interface OpenedDocument {
  /** The deposit record (its `chain` includes the Handover once kept). */
  record: DepositRecord
  /** The document bytes. */
  bytes: Uint8Array
  /** The Handover evidence of the document, when one was issued (now or at an earlier open). */
  handover?: string
  /** True when this open issued the Handover (the first open). */
  firstOpen: boolean
}

/** Options of {@link VaultKit.issuePortingCode}. */
export interface IssuePortingCodeOptions {
  /** Days of validity, at most and by default 30 (TMB-PORT-003). */
  ttlDays?: number
}

/** What the person gives the new operator (the single window, spec 9.3). */
export interface PortInRequest {
  /** The vault address to bring here. */
  address: string
  /** The porting code the donor gave the person, in any input form. */
  portingCode: string
  /** The person's consent and this operator's record of it (TMB-PORT-010). */
  consent: PortConsent
}

/** Options of {@link VaultKit.importArchive}: those of the check, `recipientOperator` defaulting to this operator for a port. */
export type VaultImportOptions = ImportArchiveOptions

/** The result of {@link VaultKit.verifyDeposit}: the whole chain, re-verified. */
export interface VerifiedDeposit {
  /** The DepositAcceptance evidence this operator signed. */
  evidence: Evidence
  /** The routing node's stamp. */
  stamp: Evidence
  /** The envelope metadata, re-verified with the sender key. */
  metadata: EnvelopeMetadata
}

const invalid = (detail: string) => new TimbreError('evidence-invalid', { detail })

/**
 * A vault operator's kit.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { VaultKit, FsVaultStorage } from '@timbre/sdk/vault'
 *
 * const kit = new VaultKit({
 *   operatorId: 'vault-b.example', signingKey, encryptionKeys: [encKey],
 *   storage: new FsVaultStorage('/var/lib/vault'),
 *   resolveNodeKey: (iss, kid) => trustedNodes.get(iss)?.find((k) => k.kid === kid),
 * })
 * const app = Fastify()
 * await app.register(kit.fastifyPlugin())
 * const address = await kit.openAccount() // then register it in the directory
 * ```
 */
export class VaultKit {
  #options: VaultKitOptions
  #handler: RelayHandler
  #directory: DirectoryPortingClient | undefined
  #desk: PortingDesk
  #replay: MemoryReplayStore | NonNullable<VaultKitOptions['replayStore']>
  #fallbackImports = new Map<string, ArchiveImportResponse>()

  constructor(options: VaultKitOptions) {
    this.#options = { ...options, encryptionKeys: [...options.encryptionKeys] }
    // Built now so that bad options fail at start, not at the first relay.
    this.#handler = createRelayHandler(this.#options)
    this.#replay = options.replayStore ?? new MemoryReplayStore()
    if (typeof options.directoryUrl === 'string') this.#directory = this.#portingClient(options.directoryUrl)
    this.#desk = new PortingDesk({
      operatorId: options.operatorId,
      signingKey: options.signingKey,
      storage: options.storage,
      directory: () => this.#directoryClient(),
      replay: this.#replay,
      resolveDirectoryKey: options.resolveDirectoryKey,
      logger: options.logger,
      now: () => this.#now(),
    })
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date()
  }

  #portingClient(directoryUrl: string): DirectoryPortingClient {
    const options = this.#options
    return new DirectoryPortingClient({
      directoryUrl,
      operatorId: options.operatorId,
      signingKey: options.signingKey,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.directoryRetry ? { retry: options.directoryRetry } : {}),
    })
  }

  #directoryClient(): DirectoryPortingClient {
    if (!this.#directory && typeof this.#options.directoryUrl === 'function') this.#directory = this.#portingClient(this.#options.directoryUrl())
    if (!this.#directory) throw new TimbreError('internal-error', { detail: 'VaultKit needs the directoryUrl option for portability' })
    return this.#directory
  }

  /** This operator's id. */
  get operatorId(): string {
    return this.#options.operatorId
  }

  /** The storage deposits go to. */
  get storage(): VaultStorage {
    return this.#options.storage
  }

  /**
   * The public keys to publish at `/.well-known/jwks.json` and in the
   * directory: the signing key, retired signing keys, and the encryption keys.
   *
   * @example
   * ```ts
   * app.get('/.well-known/jwks.json', async () => kit.jwks())
   * ```
   */
  jwks(): Jwks {
    const keys = new KeySet([
      toPublicJwk(this.#options.signingKey),
      ...(this.#options.verificationKeys ?? []).map(toPublicJwk),
      ...this.#options.encryptionKeys.map(toPublicJwk),
    ])
    return { keys: keys.list() }
  }

  /**
   * The framework-agnostic relay handler.
   *
   * @example
   * ```ts
   * const relay = kit.relayHandler()
   * const res = await relay({ method: 'POST', path: '/v1/relay', headers, rawBody })
   * ```
   */
  relayHandler(): RelayHandler {
    return this.#handler
  }

  /**
   * A Fastify plugin serving `POST /v1/relay` (path configurable).
   *
   * @example
   * ```ts
   * await app.register(kit.fastifyPlugin({ path: '/v1/relay' }))
   * ```
   */
  fastifyPlugin(options: RelayPluginOptions = {}): FastifyPluginAsync<RelayPluginOptions> {
    const relay = relayPlugin(this.#handler, options)
    const porting = portingPlugin({
      notification: (req) => this.handlePortNotification(req),
      archiveImport: (req) => this.handleArchiveImport(req),
    })
    // Two sibling contexts: each keeps its own body parsers.
    return async (app, opts) => {
      await app.register(relay, opts)
      await app.register(porting)
    }
  }

  /**
   * Donor: issue a porting code for an address this operator hosts, register
   * its digest at the directory (`POST /v1/directory/porting-codes`), and
   * return it to be shown to the person once. The code is never stored or
   * logged (TMB-PORT-005). Authenticating the person is the caller's job
   * (TMB-PORT-001).
   *
   * @example
   * ```ts
   * const { display, expiresAt } = await kit.issuePortingCode(address, { ttlDays: 7 })
   * showOnce(display) // '4ZTQ-8MWD-0RRP'
   * ```
   */
  issuePortingCode(address: string, options: IssuePortingCodeOptions = {}): Promise<IssuedPortingCode> {
    return this.#desk.issuePortingCode(address, options.ttlDays ?? 30)
  }

  /**
   * New operator (single window): check the code locally, file the port at
   * the directory (`POST /v1/directory/ports`), open the account here, and
   * return the port record. A mistyped code throws `porting-code-invalid`
   * before any network call (TMB-PORT-007).
   *
   * @example
   * ```ts
   * const port = await kit.requestPortIn({ address, portingCode: '4ZTQ-8MWD-0RRP',
   *   consent: { givenAt: new Date().toISOString(), reference: 'consent-7781' } })
   * port.cutoverAt // when relays start arriving here
   * ```
   */
  requestPortIn(request: PortInRequest): Promise<Port> {
    return this.#desk.requestPortIn(request)
  }

  /**
   * New operator: cancel a pending port on the person's word (`POST /v1/directory/ports/{portId}/cancellation`).
   *
   * @example
   * ```ts
   * await kit.cancelPort(port.portId)
   * ```
   */
  cancelPort(portId: string): Promise<Port> {
    return this.#desk.cancelPort(portId)
  }

  /**
   * The ports where this operator is donor or new operator (`GET /v1/directory/ports`).
   *
   * @example
   * ```ts
   * const pending = await kit.listPorts('pending')
   * ```
   */
  listPorts(status?: PortStatus): Promise<Port[]> {
    return this.#desk.listPorts(status)
  }

  /**
   * One port (`GET /v1/directory/ports/{portId}`).
   *
   * @example
   * ```ts
   * const { status } = await kit.getPort(portId)
   * ```
   */
  getPort(portId: string): Promise<Port> {
    return this.#desk.getPort(portId)
  }

  /**
   * Donor: bring every account in line with the directory's ports (moved at
   * `cutoverAt`, or back to normal after an objection or cancellation). Run
   * it at start and now and then, in case a notification was missed.
   *
   * @example
   * ```ts
   * setInterval(() => kit.syncPorts().catch(log.error), 60_000)
   * ```
   */
  syncPorts(): Promise<Port[]> {
    return this.#desk.syncPorts()
  }

  /**
   * Donor: decide on each pending port notified by the directory. Return
   * `{ object: reasonCode }` to object (only for the reasons of 9.4), or
   * `{ accept: true }` / nothing: silence is consent.
   *
   * @example
   * ```ts
   * kit.onPortRequest(async (port) => (await isSuspended(port.address)) ? { object: 'vault-inactive' } : { accept: true })
   * ```
   */
  onPortRequest(handler: PortRequestHandler): void {
    this.#desk.onRequest = handler
  }

  /**
   * Be told of every port notification once handled (both roles), e.g. an objection to a port in.
   *
   * @example
   * ```ts
   * kit.onPortUpdate((port) => log.info({ portId: port.portId, status: port.status }))
   * ```
   */
  onPortUpdate(listener: (port: Port) => void | Promise<void>): void {
    this.#desk.addUpdateListener(listener)
  }

  /**
   * The handler of `POST /v1/notifications/ports` (directory → operator):
   * verifies the directory's proof, asks the {@link VaultKit.onPortRequest}
   * handler, objects when told to, schedules the account's move at
   * `cutoverAt`, and answers 202.
   *
   * @example
   * ```ts
   * const res = await kit.handlePortNotification({ method: 'POST', path: req.url, headers: req.headers, rawBody })
   * ```
   */
  handlePortNotification(req: NodeRequest): Promise<NodeResponse<ProblemDetails>> {
    return this.#desk.handleNotification(req)
  }

  /**
   * The whole vault of an address as an archive (9.6), streamed from storage
   * and signed by this operator. Without `recipientOperator` it is a
   * self-export (9.7, TMB-ARC-013).
   *
   * @example
   * ```ts
   * const tar = await kit.exportArchive(address)
   * await pipeline(tar, createWriteStream('my-vault.tar'))
   * ```
   */
  exportArchive(address: string, options: ExportArchiveOptions = {}): Promise<Readable> {
    return buildVaultArchive(this.storage, this.operatorId, this.#options.signingKey, address, options, this.#now())
  }

  /**
   * Verify an archive completely and import it all or nothing (TMB-ARC-006..010):
   * `archive-invalid` naming each offending path when anything fails, else
   * the archive-import-response body, the same body for a repeated import.
   *
   * @example
   * ```ts
   * const res = await kit.importArchive(createReadStream('vault.tar'), {
   *   donor: 'vault-a.example', donorKeys: donorJwks, address, portId })
   * res.imported // 1432
   * ```
   */
  async importArchive(source: Readable | AsyncIterable<Uint8Array>, options: VaultImportOptions): Promise<ArchiveImportResponse> {
    return (await this.#import(source, options)).response
  }

  #import(source: Readable | AsyncIterable<Uint8Array>, options: VaultImportOptions, afterRead?: () => void) {
    const storage = this.storage
    const tempDir = this.#options.tempDir ?? (storage instanceof FsVaultStorage ? join(storage.root, 'tmp') : undefined)
    return importVaultArchive(
      {
        operatorId: this.operatorId,
        signingKey: this.#options.signingKey,
        storage,
        staging: () => (storage instanceof MemoryVaultStorage && !this.#options.tempDir ? Promise.resolve(memoryStaging()) : diskStaging(tempDir)),
        resolveStampKey: options.resolveStampKey ?? this.#options.resolveNodeKey,
        fallbackImports: this.#fallbackImports,
        now: () => this.#now(),
      },
      source,
      options,
      afterRead,
    )
  }

  /**
   * The handler of `PUT /v1/archive-imports/{portId}` (new operator): the
   * donor's proof, a completed port to this operator (asked of the
   * directory), a streamed `application/x-tar` body; 201 with the import
   * result, 200 with the same body for a repeat, 422 `archive-invalid`.
   *
   * @example
   * ```ts
   * const res = await kit.handleArchiveImport({ method: 'PUT', path: req.url, portId, headers: req.headers, body: req.raw })
   * ```
   */
  handleArchiveImport(req: ArchiveImportRequest): Promise<NodeResponse<ArchiveImportResponse | ProblemDetails>> {
    const resolveOperatorKey = this.#options.resolveOperatorKey ?? this.#options.resolveNodeKey
    return handleArchiveImport(
      {
        operatorId: this.operatorId,
        replay: this.#replay,
        resolveOperatorKey,
        getPort: (portId) => this.#directoryClient().getPort(portId),
        findImport: async (portId) => (await this.storage.findImport?.(portId)) ?? this.#fallbackImports.get(portId),
        importFor: (port, body, afterRead) =>
          this.#import(
            body,
            {
              donor: port.donor,
              donorKeys: async (kid, at) => {
                const key = await resolveOperatorKey(port.donor, kid)
                return key ? new KeySet([key]).get(kid, at) : undefined
              },
              address: port.address,
              portId: port.portId,
              recipientOperator: this.operatorId,
            },
            afterRead,
          ),
        logger: this.#options.logger,
      },
      req,
    )
  }

  /**
   * Donor: after the cut-over of a completed port, export the vault and PUT it
   * to the new operator, retrying until it answers 200 or 201 (TMB-ARC-004).
   * `endpoint` is the new operator's `endpoints.archiveImports` or base URL.
   * Documents are kept: deleting them afterwards is the caller's decision (TMB-ARC-012).
   *
   * @example
   * ```ts
   * const { imported } = await kit.transferArchive(port.portId, 'https://vault-b.example')
   * ```
   */
  async transferArchive(portId: string, endpoint: string, options: TransferArchiveOptions = {}): Promise<ArchiveImportResponse> {
    const port = await this.getPort(portId)
    if (port.donor !== this.operatorId) throw new TimbreError('not-found', { detail: 'this operator is not the donor of the port' })
    if (port.status !== 'completed') throw new TimbreError('not-found', { detail: `the port is ${port.status}, not completed` })
    await this.#desk.apply(port)
    const { response } = await putArchive({
      archive: () => this.exportArchive(port.address, { recipientOperator: port.recipientOperator, portId }),
      url: archiveImportUrl(endpoint, portId),
      iss: this.operatorId,
      aud: port.recipientOperator,
      key: this.#options.signingKey,
      dispatcher: this.#options.dispatcher,
      options: { ...(this.#options.tempDir ? { tempDir: this.#options.tempDir } : {}), ...options },
    })
    await this.storage.appendJournal?.(port.address, {
      at: this.#now().toISOString(),
      event: 'port',
      detail: `archive transferred to ${port.recipientOperator}: ${response.imported} imported, ${response.skipped} skipped`,
    })
    return response
  }

  /**
   * Open a vault account under a new random address. Registering the
   * address in the directory is the caller's next step.
   *
   * @example
   * ```ts
   * const address = await kit.openAccount() // 'K7QM3X9R2VHD8P4N'
   * ```
   */
  async openAccount(): Promise<VaultAddress> {
    // 70 random bits make a collision all but impossible; checking costs one read.
    for (let i = 0; i < 5; i++) {
      const address = generateVaultAddress()
      if (await this.#options.storage.account(address)) continue
      await this.#options.storage.openAccount(address)
      return address
    }
    throw new TimbreError('internal-error', { detail: 'could not allocate a free vault address' })
  }

  /**
   * Every document deposited for an address, oldest first.
   *
   * @example
   * ```ts
   * for (const d of await kit.documents(address)) console.log(d.metadata.title, d.size)
   * ```
   */
  documents(address: string): Promise<DepositRecord[]> {
    return this.#options.storage.list(address)
  }

  /**
   * The bytes of one deposited document.
   *
   * @example
   * ```ts
   * const pdf = await kit.document(address, messageId)
   * ```
   */
  document(address: string, messageId: string): Promise<Uint8Array | undefined> {
    return this.#options.storage.read(address, messageId)
  }

  /** True when this kit issues Handover evidence: the feature `handover` to announce in discovery (13.2). */
  get supportsHandover(): boolean {
    return this.#options.handover !== false && typeof this.#options.storage.recordHandover === 'function'
  }

  /**
   * The person opens or downloads a document: its bytes, and at the first
   * open of a delivery that gets one (a `registered` stamp, or every stamp
   * with `handover.classes` `all`) a `Handover` evidence signed by this
   * operator, kept with the document's evidence and brought to the stamp's
   * issuer (TMB-EVD-015/016). Later opens issue nothing. Authenticating the
   * person is the caller's job. Undefined when the document is not held.
   *
   * @example
   * ```ts
   * const opened = await kit.openDocument(address, messageId)
   * if (opened) res.type(opened.record.metadata.content.mediaType).send(Buffer.from(opened.bytes))
   * ```
   */
  async openDocument(address: string, messageId: string): Promise<OpenedDocument | undefined> {
    const storage = this.#options.storage
    const record = (await storage.list(address)).find((r) => r.messageId === messageId && !r.conflictOf)
    if (!record) return undefined
    const bytes = await storage.read(address, messageId)
    if (!bytes) return undefined
    const handoverOptions = this.#options.handover === false ? undefined : this.#options.handover ?? {}
    let handover: string | undefined
    let firstOpen = false
    if (handoverOptions && storage.recordHandover && handoverApplies(record, handoverOptions.classes ?? 'registered')) {
      const issued = await signHandover(record, this.operatorId, this.#options.signingKey, this.#now())
      const kept = await storage.recordHandover(record, issued.jws)
      handover = kept.handover
      if (kept.inserted) {
        firstOpen = true
        record.chain = [...(record.chain?.length ? record.chain : [record.stamp, record.evidence]), issued.jws]
        const deliver = handoverOptions.deliver ?? ((h: IssuedHandover) => void this.pushHandover(h).catch((err: unknown) => this.#options.logger?.warn({ err: (err as Error).message, messageId }, 'handover push failed')))
        await deliver(issued)
      } else {
        record.chain = [...(record.chain?.length ? record.chain : [record.stamp, record.evidence]).filter((j) => j !== kept.handover), kept.handover]
      }
    }
    return { record, bytes, ...(handover ? { handover } : {}), firstOpen }
  }

  /**
   * Push a Handover to the stamp's issuer, retrying per chapter 10 (network
   * errors, 408, 425, 429, 5xx) up to `attempts` times, until it is answered
   * 202 or 404 (TMB-EVD-015). In-process only: a node that must survive
   * restarts queues the push durably instead (see {@link HandoverOptions.deliver}).
   *
   * @example
   * ```ts
   * const r = await kit.pushHandover(issued, { url: 'https://router.example/v1/evidence' })
   * ```
   */
  async pushHandover(h: IssuedHandover, options: { url?: string; attempts?: number; baseMs?: number; capMs?: number } = {}): Promise<EvidencePushResult> {
    const resolve = this.#options.handover ? this.#options.handover.resolveEvidenceEndpoint : undefined
    const attempts = options.attempts ?? 8
    let last: EvidencePushResult = { status: 0, outcome: 'retry', error: 'not attempted' }
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const url = options.url ?? (await resolve?.(h.routingNode).catch(() => undefined))
      last = url
        ? await pushEvidence({ url, evidence: h.jws, operatorId: this.operatorId, routingNode: h.routingNode, signingKey: this.#options.signingKey, ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}) })
        : { status: 0, outcome: 'retry', error: `no evidence endpoint known for ${h.routingNode}` }
      if (last.outcome !== 'retry' || attempt === attempts) break
      await sleep(Math.max(last.retryAfterMs ?? 0, backoffDelay(attempt, { attempts, baseMs: options.baseMs ?? 500, capMs: options.capMs ?? 60_000 })))
    }
    return last
  }

  /**
   * Re-verify a stored deposit end to end: this operator's evidence, the
   * routing node's stamp, the sender's envelope, and the stored bytes.
   * Throws `evidence-invalid` when anything no longer matches.
   *
   * @example
   * ```ts
   * const [record] = await kit.documents(address)
   * const { evidence, stamp } = await kit.verifyDeposit(record)
   * ```
   */
  async verifyDeposit(record: DepositRecord): Promise<VerifiedDeposit> {
    const envelopeDigest = tokenDigest(record.envelope)
    const own = new KeySet([toPublicJwk(this.#options.signingKey), ...(this.#options.verificationKeys ?? [])])
    const evidence = await verifyEvidence(record.evidence, own, {
      issuer: this.operatorId,
      messageId: record.messageId,
      event: 'DepositAcceptance',
      envelopeDigest,
    })
    const stampIssuer = decodeEvidence(record.stamp).issuer
    const stamp = await verifyStamp(
      record.stamp,
      async (kid, at) => {
        const key = await this.#options.resolveNodeKey(stampIssuer, kid)
        return key ? new KeySet([key]).get(kid, at) : undefined
      },
      { issuer: stampIssuer, messageId: record.messageId, envelopeDigest },
    )
    if (evidence.previousEvidenceId !== stamp.evidenceId) throw invalid('the deposit evidence does not follow the stamp')
    if (evidence.senderKid !== stamp.senderKid || record.senderKey?.kid !== stamp.senderKid) throw invalid('the sender key differs from the stamp')
    let metadata: EnvelopeMetadata
    try {
      metadata = await verifyEnvelope(record.envelope, record.senderKey)
    } catch (cause) {
      throw new TimbreError('evidence-invalid', { detail: 'the envelope no longer verifies', cause })
    }
    if (metadata.sender !== record.sender || metadata.recipient !== record.address || metadata.messageId !== record.messageId) {
      throw invalid('the record does not match its envelope')
    }
    if (!digestEquals(evidence.contentDigest, metadata.content.digest) || !digestEquals(record.digest, metadata.content.digest)) {
      throw invalid('the digests of the record, the envelope and the evidence differ')
    }
    const bytes = await this.#options.storage.read(record.address, record.messageId)
    if (!bytes) throw invalid('the document is missing from storage')
    if (bytes.byteLength !== record.size || !digestEquals(contentDigest(bytes), record.digest)) throw invalid('the stored document changed')
    return { evidence, stamp, metadata }
  }
}
