/**
 * Importing a vault archive (spec 9.6): stream it to a staging area while
 * every digest is checked (readArchive), verify every document — envelope,
 * content digest, evidence chain — and only then store everything at once
 * (TMB-ARC-006/007). Documents already held are skipped or kept as additional
 * documents (TMB-ARC-010); each imported one gets a ContentImport (TMB-ARC-008).
 */
import type { Readable } from 'node:stream'
import { TimbreError } from '../errors.js'
import { readArchive, type ArchiveFile, type ArchiveProblem } from '../protocol/archive.js'
import { digestEquals, tokenDigest, type Digest } from '../protocol/digest.js'
import { verifyEnvelope, type EnvelopeMetadata } from '../protocol/envelope.js'
import { decodeEvidence, signEvidence, verifyEvidence, type Evidence, type TrustedKeys } from '../protocol/evidence.js'
import { uuidv7 } from '../protocol/identifiers.js'
import { KeySet } from '../protocol/key-set.js'
import { jwkThumbprint, type PrivateJwk, type PublicJwk } from '../protocol/keys.js'
import { schemaValidator } from '../protocol/schemas.js'
import type { ArchiveStaging } from './archive-staging.js'
import type { NodeKeyResolver } from './relay-handler.js'
import type { ArchiveImportResponse, DepositRecord, ImportItem, JournalEntry, VaultStorage } from './storage/types.js'

/** What {@link VaultKit.importArchive} checks an archive against. */
export interface ImportArchiveOptions {
  /** The exporting operator (manifest `donor`). */
  donor: string
  /** The donor's public keys (manifest signature, DepositAcceptance, its ContentImport). */
  donorKeys: TrustedKeys
  /** The address the archive must be for. */
  address: string
  /** The port; the import's idempotency key and the answer's `portId`. */
  portId?: string
  /**
   * The manifest's expected `recipientOperator`: this operator by default when
   * `portId` is given, `null` to require a self-export, undefined not to check.
   */
  recipientOperator?: string | null
  /** Keys of routing nodes to verify stamps with; `false` skips stamps (with a note). Default: the kit's `resolveNodeKey`. */
  resolveStampKey?: NodeKeyResolver | false
  /** Receives what could not be verified but is not an error (an unknown issuer's evidence…). */
  onNote?: (note: ArchiveProblem) => void
}

/** @internal What the import needs from the kit. */
export interface ImportContext {
  operatorId: string
  signingKey: PrivateJwk
  storage: VaultStorage
  staging: () => Promise<ArchiveStaging>
  resolveStampKey: NodeKeyResolver | false
  /** Answers of imports kept by the kit for storages without commitImport. */
  fallbackImports: Map<string, ArchiveImportResponse>
  now: () => Date
}

interface StagedDocument {
  dir: string
  metadata: EnvelopeMetadata
  envelope: string
  senderKey: PublicJwk
  contentPath: string
  evidence: string[]
  stamp: Evidence
  stampJws: string
  /** The donor's DepositAcceptance or latest ContentImport: the one ContentImport follows. */
  anchor: Evidence
}

const DOC_FILE = /^documents\/(\d{6})\/(metadata\.json|envelope\.jws|content\.[A-Za-z0-9]{1,16}|evidence\/(\d{3})\.jws)$/
const archiveInvalid = (errors: ArchiveProblem[]) =>
  new TimbreError('archive-invalid', { detail: errors.map((e) => `${e.path}: ${e.message}`).slice(0, 5).join('; '), extra: { errors } })
const thumbprintOf = (k: PublicJwk) => jwkThumbprint({ kty: k.kty, crv: k.crv, x: k.x })

function schemaErrors(file: string, value: unknown): string | undefined {
  const validate = schemaValidator(file)
  if (validate(value)) return undefined
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join(', ')
}

