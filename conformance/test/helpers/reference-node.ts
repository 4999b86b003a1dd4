/**
 * Start the reference node the way server/README.md does —
 * `node server/dist/bin/timbre.js start` — as a child process on a free
 * port, a temporary PGlite data dir (or a fresh database on the
 * DATABASE_URL PostgreSQL server) and a known admin token.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../../', import.meta.url))
export const TIMBRE_BIN = join(REPO, 'server/dist/bin/timbre.js')

export interface ReferenceNode {
  url: string
  adminToken: string
  dataDir: string
  database: string
  child: ChildProcess
  output(): string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** A fresh database on the DATABASE_URL server; returns its URL and a drop function. */
async function freshPostgres(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  // pg is a dependency of @timbre/server; resolve it from there.
  const { createRequire } = await import('node:module')
  const require = createRequire(join(REPO, 'server/package.json'))
  const pg = require('pg') as typeof import('pg')
  const name = `timbre_conf_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const u = new URL(url)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

export async function startReferenceNode(env: Record<string, string> = {}): Promise<ReferenceNode> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'timbre-conf-node-'))
  const adminToken = randomBytes(24).toString('base64url')
  const pgUrl = process.env.DATABASE_URL
  const db = pgUrl ? await freshPostgres(pgUrl) : undefined
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    TIMBRE_DATA_DIR: dataDir,
    TIMBRE_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'warn',
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...env,
  }
  if (!db) delete childEnv.DATABASE_URL
  const child = spawn(process.execPath, [TIMBRE_BIN, 'start'], {
    cwd: dataDir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode}:\n${out}`)
    try {
      const r = await fetch(`${url}/ready`)
      if (r.ok) break
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the node did not become ready within 60 s:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    adminToken,
    dataDir,
    database: db ? db.url.replace(/:[^:@/]*@/, ':***@') : `PGlite in ${dataDir}`,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      await db?.drop().catch(() => undefined)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
