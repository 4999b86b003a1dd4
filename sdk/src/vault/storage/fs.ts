/**
 * File-system vault storage: one directory per address, the document bytes
 * and a JSON record per deposit, every file written to a temporary name,
 * fsync'ed and renamed into place so a crash never leaves half a file.
 *
 * Layout under `root`:
 * - `accounts/{address}/account.json` — the account state
 * - `accounts/{address}/deposits/{messageId}.{key}.json` — the record
 * - `accounts/{address}/deposits/{messageId}.{key}.{nonce}.bin` — the document
 * - `accounts/{address}/move.json` — a move scheduled at a port's cut-over
 * - `accounts/{address}/journal.jsonl` — the vault journal (TMB-RLY-019)
 * - `index/{key}.json` — the (sender, messageId) uniqueness marker
 * - `imports/{sha-256 of the import key}.json` — the answer of each archive import
 *
 * `key` is the SHA-256 of (sender, messageId), so no sender-chosen text
 * ever becomes a path.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { appendFile, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { TimbreError } from '../../errors.js'
import { isValidVaultAddress } from '../../protocol/vault-address.js'
import { UUID_PATTERN } from '../../protocol/identifiers.js'
import type { AccountState, ArchiveImportResponse, DepositRecord, DepositResult, ImportBatch, JournalEntry, VaultStorage } from './types.js'

interface StoredDeposit {
  record: DepositRecord
  /** File name of the document bytes, next to the record. */
  document: string
}

const NORMAL_ADDRESS = /^[0-9A-HJKMNP-TV-Z]{16}$/
const keyOf = (sender: string, messageId: string) => createHash('sha256').update(`${sender}\n${messageId}`).digest('hex')
const isMissing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT'
const importName = (key: string) => createHash('sha256').update(key).digest('hex')
const isTaken = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'EEXIST'

async function writeDurably(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function writeAtomically(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dir, `.tmp-${randomUUID()}`)
  await writeDurably(temp, data)
  await rename(temp, join(dir, name))
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
}

/**
 * A {@link VaultStorage} on the local file system.
 *
 * Uniqueness on (sender, messageId) uses the exclusive-create rule of the file
 * system (like `open(path, 'wx')`), applied with `link()`: the complete record is
 * written to a temporary file and then hard-linked to the marker name. The link
 * fails with EEXIST for every deposit but the first, and a marker is never seen
 * half-written, so a concurrent loser can read the winner's record at once.
 *
 * @example
 * ```ts
 * const storage = new FsVaultStorage('/var/lib/my-vault')
 * const kit = new VaultKit({ operatorId, signingKey, encryptionKeys, storage, resolveNodeKey })
 * ```
 */
export class FsVaultStorage implements VaultStorage {
  #root: string
  #ready: Promise<void> | undefined

  constructor(root: string) {
    this.#root = root
  }

  /** The root directory. */
  get root(): string {
    return this.#root
  }

