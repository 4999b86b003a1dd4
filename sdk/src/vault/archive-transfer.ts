/**
 * The donor's side of an archive transfer (TMB-ARC-004): the archive is
 * spooled once to a temporary file while it is hashed (the request proof
 * signs the body's digest, and every retry must send the same bytes), then
 * PUT with a streaming body until the new operator answers 200 or 201.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Dispatcher } from 'undici'
import { TimbreError } from '../errors.js'
import { JsonHttp } from '../client/http.js'
import { withRetry, type RetryOptions } from '../client/retry.js'
import type { PrivateJwk } from '../protocol/keys.js'
import { createRequestProof } from '../protocol/request-auth.js'
import { assertSchema } from '../protocol/schemas.js'
import type { ArchiveImportResponse } from './storage/types.js'

/** Options of {@link VaultKit.transferArchive} beyond the port and the endpoint. */
export interface TransferArchiveOptions {
  /** Retry policy (default: 10 attempts, 1 s base, 60 s cap). */
  retry?: Partial<RetryOptions>
  /** Timeout of one attempt in milliseconds (default 10 minutes). */
  timeoutMs?: number
  /** Directory for the spooled archive (default: the system temporary directory). */
  tempDir?: string
}

/** The default retry policy of archive transfers. */
export const TRANSFER_RETRY: Readonly<RetryOptions> = Object.freeze({ attempts: 10, baseMs: 1_000, capMs: 60_000 })

/**
 * The URL of an archive import: `endpoint` is either the new operator's
 * `endpoints.archiveImports` (…/v1/archive-imports) or its base URL.
 *
 * @example
 * ```ts
 * archiveImportUrl('https://vault-b.example', portId) // 'https://vault-b.example/v1/archive-imports/<portId>'
 * ```
 */
export function archiveImportUrl(endpoint: string, portId: string): string {
  const base = endpoint.replace(/\/+$/, '')
  return /\/archive-imports$/.test(base) ? `${base}/${portId}` : `${base}/v1/archive-imports/${portId}`
}

/** @internal */
export interface TransferInput {
  archive: () => Promise<Readable>
  url: string
  iss: string
  aud: string
  key: PrivateJwk
  dispatcher?: Dispatcher | undefined
  options?: TransferArchiveOptions
}

/** @internal PUT the archive, retrying until 200 or 201. */
export async function putArchive(input: TransferInput): Promise<{ status: number; response: ArchiveImportResponse }> {
  const dir = await mkdtemp(join(input.options?.tempDir ?? tmpdir(), 'timbre-export-'))
  try {
    const file = join(dir, 'archive.tar')
    const hash = createHash('sha256')
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        cb(null, chunk)
      },
    })
    await pipeline(await input.archive(), meter, createWriteStream(file))
    const bodyDigest = hash.digest('base64url')
    const { size } = await stat(file)
    const http = new JsonHttp({ dispatcher: input.dispatcher, timeoutMs: input.options?.timeoutMs ?? 600_000 })
    const path = new URL(input.url).pathname
    const res = await withRetry(
      async () => {
        const authorization = await createRequestProof({ key: input.key, iss: input.iss, aud: input.aud, method: 'PUT', path, bodyDigest })
        return http.send<unknown>({
          method: 'PUT',
          url: input.url,
          headers: { authorization, 'content-type': 'application/x-tar', 'content-length': String(size) },
          body: createReadStream(file),
        })
      },
      { ...TRANSFER_RETRY, ...input.options?.retry },
    )
    if (res.status !== 200 && res.status !== 201) throw new TimbreError('unexpected-response', { detail: `archive import answered ${res.status}`, requestId: res.requestId })
    let response: ArchiveImportResponse
    try {
      response = assertSchema<ArchiveImportResponse>('archive-import-response.json', res.body)
    } catch (cause) {
      throw new TimbreError('unexpected-response', { detail: 'the archive import answer is malformed', requestId: res.requestId, cause })
    }
    return { status: res.status, response }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