/** @internal Verify and import one archive; `repeated` tells 200 from 201. */
export async function importVaultArchive(
  ctx: ImportContext,
  source: Readable | AsyncIterable<Uint8Array>,
  options: ImportArchiveOptions,
  afterRead?: () => void,
): Promise<{ repeated: boolean; response: ArchiveImportResponse }> {
  const staging = await ctx.staging()
  try {
    const expectRecipient = options.recipientOperator !== undefined ? options.recipientOperator : options.portId ? ctx.operatorId : undefined
    const read = await readArchive(source, {
      keys: options.donorKeys,
      expect: { address: options.address, donor: options.donor, ...(expectRecipient !== undefined ? { recipientOperator: expectRecipient } : {}) },
      onFile: (path, stream) => staging.write(path, stream),
    })
    // The whole body is in: the transport's own check (the proof's body digest) comes before anything is used.
    afterRead?.()
    const errors: ArchiveProblem[] = []
    const note = (path: string, message: string) => options.onNote?.({ path, message })
    const listed = new Map(read.files.map((f) => [f.path, f]))

    // vault.json and journal.jsonl (TMB-ARC-003).
    let vault: { address?: string; operator?: string; documents?: number } = {}
    if (!listed.has('vault.json')) errors.push({ path: 'vault.json', message: 'missing' })
    else {
      try {
        vault = JSON.parse(await staging.text('vault.json'))
        const bad = schemaErrors('archive-vault.json', vault)
        if (bad) errors.push({ path: 'vault.json', message: bad })
        else if (vault.address !== read.manifest.address || vault.operator !== read.manifest.donor || vault.documents !== read.manifest.documents) {
          errors.push({ path: 'vault.json', message: 'does not match the manifest' })
        }
      } catch {
        errors.push({ path: 'vault.json', message: 'not JSON' })
      }
    }
    const journal: JournalEntry[] = []
    if (!listed.has('journal.jsonl')) errors.push({ path: 'journal.jsonl', message: 'missing' })
    else {
      const lines = (await staging.text('journal.jsonl')).split('\n')
      lines.forEach((line, i) => {
        if (!line.trim()) return
        try {
          const entry = JSON.parse(line)
          if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new Error('not an object')
          journal.push(entry as JournalEntry)
        } catch {
          errors.push({ path: 'journal.jsonl', message: `line ${i + 1} is not a JSON object` })
        }
      })
    }

    // The layout: every other file belongs to a documents/NNNNNN/ directory.
    const dirs = new Map<string, { files: ArchiveFile[]; evidence: string[] }>()
    for (const f of read.files) {
      if (f.path === 'vault.json' || f.path === 'journal.jsonl') continue
      const m = DOC_FILE.exec(f.path)
      if (!m) {
        errors.push({ path: f.path, message: 'not a file of the archive layout (9.6)' })
        continue
      }
      const dir = `documents/${m[1]}`
      const entry = dirs.get(dir) ?? { files: [], evidence: [] }
      entry.files.push(f)
      if (m[3]) entry.evidence.push(f.path)
      dirs.set(dir, entry)
    }
    if (dirs.size !== read.manifest.documents) errors.push({ path: 'manifest.jws', message: `documents is ${read.manifest.documents}, the archive holds ${dirs.size}` })

    const staged: StagedDocument[] = []
    for (const [dir, { files, evidence }] of [...dirs].sort(([a], [b]) => a.localeCompare(b))) {
      const doc = await verifyDocument(ctx, staging, options, dir, files, evidence.sort(), errors, note)
      if (doc) staged.push(doc)
    }
    if (errors.length) throw archiveInvalid(errors)

    const key = options.portId ?? `manifest:${tokenDigest(read.manifestJws)}`
    const earlier = (await ctx.storage.findImport?.(key)) ?? ctx.fallbackImports.get(key)
    if (earlier) return { repeated: true, response: earlier }

    // Classify and commit; a relay that lands meanwhile makes the commit fail, and the documents are classified again.
    for (let round = 0; ; round++) {
      const { items, response } = await prepare(ctx, staging, staged, options)
      const importJournal: JournalEntry[] = [
        ...journal,
        { at: ctx.now().toISOString(), event: 'import', detail: `archive of ${options.donor}${options.portId ? `, port ${options.portId}` : ''}: ${response.imported} imported, ${response.skipped} skipped` },
      ]
      if (ctx.storage.commitImport) {
        try {
          return await ctx.storage.commitImport({ key, address: options.address, items, journal: importJournal, response })
        } catch (err) {
          if (err instanceof TimbreError && err.code === 'message-id-conflict' && round < 3) continue
          throw err
        }
      }
      return commitItemByItem(ctx, key, options.address, items, importJournal, response)
    }
  } finally {
    await staging.dispose().catch(() => undefined)
  }
}

