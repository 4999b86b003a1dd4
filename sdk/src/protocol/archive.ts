/**
 * Vault archives (TMB-ARC): an uncompressed POSIX tar whose first entry is
 * `manifest.jws`, a manifest signed by the exporting operator listing the
 * size and SHA-256 of every other file. Both directions stream: the writer
 * never holds the archive whole, and the reader hashes each file while the
 * caller's sink stores it (TMB-ARC-011), then checks every digest before the
 * caller commits anything (all or nothing, TMB-ARC-007).
 */
import { createHash } from 'node:crypto'
import { PassThrough, Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { TimbreError } from '../errors.js'
import { signJws, verifyJws } from '../internal/jws.js'
import type { Digest } from './digest.js'
import { toResolver, type TrustedKeys } from './evidence.js'
import type { PrivateJwk } from './keys.js'

/** `typ` of the archive manifest JWS. */
export const MANIFEST_TYP = 'timbre-manifest+jws'
/** Name of the first tar entry. */
export const MANIFEST_PATH = 'manifest.jws'

/** One file listed in a manifest. */
export interface ArchiveFile {
  path: string
  size: number
  digest: Digest
}

/** The signed manifest of an archive. */
export interface ArchiveManifest {
  v: 1
  address: string
  donor: string
  recipientOperator?: string
  createdAt: string
  documents: number
  files: ArchiveFile[]
}

/** A file to put in an archive: its bytes, or a stream with a known size and digest. */
export type ArchiveEntry =
  | { path: string; bytes: Uint8Array | string }
  | {
      path: string
      size: number
      digest: Digest
      /** Opens the file's bytes; called once, when the entry is written. */
      open: () => Readable | Promise<Readable>
    }

/** A problem found in an archive, by path. */
export interface ArchiveProblem {
  path: string
  message: string
}

const SAFE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\\\0]+$/

function sha256(data: Uint8Array | string): Digest {
  return { alg: 'sha-256', value: createHash('sha256').update(data).digest('base64url') }
}

/**
 * Sign a manifest as the exporting operator.
 *
 * @example
 * ```ts
 * const jws = await signManifest(manifest, operatorSigningKey)
 * ```
 */
export function signManifest(manifest: ArchiveManifest, key: PrivateJwk): Promise<string> {
  return signJws(manifest, MANIFEST_TYP, key)
}

/**
 * Verify a manifest against the exporting operator's keys.
 *
 * @example
 * ```ts
 * const manifest = await verifyManifest(jws, donorJwks)
 * ```
 */
export async function verifyManifest(jws: string, keys: TrustedKeys): Promise<ArchiveManifest> {
  const { payload } = await verifyJws<ArchiveManifest>(jws, { typ: MANIFEST_TYP, resolveKey: toResolver(keys), code: 'archive-invalid' })
  if (payload.v !== 1 || !Array.isArray(payload.files) || typeof payload.address !== 'string') {
    throw new TimbreError('archive-invalid', { detail: 'the manifest is malformed', extra: { errors: [{ path: MANIFEST_PATH, message: 'malformed manifest' }] } })
  }
  return payload
}

/** What {@link createArchive} needs. */
export interface CreateArchiveInput {
  address: string
  donor: string
  recipientOperator?: string
  documents: number
  entries: ArchiveEntry[]
  key: PrivateJwk
  now?: Date
}

/**
 * Produce an archive as a stream. Sizes and digests of streamed entries must
 * be known up front (a vault stores them at deposit), so the manifest can come
 * first without reading any document twice.
 *
 * @example
 * ```ts
 * const stream = await createArchive({ address, donor: 'vault-a.example', documents: 2, entries, key })
 * await pipeline(stream, createWriteStream('vault.tar'))
 * ```
 */
