/**
 * Building a vault archive from storage (spec 9.6, 9.7): vault.json,
 * journal.jsonl, then per document its metadata, content, envelope and
 * evidence chain. Document bytes are streamed from storage into the tar one
 * at a time, never held whole (TMB-ARC-011); sizes and digests come from the
 * deposit records, so the manifest can go first.
 */
import { Readable } from 'node:stream'
import { TimbreError } from '../errors.js'
import { createArchive, type ArchiveEntry } from '../protocol/archive.js'
import type { PrivateJwk } from '../protocol/keys.js'
import type { DepositRecord, JournalEntry, VaultStorage } from './storage/types.js'

/** Options of an export. */
export interface ExportArchiveOptions {
  /** The new operator of a port; absent for a self-export (TMB-ARC-013). */
  recipientOperator?: string
  /** The port this archive is for (journaled). */
  portId?: string
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'application/json': 'json',
  'text/plain': 'txt',
  'text/html': 'html',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'text/csv': 'csv',
}

/**
 * The file extension of a content file for its media type (`bin` when unknown).
 *
 * @example
 * ```ts
 * contentExtension('application/pdf') // 'pdf'
 * ```
 */
export function contentExtension(mediaType: string): string {
  return EXTENSIONS[mediaType.split(';')[0]!.trim().toLowerCase()] ?? 'bin'
}

const seq = (n: number, width: number) => String(n).padStart(width, '0')

/**
 * The evidence of a record in chain order: its `chain`, or the stamp and the deposit evidence.
 *
 * @example
 * ```ts
 * evidenceChain(record).length // 2 for a relayed document
 * ```
 */
export function evidenceChain(record: DepositRecord): string[] {
  return record.chain?.length ? record.chain : [record.stamp, record.evidence]
}

// archive-document.json: the envelope's metadata, deposit time, content path and sender key.
function documentMetadata(record: DepositRecord, contentPath: string): Record<string, unknown> {
  const m = record.metadata
  return {
    messageId: record.messageId,
    sender: record.sender,
    recipient: record.address,
    documentType: m.documentType,
    title: m.title,
    // The archive schema requires issueDate while the envelope does not; the creation day stands in.
    issueDate: m.issueDate ?? m.createdAt.slice(0, 10),
    ...(m.retentionHint ? { retentionHint: m.retentionHint } : {}),
    ...(m.senderReference ? { senderReference: m.senderReference } : {}),
    mediaType: m.content.mediaType,
    size: record.size,
    digest: record.digest,
    depositedAt: record.depositedAt,
    contentPath,
    senderKey: { kty: record.senderKey.kty, crv: record.senderKey.crv, x: record.senderKey.x, kid: record.senderKey.kid, use: 'sig', alg: 'EdDSA' },
  }
}

/**
 * Produce the archive of one address as a tar stream signed by `operatorId`.
 *
 * @example
 * ```ts
 * const tar = await buildVaultArchive(storage, 'vault-a.example', signingKey, address, { recipientOperator: 'vault-b.example' })
 * ```
 */
export async function buildVaultArchive(
  storage: VaultStorage,
  operatorId: string,
  key: PrivateJwk,
  address: string,
  options: ExportArchiveOptions = {},
  now: Date = new Date(),
): Promise<Readable> {
  if (!(await storage.account(address))) throw new TimbreError('not-found', { detail: 'the address is not hosted here' })
  const exportedAt = now.toISOString()
  // The export is journaled before the journal is read, so the archive records its own making (TMB-RLY-019).
  await storage.appendJournal?.(address, {
    at: exportedAt,
    event: 'export',
    detail: options.recipientOperator ? `archive for ${options.recipientOperator}${options.portId ? `, port ${options.portId}` : ''}` : 'self-export',
  })
  const records = (await storage.list(address)).sort((a, b) => a.depositedAt.localeCompare(b.depositedAt) || a.messageId.localeCompare(b.messageId))
  const journal: JournalEntry[] = storage.journal
    ? await storage.journal(address)
    : records.map((r) => ({ at: r.depositedAt, event: 'deposit', messageId: r.messageId, sender: r.sender }))
  const entries: ArchiveEntry[] = [
    { path: 'vault.json', bytes: JSON.stringify({ v: 1, address, operator: operatorId, exportedAt, documents: records.length }) },
    { path: 'journal.jsonl', bytes: journal.map((e) => JSON.stringify(e) + '\n').join('') },
  ]
  records.forEach((record, i) => {
    const dir = `documents/${seq(i + 1, 6)}`
    const contentPath = `${dir}/content.${contentExtension(record.metadata.content.mediaType)}`
    entries.push({ path: `${dir}/metadata.json`, bytes: JSON.stringify(documentMetadata(record, contentPath)) })
    entries.push({
      path: contentPath,
      size: record.size,
      digest: record.digest,
      open: async () => {
        const stream = await storage.openDocument?.(address, record.messageId)
        if (stream) return stream
        const bytes = await storage.read(address, record.messageId)
        if (!bytes) throw new TimbreError('internal-error', { detail: `document ${record.messageId} is missing from storage` })
        return Readable.from([Buffer.from(bytes)])
      },
    })
    entries.push({ path: `${dir}/envelope.jws`, bytes: record.envelope })
    evidenceChain(record).forEach((jws, j) => entries.push({ path: `${dir}/evidence/${seq(j + 1, 3)}.jws`, bytes: jws }))
  })
  return createArchive({
    address,
    donor: operatorId,
    ...(options.recipientOperator ? { recipientOperator: options.recipientOperator } : {}),
    documents: records.length,
    entries,
    key,
    now,
  })
}
