/**
 * Where an incoming archive waits while it is verified (TMB-ARC-011): files
 * are streamed in as they arrive and read back only after every check
 * passed, so an import never needs the whole archive in memory (on disk) and
 * never touches the vault before it is known to be valid (TMB-ARC-007).
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** A temporary area holding the files of one archive by their archive path. */
export interface ArchiveStaging {
  /** Store one file from a stream (consumes it). */
  write(path: string, stream: Readable): Promise<void>
  /** Read a stored file back as a stream. */
  open(path: string): Readable
  /** Read a small stored file as UTF-8 text. */
  text(path: string): Promise<string>
  /** True when the file was stored. */
  has(path: string): boolean
  /** Remove everything. */
  dispose(): Promise<void>
}

/**
 * Staging in memory, for {@link MemoryVaultStorage} (whose documents live in memory anyway).
 *
 * @example
 * ```ts
 * const staging = memoryStaging()
 * ```
 */
export function memoryStaging(): ArchiveStaging {
  const files = new Map<string, Buffer>()
  return {
    async write(path, stream) {
      const chunks: Buffer[] = []
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
      files.set(path, Buffer.concat(chunks))
    },
    open: (path) => Readable.from([files.get(path) ?? Buffer.alloc(0)]),
    text: async (path) => (files.get(path) ?? Buffer.alloc(0)).toString('utf8'),
    has: (path) => files.has(path),
    async dispose() {
      files.clear()
    },
  }
}

/**
 * Staging in a fresh temporary directory; archive paths never become file names.
 *
 * @example
 * ```ts
 * const staging = await diskStaging('/var/lib/vault/tmp')
 * ```
 */
export async function diskStaging(parent: string = tmpdir()): Promise<ArchiveStaging> {
  await mkdir(parent, { recursive: true })
  const dir = await mkdtemp(join(parent, 'timbre-import-'))
  const names = new Map<string, string>()
  return {
    async write(path, stream) {
      const name = join(dir, `${names.size + 1}.part`)
      names.set(path, name)
      await pipeline(stream, createWriteStream(name, { flags: 'wx' }))
    },
    open: (path) => createReadStream(names.get(path) ?? join(dir, 'missing')),
    text: async (path) => readFile(names.get(path) ?? join(dir, 'missing'), 'utf8'),
    has: (path) => names.has(path),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}
