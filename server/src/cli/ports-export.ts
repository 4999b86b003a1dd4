// `timbre ports export --address A --out file.tar`: the person's self-export
// (TMB-ARC-013), streamed to the file as it arrives, never held whole, with
// progress (bytes and documents) on a terminal and one summary line otherwise.
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { request } from 'undici'
import { NodeError } from '../errors.js'
import { requireFlag, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminOptions, adminTarget } from './ports-admin.js'

export const usage = 'timbre ports export --address <vault address> --out <file.tar> [--url <node>] [--admin-token <token>]'
export const options = { ...adminOptions, address: { type: 'string' }, out: { type: 'string' } } as const

const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`

export async function portsExport(flags: Flags, io: CliIo, tty: { isTTY?: boolean; write(s: string): void } = process.stderr): Promise<number> {
  const address = requireFlag(flags, 'address')
  const out = requireFlag(flags, 'out')
  const target = adminTarget(flags, io)
  const res = await request(`${target.url}/v1/admin/vault-addresses/${encodeURIComponent(address)}/archive`, { headers: { authorization: `Bearer ${target.token}` } })
  if (res.statusCode !== 200) {
    const text = await res.body.text()
    let code = 'internal-error'
    let detail = `HTTP ${res.statusCode}`
    try { ({ code, detail } = JSON.parse(text)) } catch { /* not a problem body */ }
    throw new NodeError(code as never, { detail })
  }
  const total = Number(res.headers['x-timbre-documents'] ?? NaN)
  let bytes = 0
  let documents = 0
  let tail = ''
  let last = 0
  const show = (final = false) => {
    if (!tty.isTTY) return
    const now = Date.now()
    if (!final && now - last < 100) return
    last = now
    tty.write(`\r${mb(bytes)}  ${documents}${Number.isFinite(total) ? `/${total}` : ''} documents${final ? '\n' : ''}`)
  }
  // Documents are counted by their metadata.json entries as the tar streams by.
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length
      const text = tail + chunk.toString('latin1')
      const found = text.match(/documents\/\d{6}\/metadata\.json\0/g)
      if (found) documents += found.length
      tail = text.slice(-40)
      show()
      cb(null, chunk)
    },
  })
  const partial = `${out}.partial`
  try {
    await pipeline(res.body, meter, createWriteStream(partial))
    await rename(partial, out)
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
  show(true)
  io.out(`exported ${address}: ${documents} documents, ${bytes} bytes → ${out}`)
  return 0
}
