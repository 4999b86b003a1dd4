// A dump of a freshly migrated PGlite database, cached in the OS temp dir
// and shared by every test file: loading it takes a fraction of initdb.
// The cache key covers the PGlite version and the migrations' code.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { openStore } from '../../src/store/db.js'
import { MIGRATIONS } from '../../src/store/migrations/index.js'

function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
}

function cacheFile(): string {
  const h = createHash('sha256').update(pgliteVersion())
  for (const [name, m] of Object.entries(MIGRATIONS)) h.update(name).update(String(m.up))
  return join(tmpdir(), `timbre-pglite-template-${h.digest('hex').slice(0, 16)}.tar`)
}

let cached: Promise<Blob> | undefined

async function build(file: string): Promise<Blob> {
  if (existsSync(file)) return new Blob([readFileSync(file)])
  const store = await openStore({ dataDir: 'memory:', databaseUrl: null })
  try {
    const dump = await store.pglite!.dumpDataDir('none')
    // Write then rename: parallel test files never read a half-written file.
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()))
    renameSync(tmp, file)
    return dump
  } finally {
    await store.close()
  }
}

/** The migrated-database template for in-memory PGlite stores. */
export function pgliteTemplate(): Promise<Blob> {
  cached ??= build(cacheFile())
  return cached
}
