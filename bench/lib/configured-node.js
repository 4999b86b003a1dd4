// Nodes with arbitrary config overrides (objection window, replica and
// worker poll intervals) for the directory and portability sections, each in
// its own child process on a fresh PostgreSQL database dropped at stop.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { startChild } from './child.js'
import { freshDatabase } from './pg.js'

const child = new URL('./configured-node-child.js', import.meta.url).pathname

/** Start a node on a fresh PostgreSQL database with these config overrides (nodeId, roles, directoryUrl, portability, …). */
export async function startConfiguredNode(overrides, { worker = true } = {}) {
  const adminToken = randomBytes(24).toString('base64url')
  const dataDir = mkdtempSync(join(os.tmpdir(), 'timbre-bench-'))
  const db = await freshDatabase()
  let c
  try {
    c = await startChild(child, [], {
      BENCH_NODE_OVERRIDES: JSON.stringify({ ...overrides, dataDir, databaseUrl: db.url, adminToken }),
      BENCH_NODE_WORKER: String(worker),
    })
  } catch (err) {
    await db.drop().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  return {
    nodeId: overrides.nodeId,
    url: c.url,
    adminToken,
    openMs: c.info.openMs,
    database: 'postgres',
    databaseUrl: db.url,
    async stop() {
      await c.stop()
      await db.drop().catch((err) => process.stderr.write(`drop ${db.name}: ${err.message}\n`))
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