  #init(): Promise<void> {
    this.#ready ??= Promise.all([
      mkdir(join(this.#root, 'index'), { recursive: true }),
      mkdir(join(this.#root, 'tmp'), { recursive: true }),
      mkdir(join(this.#root, 'accounts'), { recursive: true }),
      mkdir(join(this.#root, 'imports'), { recursive: true }),
    ]).then(() => undefined)
    return this.#ready
  }

  // Only a normal-form address ever becomes a directory name.
  #accountDir(address: string): string | undefined {
    return NORMAL_ADDRESS.test(address) && isValidVaultAddress(address) ? join(this.#root, 'accounts', address) : undefined
  }

  /** The account state of an address; a scheduled move counts from its time (TMB-RLY-012). */
  async account(address: string): Promise<AccountState | undefined> {
    const dir = this.#accountDir(address)
    if (!dir) return undefined
    const state = await readJson<AccountState>(join(dir, 'account.json'))
    if (state?.status !== 'active') return state
    const move = await readJson<{ operator: string; at: string }>(join(dir, 'move.json'))
    return move && Date.now() >= Date.parse(move.at) ? { status: 'moved', operator: move.operator } : state
  }

  /** Open an account (idempotent; a moved account stays moved). */
  async openAccount(address: string): Promise<void> {
    const dir = this.#accountDir(address)
    if (!dir) throw new TypeError('not a vault address in normal form')
    await this.#init()
    await mkdir(join(dir, 'deposits'), { recursive: true })
    try {
      await writeDurably(join(dir, 'account.json'), JSON.stringify({ status: 'active' }))
    } catch (err) {
      if (!isTaken(err)) throw err
    }
  }

  /**
   * Mark an account as moved to another operator (after a port).
   *
   * @example
   * ```ts
   * await storage.markMoved(address, 'vault-c.example')
   * ```
   */
  async markMoved(address: string, operator: string, at?: string): Promise<void> {
    const dir = this.#accountDir(address)
    if (!dir) throw new TypeError('not a vault address in normal form')
    await mkdir(join(dir, 'deposits'), { recursive: true })
    // A future cut-over is kept beside the account; account() applies it when its time comes.
    if (at && Date.parse(at) > Date.now()) await writeAtomically(dir, 'move.json', JSON.stringify({ operator, at }))
    else await writeAtomically(dir, 'account.json', JSON.stringify({ status: 'moved', operator }))
  }

  /**
   * Undo a scheduled move to `operator` that has not taken effect.
   *
   * @example
   * ```ts
   * await storage.cancelMove(address, 'vault-c.example')
   * ```
   */
  async cancelMove(address: string, operator: string): Promise<void> {
    const dir = this.#accountDir(address)
    if (!dir) return
    const move = await readJson<{ operator: string }>(join(dir, 'move.json'))
    if (move?.operator === operator) await unlink(join(dir, 'move.json')).catch(() => undefined)
  }

  /**
   * The journal of an address, oldest first.
   *
   * @example
   * ```ts
   * const entries = await storage.journal(address)
   * ```
   */
  async journal(address: string): Promise<JournalEntry[]> {
    const dir = this.#accountDir(address)
    if (!dir) return []
    let text: string
    try {
      text = await readFile(join(dir, 'journal.jsonl'), 'utf8')
    } catch (err) {
      if (isMissing(err)) return []
      throw err
    }
    const out: JournalEntry[] = []
    // A crash can leave a torn last line; it is skipped, not fatal.
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      try {
        out.push(JSON.parse(line) as JournalEntry)
      } catch {
        continue
      }
    }
    return out
  }

  /**
   * Append a journal entry.
   *
   * @example
   * ```ts
   * await storage.appendJournal(address, { at: new Date().toISOString(), event: 'access', messageId })
   * ```
   */
  async appendJournal(address: string, entry: JournalEntry): Promise<void> {
    await this.#appendJournal(address, [entry])
  }

  async #appendJournal(address: string, entries: JournalEntry[]): Promise<void> {
    const dir = this.#accountDir(address)
    if (!dir || entries.length === 0) return
    await mkdir(dir, { recursive: true })
    await appendFile(join(dir, 'journal.jsonl'), entries.map((e) => JSON.stringify(e) + '\n').join(''))
  }

  /** The deposit of a message. */
  async findDeposit(sender: string, messageId: string): Promise<DepositRecord | undefined> {
    const key = keyOf(sender, messageId)
    const stored = await readJson<StoredDeposit>(join(this.#root, 'index', `${key}.json`))
    if (!stored) return undefined
    await this.#linkIntoAccount(key, stored.record)
    return stored.record
  }

  /** Store a document; unique on (sender, messageId) across processes. */
  async deposit(record: DepositRecord, document: Uint8Array): Promise<DepositResult> {
    const dir = this.#accountDir(record.address)
    if (!dir || !UUID_PATTERN.test(record.messageId)) throw new TypeError('deposit record has an unusable address or messageId')
    await this.#init()
    const deposits = join(dir, 'deposits')
    await mkdir(deposits, { recursive: true })
    const key = keyOf(record.sender, record.messageId)
    const nonce = randomUUID()
    // The document gets a unique name, so a losing concurrent deposit can never overwrite the winner's bytes.
    const documentName = `${record.messageId}.${key}.${nonce}.bin`
    await writeAtomically(deposits, documentName, document)
    const temp = join(this.#root, 'tmp', `${nonce}.json`)
    await writeDurably(temp, JSON.stringify({ record, document: documentName } satisfies StoredDeposit))
    try {
      await link(temp, join(this.#root, 'index', `${key}.json`))
    } catch (err) {
      await Promise.allSettled([unlink(temp), unlink(join(deposits, documentName))])
      if (!isTaken(err)) throw err
      const existing = await this.findDeposit(record.sender, record.messageId)
      if (!existing) throw new Error('deposit marker exists but cannot be read')
      return { inserted: false, record: existing }
    }
    await this.#linkIntoAccount(key, record, temp)
    await unlink(temp).catch(() => undefined)
    await this.#appendJournal(record.address, [{ at: record.depositedAt, event: 'deposit', messageId: record.messageId, sender: record.sender }])
    return { inserted: true, record }
  }

  // The per-address link makes list() cheap; recreated on read if a crash came between the two links.
  async #linkIntoAccount(key: string, record: DepositRecord, from = join(this.#root, 'index', `${key}.json`)): Promise<void> {
    const dir = this.#accountDir(record.address)
    if (!dir) return
    try {
      await link(from, join(dir, 'deposits', `${record.messageId}.${key}.json`))
    } catch (err) {
      if (!isTaken(err)) throw err
    }
  }

  async #entries(address: string): Promise<Array<{ path: string; name: string }>> {
    const dir = this.#accountDir(address)
    if (!dir) return []
    let names: string[]
    try {
      names = await readdir(join(dir, 'deposits'))
    } catch (err) {
      if (isMissing(err)) return []
      throw err
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((name) => ({ name, path: join(dir, 'deposits', name) }))
  }

  /** Every deposit of an address, oldest first. */
  async list(address: string): Promise<DepositRecord[]> {
    const out: DepositRecord[] = []
    for (const entry of await this.#entries(address)) {
      const stored = await readJson<StoredDeposit>(entry.path)
      if (stored) out.push(stored.record)
    }
    return out.sort((a, b) => a.depositedAt.localeCompare(b.depositedAt) || a.messageId.localeCompare(b.messageId))
  }

  /** The document bytes of a deposit. */
  async read(address: string, messageId: string): Promise<Uint8Array | undefined> {
    const path = await this.#documentPath(address, messageId)
    try {
      return path ? new Uint8Array(await readFile(path)) : undefined
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  /**
   * The document bytes as a stream, never read whole.
   *
   * @example
   * ```ts
   * const stream = await storage.openDocument(address, messageId)
   * ```
   */
  async openDocument(address: string, messageId: string): Promise<Readable | undefined> {
    const path = await this.#documentPath(address, messageId)
    return path ? createReadStream(path) : undefined
  }

  // The original document first; an additional one (kept after a conflict) only when alone.
  async #documentPath(address: string, messageId: string): Promise<string | undefined> {
    if (!UUID_PATTERN.test(messageId)) return undefined
    const dir = this.#accountDir(address)
    if (!dir) return undefined
    let fallback: string | undefined
    for (const entry of await this.#entries(address)) {
      if (!entry.name.startsWith(`${messageId}.`)) continue
      const stored = await readJson<StoredDeposit>(entry.path)
      if (!stored || stored.record.messageId !== messageId || !/^[0-9a-f.-]+\.bin$/.test(stored.document)) continue
      const path = join(dir, 'deposits', stored.document)
      if (!stored.record.conflictOf) return path
      fallback ??= path
    }
    return fallback
  }

  /**
   * Store a verified archive import, all or nothing: documents are written
   * under unique names, then the uniqueness markers are linked one by one;
   * if any is taken, every marker and file of this import is removed again.
   *
   * @example
   * ```ts
   * const { repeated, response } = await storage.commitImport(batch)
   * ```
   */
  async commitImport(batch: ImportBatch): Promise<{ repeated: boolean; response: ArchiveImportResponse }> {
    const done = await this.findImport(batch.key)
    if (done) return { repeated: true, response: done }
    await this.openAccount(batch.address)
    const dir = this.#accountDir(batch.address)!
    const deposits = join(dir, 'deposits')
    const created: string[] = []
    try {
      for (const { record, open } of batch.items) {
        if (record.address !== batch.address || !UUID_PATTERN.test(record.messageId)) throw new TypeError('import item for another address')
        const key = keyOf(record.sender, record.messageId)
        const nonce = randomUUID()
        const documentName = `${record.messageId}.${key}.${nonce}.bin`
        const temp = join(deposits, `.tmp-${nonce}`)
        created.push(temp)
        const handle = createWriteStream(temp, { flags: 'wx' })
        await pipeline(open(), handle)
        await rename(temp, join(deposits, documentName))
        created.push(join(deposits, documentName))
        const json = JSON.stringify({ record, document: documentName } satisfies StoredDeposit)
        if (record.conflictOf) {
          await writeAtomically(deposits, `${record.messageId}.${key}.${nonce}.json`, json)
          created.push(join(deposits, `${record.messageId}.${key}.${nonce}.json`))
          continue
        }
        const tempRecord = join(this.#root, 'tmp', `${nonce}.json`)
        await writeDurably(tempRecord, json)
        created.push(tempRecord)
        try {
          await link(tempRecord, join(this.#root, 'index', `${key}.json`))
        } catch (err) {
          if (isTaken(err)) throw new TimbreError('message-id-conflict', { detail: 'a document of the archive was deposited meanwhile' })
          throw err
        }
        created.push(join(this.#root, 'index', `${key}.json`))
        await link(tempRecord, join(deposits, `${record.messageId}.${key}.json`))
        created.push(join(deposits, `${record.messageId}.${key}.json`))
      }
    } catch (err) {
      await Promise.allSettled(created.reverse().map((p) => unlink(p)))
      throw err
    }
    await this.#appendJournal(batch.address, batch.journal)
    await writeAtomically(join(this.#root, 'imports'), `${importName(batch.key)}.json`, JSON.stringify(batch.response))
    await Promise.allSettled(created.filter((p) => p.startsWith(join(this.#root, 'tmp'))).map((p) => unlink(p)))
    return { repeated: false, response: batch.response }
  }

  /**
   * The response of an import committed under `key`.
   *
   * @example
   * ```ts
   * const earlier = await storage.findImport(portId)
   * ```
   */
  async findImport(key: string): Promise<ArchiveImportResponse | undefined> {
    return readJson<ArchiveImportResponse>(join(this.#root, 'imports', `${importName(key)}.json`))
  }
}
