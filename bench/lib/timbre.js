// Timbre nodes for the bench: each in its own child process, on a fresh
// PostgreSQL database or a fresh PGlite data dir, plus the admin calls and
// the pre-generation of sealed submissions (worker_threads).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { generateSigningKey, toPublicJwk } from '@timbre/sdk'
import { startChild } from './child.js'
import { freshDatabase } from './pg.js'

const nodeChild = new URL('./node-child.js', import.meta.url).pathname
const sealWorker = new URL('./seal-worker.js', import.meta.url).pathname

/**
 * Start a node. `database`: 'postgres' (fresh database, dropped at stop) or
 * 'pglite' (fresh data dir on disk, removed at stop). `cpuProf`: a directory
 * to write a V8 CPU profile of the node into.
 */
export async function startTimbreNode({ nodeId, roles, database, worker = true, delivery, directoryUrl, cpuProf }) {
  const adminToken = randomBytes(24).toString('base64url')
  const dataDir = mkdtempSync(join(os.tmpdir(), 'timbre-bench-'))
  const db = database === 'postgres' ? await freshDatabase() : null
  const spec = { nodeId, roles, dataDir, databaseUrl: db?.url, directoryUrl, adminToken, worker, delivery }
  const execArgv = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []
  let child
  try {
    child = await startChild(nodeChild, [], { BENCH_NODE: JSON.stringify(spec) }, execArgv)
  } catch (err) {
    await db?.drop().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  return {
    nodeId,
    url: child.url,
    adminToken,
    openMs: child.info.openMs,
    database,
    databaseUrl: db?.url ?? null,
    async rss() {
      return child.ask({ rss: true }, 'rssSamples')
    },
    async stats() {
      return (await child.ask({ stats: true }, 'stats')).stats
    },
    async stop() {
      await child.stop()
      await db?.drop().catch((err) => process.stderr.write(`drop ${db.name}: ${err.message}\n`))
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export async function admin(node, method, path, body) {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

const payloadOf = (jws) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'))

/** Open a vault account at a vault-operator node; returns the address and its line's first encryption key. */
export async function openAccount(vaultNode) {
  const account = await admin(vaultNode, 'POST', '/v1/admin/vault-addresses', {})
  const line = payloadOf(account.line)
  return { address: account.address, recipientKey: line.encryptionKeys[0] }
}

/** Admit nodes at the directory node as operators with the keys they publish. */
export async function registerOperator(directoryNode, node, roles) {
  const jwks = await (await fetch(`${node.url}/.well-known/jwks.json`)).json()
  await admin(directoryNode, 'POST', '/v1/admin/operators', {
    id: node.nodeId,
    name: node.nodeId,
    roles,
    baseUrl: node.url,
    ...(roles.includes('vault-operator') ? { relayEndpoint: `${node.url}/v1/relay` } : {}),
    jwks: { keys: jwks.keys },
    status: 'active',
  })
}

/** A new sender registered at a routing node; returns its id and private key. */
export async function registerSender(routingNode, { webhookUrl } = {}) {
  const key = await generateSigningKey(new Date(Date.now() - 60_000))
  const id = `0009:BENCH${randomBytes(4).toString('hex').toUpperCase()}`
  const pub = toPublicJwk(key)
  await admin(routingNode, 'POST', '/v1/admin/senders', { id, name: 'Bench sender', jwk: { kty: pub.kty, crv: pub.crv, x: pub.x }, ...(webhookUrl ? { webhookUrl } : {}) })
  return { id, key }
}

/**
 * Pre-generate `count` submissions (a `docBytes` document sealed for one of
 * the recipients, a fresh request proof for `aud`, a fresh idempotency key),
 * across worker threads. Returns [{ body, headers, messageId }].
 */
export async function generateSubmissions({ count, sender, aud, recipients, docBytes = 10_240, threads = Math.max(1, os.cpus().length), onProgress }) {
  const per = Math.ceil(count / threads)
  let done = 0
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, i) => new Promise((resolve, reject) => {
      const n = Math.max(0, Math.min(per, count - i * per))
      if (n === 0) return resolve([])
      const w = new Worker(sealWorker, { workerData: { count: n, senderId: sender.id, key: sender.key, aud, recipients, docBytes } })
      w.on('message', (m) => {
        if (m.progress) {
          done += m.progress
          onProgress?.(done)
        } else if (m.items) resolve(m.items)
      })
      w.on('error', reject)
      w.on('exit', (code) => { if (code !== 0) reject(new Error(`seal worker exited with ${code}`)) })
    })),
  )
  // Interleave so that consecutive requests go to different recipients and come from different threads.
  const out = []
  for (let k = 0; k < per; k++) for (const p of parts) if (k < p.length) out.push(p[k])
  return out
}
