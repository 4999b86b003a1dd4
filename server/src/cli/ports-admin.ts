// What every `timbre ports …` command shares: the admin API of a running
// node (--url, default the configured base URL or http://host:port) with its
// token (--admin-token / TIMBRE_ADMIN_TOKEN, else the data dir's admin-token
// file), and problem+json answers turned into exit code 1 with the code.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request, type Dispatcher } from 'undici'
import { loadConfig } from '../config/load-config.js'
import { MEMORY_DATA_DIR } from '../config/schema.js'
import { NodeError, isNodeErrorCode } from '../errors.js'
import { UsageError, type Flags } from './args.js'
import type { CliIo } from './io.js'

export const adminOptions = { url: { type: 'string' }, json: { type: 'boolean' } } as const

export interface AdminTarget {
  url: string
  token: string
}

export function adminTarget(flags: Flags, io: CliIo): AdminTarget {
  const config = loadConfig({ env: io.env, flags })
  const url = (typeof flags.url === 'string' ? flags.url : config.baseUrl ?? `http://${config.host}:${config.port}`).replace(/\/+$/, '')
  let token = config.adminToken
  const file = join(config.dataDir, 'admin-token')
  if (!token && config.dataDir !== MEMORY_DATA_DIR && existsSync(file)) token = readFileSync(file, 'utf8').trim()
  if (!token) throw new UsageError('no admin token: pass --admin-token, set TIMBRE_ADMIN_TOKEN, or run where the node\'s data dir is')
  return { url, token }
}

export interface AdminAnswer<T> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
}

/** One JSON call of the admin API; a problem answer throws NodeError with its code. */
export async function adminCall<T>(target: AdminTarget, method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<T> {
  let res: Dispatcher.ResponseData
  try {
    res = await request(target.url + path, {
      method,
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
  } catch (err) {
    throw new NodeError('unavailable', { detail: `${target.url} is unreachable: ${(err as Error).message}` })
  }
  const text = await res.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  if (res.statusCode >= 400) {
    const code = json?.code
    throw new NodeError(isNodeErrorCode(code) ? code : 'internal-error', { detail: json?.detail ?? `HTTP ${res.statusCode}` })
  }
  return json as T
}

export interface PortView {
  portId: string
  address: string
  donor: string
  recipientOperator: string
  status: string
  cutoverAt: string
  requestedAt: string
  reason?: { code: string; detail?: string }
}

export function printPort(io: CliIo, p: PortView, json: boolean): void {
  if (json) io.out(JSON.stringify(p, null, 2))
  else io.out(`${p.portId}\t${p.address}\t${p.donor} → ${p.recipientOperator}\t${p.status}${p.reason ? ` (${p.reason.code})` : ''}\tcut-over ${p.cutoverAt}`)
}