export async function createArchive(input: CreateArchiveInput): Promise<Readable> {
  const files: ArchiveFile[] = input.entries.map((e) => {
    if (!SAFE_PATH.test(e.path) || e.path === MANIFEST_PATH) throw new TimbreError('archive-invalid', { detail: `unsafe path ${e.path}` })
    return 'bytes' in e ? { path: e.path, size: Buffer.byteLength(e.bytes), digest: sha256(e.bytes) } : { path: e.path, size: e.size, digest: e.digest }
  })
  const manifest: ArchiveManifest = {
    v: 1,
    address: input.address,
    donor: input.donor,
    ...(input.recipientOperator ? { recipientOperator: input.recipientOperator } : {}),
    createdAt: (input.now ?? new Date()).toISOString(),
    documents: input.documents,
    files,
  }
  const manifestJws = await signManifest(manifest, input.key)
  const pack = tar.pack()
  const mtime = new Date(manifest.createdAt)
  ;(async () => {
    try {
      pack.entry({ name: MANIFEST_PATH, mtime }, manifestJws)
      for (let i = 0; i < input.entries.length; i++) {
        const e = input.entries[i]!
        if ('bytes' in e) {
          await new Promise<void>((resolve, reject) => pack.entry({ name: e.path, mtime }, Buffer.from(e.bytes), (err) => (err ? reject(err) : resolve())))
        } else {
          // Open first: an entry left open by a failing source would error with no listener.
          const source = await e.open()
          await pipeline(source, pack.entry({ name: e.path, size: e.size, mtime }))
        }
      }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack as unknown as Readable
}

/** What {@link readArchive} checks the manifest against, and where files go. */
export interface ReadArchiveOptions {
  /** Keys of the exporting operator. */
  keys: TrustedKeys
  expect?: { address?: string; donor?: string; recipientOperator?: string | null }
  /** Store one file; the stream must be consumed. Called only after the manifest verified. */
  onFile: (path: string, stream: Readable, listed: ArchiveFile) => Promise<void>
  /** Largest manifest accepted, in bytes. */
  maxManifestBytes?: number
}

/** The verified result of reading an archive. */
export interface ArchiveReadResult {
  manifest: ArchiveManifest
  manifestJws: string
  files: ArchiveFile[]
}

function invalid(errors: ArchiveProblem[]): TimbreError {
  return new TimbreError('archive-invalid', { detail: errors.map((e) => `${e.path}: ${e.message}`).slice(0, 5).join('; '), extra: { errors } })
}

/**
 * Read and verify an archive while streaming every file to `onFile`. Throws
 * `archive-invalid` listing every offending path; the caller imports only
 * after this resolves.
 *
 * @example
 * ```ts
 * const { manifest } = await readArchive(req, { keys: donorJwks, expect: { address, donor },
 *   onFile: (path, stream) => pipeline(stream, createWriteStream(join(tmp, encodeURIComponent(path)))) })
 * ```
 */
export async function readArchive(source: Readable | AsyncIterable<Uint8Array>, options: ReadArchiveOptions): Promise<ArchiveReadResult> {
  const extract = tar.extract()
  const errors: ArchiveProblem[] = []
  const seen = new Set<string>()
  let manifest: ArchiveManifest | undefined
  let manifestJws = ''
  let listed = new Map<string, ArchiveFile>()
  let first = true
  const maxManifest = options.maxManifestBytes ?? 64 << 20
  const input = source instanceof Readable ? source : Readable.from(source)
  const feeding = pipeline(input, extract).catch((err) => {
    errors.push({ path: '(archive)', message: `not a readable tar: ${(err as Error).message}` })
  })
  try {
    for await (const entry of extract) {
      const { name, type, size } = entry.header
      if (first) {
        first = false
        if (name !== MANIFEST_PATH) {
          entry.resume()
          throw invalid([{ path: name, message: 'the first entry must be manifest.jws' }])
        }
        const chunks: Buffer[] = []
        let total = 0
        for await (const chunk of entry) {
          const c = chunk as Buffer
          total += c.length
          if (total > maxManifest) throw invalid([{ path: MANIFEST_PATH, message: 'manifest too large' }])
          chunks.push(c)
        }
        manifestJws = Buffer.concat(chunks).toString('utf8').trim()
        try {
          manifest = await verifyManifest(manifestJws, options.keys)
        } catch {
          throw invalid([{ path: MANIFEST_PATH, message: 'manifest signature, typ or key is not valid' }])
        }
        const ex = options.expect ?? {}
        if (ex.address && manifest.address !== ex.address) errors.push({ path: MANIFEST_PATH, message: 'manifest is for another address' })
        if (ex.donor && manifest.donor !== ex.donor) errors.push({ path: MANIFEST_PATH, message: 'manifest names another donor' })
        if (ex.recipientOperator !== undefined && (manifest.recipientOperator ?? null) !== ex.recipientOperator) {
          errors.push({ path: MANIFEST_PATH, message: 'manifest names another recipient operator' })
        }
        listed = new Map(manifest.files.map((f) => [f.path, f]))
        if (listed.size !== manifest.files.length) errors.push({ path: MANIFEST_PATH, message: 'a file is listed twice' })
        continue
      }
      if (type === 'directory') {
        entry.resume()
        continue
      }
      const path = name.replace(/^\.\//, '')
      const expected = listed.get(path)
      if (type !== 'file' || !SAFE_PATH.test(path)) {
        errors.push({ path, message: `entry of type ${type} or unsafe path` })
        entry.resume()
        continue
      }
      if (!expected) {
        errors.push({ path, message: 'file not listed in the manifest' })
        entry.resume()
        continue
      }
      if (seen.has(path)) {
        errors.push({ path, message: 'file appears twice' })
        entry.resume()
        continue
      }
      seen.add(path)
      const hash = createHash('sha256')
      let count = 0
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk)
          count += chunk.length
          cb(null, chunk)
        },
      })
      const out = new PassThrough()
      await Promise.all([pipeline(entry, meter, out), options.onFile(path, out, expected)])
      const digest = hash.digest('base64url')
      if (count !== expected.size || size !== expected.size) errors.push({ path, message: `size ${count}, manifest says ${expected.size}` })
      else if (digest !== expected.digest.value) errors.push({ path, message: 'digest does not match the manifest' })
    }
  } catch (err) {
    if (err instanceof TimbreError) throw err
    errors.push({ path: '(archive)', message: `not a readable tar: ${(err as Error).message}` })
  } finally {
    await feeding
  }
  if (!manifest) throw invalid(errors.length ? errors : [{ path: MANIFEST_PATH, message: 'the archive is empty' }])
  for (const path of listed.keys()) if (!seen.has(path)) errors.push({ path, message: 'listed in the manifest but missing' })
  if (errors.length) throw invalid(errors)
  return { manifest, manifestJws, files: manifest.files }
}