async function verifyDocument(
  ctx: ImportContext,
  staging: ArchiveStaging,
  options: ImportArchiveOptions,
  dir: string,
  files: ArchiveFile[],
  evidencePaths: string[],
  errors: ArchiveProblem[],
  note: (path: string, message: string) => void,
): Promise<StagedDocument | undefined> {
  const fail = (path: string, message: string) => {
    errors.push({ path, message })
    return undefined
  }
  const metaPath = `${dir}/metadata.json`
  const envPath = `${dir}/envelope.jws`
  if (!files.some((f) => f.path === metaPath)) return fail(metaPath, 'missing')
  if (!files.some((f) => f.path === envPath)) return fail(envPath, 'missing')
  if (evidencePaths.length === 0) return fail(`${dir}/evidence/001.jws`, 'missing')
  let meta: Record<string, any>
  try {
    meta = JSON.parse(await staging.text(metaPath))
  } catch {
    return fail(metaPath, 'not JSON')
  }
  const bad = schemaErrors('archive-document.json', meta)
  if (bad) return fail(metaPath, bad)
  const content = files.find((f) => f.path === meta.contentPath)
  const contents = files.filter((f) => /\/content\.[^/]+$/.test(f.path))
  if (!content || contents.length !== 1) return fail(`${dir}/${String(meta.contentPath).split('/').pop()}`, 'the content file is missing or not alone')

  // The envelope, with the stored sender key only (TMB-RLY-005 applies to archives too).
  const senderKey = meta.senderKey as PublicJwk
  if ((await thumbprintOf(senderKey)) !== senderKey.kid) return fail(metaPath, 'senderKey kid is not its thumbprint')
  const envelope = (await staging.text(envPath)).trim()
  let m: EnvelopeMetadata
  try {
    m = await verifyEnvelope(envelope, senderKey)
  } catch {
    return fail(envPath, 'the envelope does not verify with senderKey')
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  if (
    m.messageId !== meta.messageId ||
    m.sender !== meta.sender ||
    m.recipient !== meta.recipient ||
    m.recipient !== options.address ||
    m.documentType !== meta.documentType ||
    m.title !== meta.title ||
    (m.issueDate !== undefined && m.issueDate !== meta.issueDate) ||
    !same(m.retentionHint, meta.retentionHint) ||
    !same(m.senderReference, meta.senderReference) ||
    m.content.mediaType !== meta.mediaType
  ) {
    return fail(metaPath, 'does not match the envelope')
  }
  // The content: its listed (and verified) size and SHA-256 are the envelope's.
  if (m.content.size !== meta.size || content.size !== m.content.size || !digestEquals(m.content.digest, meta.digest as Digest) || !digestEquals(content.digest, m.content.digest)) {
    return fail(content.path, 'the content does not match the envelope digest')
  }

  // The evidence chain: all about this envelope, each following an earlier one.
  const envelopeDigest = tokenDigest(envelope)
  const chain: string[] = []
  const decoded: Evidence[] = []
  const ids = new Set<string>()
  let stamp: { evidence: Evidence; jws: string } | undefined
  let anchor: Evidence | undefined
  for (const path of evidencePaths) {
    const jws = (await staging.text(path)).trim()
    let ev: Evidence
    try {
      ev = decodeEvidence(jws)
    } catch {
      return fail(path, 'not an evidence JWS')
    }
    if (ev.messageId !== m.messageId || ev.sender !== m.sender || ev.recipient !== m.recipient || ev.envelopeDigest !== envelopeDigest || !digestEquals(ev.contentDigest, m.content.digest)) {
      return fail(path, 'the evidence is about another document or envelope')
    }
    if (decoded.length === 0 ? ev.event !== 'SubmissionAcceptance' : !ev.previousEvidenceId || !ids.has(ev.previousEvidenceId)) {
      return fail(path, decoded.length === 0 ? 'the chain must start with the stamp' : 'the evidence does not follow an earlier one')
    }
    try {
      if (ev.issuer === options.donor) {
        await verifyEvidence(jws, options.donorKeys, { issuer: options.donor, envelopeDigest })
        if (ev.event === 'DepositAcceptance' || ev.event === 'ContentImport') anchor = ev
      } else if (ev.event === 'SubmissionAcceptance' && ctx.resolveStampKey) {
        const resolve = ctx.resolveStampKey
        await verifyEvidence(jws, async (kid, at) => {
          const key = await resolve(ev.issuer, kid)
          return key ? new KeySet([key]).get(kid, at) : undefined
        }, { issuer: ev.issuer, envelopeDigest, event: 'SubmissionAcceptance' })
      } else {
        note(path, `${ev.event} of ${ev.issuer} not verified: no keys for that issuer`)
      }
    } catch {
      return fail(path, `the ${ev.event} of ${ev.issuer} does not verify`)
    }
    if (ev.event === 'SubmissionAcceptance') {
      if (ev.senderKid !== senderKey.kid) return fail(path, 'the stamp names another sender key')
      stamp = { evidence: ev, jws }
    }
    ids.add(ev.evidenceId)
    decoded.push(ev)
    chain.push(jws)
  }
  if (!anchor) return fail(`${dir}/evidence`, `no DepositAcceptance or ContentImport of ${options.donor}`)
  return { dir, metadata: m, envelope, senderKey, contentPath: content.path, evidence: chain, stamp: stamp!.evidence, stampJws: stamp!.jws, anchor }
}

async function prepare(
  ctx: ImportContext,
  staging: ArchiveStaging,
  staged: StagedDocument[],
  options: ImportArchiveOptions,
): Promise<{ items: ImportItem[]; response: ArchiveImportResponse }> {
  const items: ImportItem[] = []
  const conflicts: Array<{ sender: string; messageId: string }> = []
  const evidence: string[] = []
  const inArchive = new Map<string, Digest>()
  let skipped = 0
  for (const doc of staged) {
    const m = doc.metadata
    const pair = `${m.sender}\n${m.messageId}`
    const held = (await ctx.storage.findDeposit(m.sender, m.messageId))?.digest ?? inArchive.get(pair)
    // Same document already here (deposited by a re-route, say): skipped; another one: kept beside it (TMB-ARC-010).
    if (held && digestEquals(held, m.content.digest)) {
      skipped++
      continue
    }
    if (held) conflicts.push({ sender: m.sender, messageId: m.messageId })
    else inArchive.set(pair, m.content.digest)
    const time = ctx.now().toISOString()
    const { jws } = await signEvidence(
      {
        event: 'ContentImport',
        time,
        issuer: ctx.operatorId,
        messageId: m.messageId,
        sender: m.sender,
        recipient: m.recipient,
        contentDigest: m.content.digest,
        envelopeDigest: tokenDigest(doc.envelope),
        senderKid: doc.senderKey.kid,
        ...(doc.stamp.stampClass ? { stampClass: doc.stamp.stampClass } : {}),
        recipientOperator: ctx.operatorId,
        previousEvidenceId: doc.anchor.evidenceId,
      },
      ctx.signingKey,
    )
    evidence.push(jws)
    const record: DepositRecord = {
      address: options.address,
      sender: m.sender,
      messageId: m.messageId,
      metadata: m,
      envelope: doc.envelope,
      senderKey: doc.senderKey,
      stamp: doc.stampJws,
      evidence: jws,
      depositedAt: time,
      size: m.content.size,
      digest: m.content.digest,
      chain: [...doc.evidence, jws],
      ...(held ? { conflictOf: { sender: m.sender, messageId: m.messageId } } : {}),
    }
    items.push({ record, open: () => staging.open(doc.contentPath) })
  }
  const response: ArchiveImportResponse = {
    portId: options.portId ?? uuidv7(),
    address: options.address,
    imported: items.length,
    skipped,
    conflicts,
    evidence,
  }
  return { items, response }
}

// For storages without commitImport: deposit one by one (no conflicts possible to keep), answers kept in the kit.
async function commitItemByItem(
  ctx: ImportContext,
  key: string,
  address: string,
  items: ImportItem[],
  journal: JournalEntry[],
  response: ArchiveImportResponse,
): Promise<{ repeated: boolean; response: ArchiveImportResponse }> {
  if (items.some((i) => i.record.conflictOf)) {
    throw new TimbreError('internal-error', { detail: 'this storage cannot keep additional documents (implement commitImport)' })
  }
  await ctx.storage.openAccount(address)
  for (const { record, open } of items) {
    const chunks: Buffer[] = []
    for await (const chunk of open()) chunks.push(Buffer.from(chunk as Uint8Array))
    await ctx.storage.deposit(record, Buffer.concat(chunks))
  }
  for (const entry of journal) await ctx.storage.appendJournal?.(address, entry)
  ctx.fallbackImports.set(key, response)
  return { repeated: false, response }
}
