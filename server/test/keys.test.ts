// Node keys: created once, persisted, shared by processes on one database
// (TMB-TRUST-002, -006, -007).
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadOrCreateNodeKeys } from '../src/domain/node-keys.js'
import { openStore } from '../src/store/db.js'
import { NodeKeysRepository } from '../src/store/node-keys-repository.js'
import { freshDatabaseUrl, onPostgres, testStore } from './helpers/db.js'
import { call } from './helpers/http.js'
import { startNode } from '../src/node.js'
import { testConfig } from './helpers/node.js'

t.test('keys persist across restarts on a PGlite data dir', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'timbre-keys-'))
  // The node owns its store here: it opens (and locks) the data dir itself.
  const a = await startNode({ config: testConfig({ dataDir }) })
  const jwksA = (await call(a.listenUrl, 'GET', '/.well-known/jwks.json')).json
  await a.close()
  const b = await startNode({ config: testConfig({ dataDir }) })
  t.teardown(() => b.close())
  const jwksB = (await call(b.listenUrl, 'GET', '/.well-known/jwks.json')).json
  t.same(jwksB, jwksA, 'same keys after a restart')
  t.equal(b.keys.signingKey.kid, a.keys.signingKey.kid)
  t.equal(b.keys.encryptionKey.d, a.keys.encryptionKey.d, 'same private key loaded')
})

t.test('concurrent first starts agree on one key per use', async (t) => {
  if (onPostgres) {
    // Separate pools on one PostgreSQL database: the partial unique index decides.
    const url = await freshDatabaseUrl(t)
    const stores = await Promise.all([1, 2, 3].map(() => openStore({ dataDir: 'memory:', databaseUrl: url, poolSize: 2 })))
    t.teardown(() => Promise.all(stores.map((s) => s.close())))
    const results = await Promise.all(stores.map((s) => loadOrCreateNodeKeys(new NodeKeysRepository(s.db))))
    const kids = new Set(results.map((r) => r.keyring.signingKey.kid))
    t.equal(kids.size, 1, 'one signing key')
    t.equal(new Set(results.map((r) => r.keyring.encryptionKey.kid)).size, 1, 'one encryption key')
    t.equal(results.reduce((n, r) => n + r.created.length, 0), 2, 'exactly two inserts won')
    t.equal((await new NodeKeysRepository(stores[0]!.db).list()).length, 2)
  } else {
    // PGlite is one connection, so the race interleaves on it; the index still decides.
    const store = await testStore(t)
    const repo = new NodeKeysRepository(store.db)
    const results = await Promise.all([1, 2, 3].map(() => loadOrCreateNodeKeys(repo)))
    t.equal(new Set(results.map((r) => r.keyring.signingKey.kid)).size, 1)
    t.equal(new Set(results.map((r) => r.keyring.encryptionKey.kid)).size, 1)
    t.equal((await repo.list()).length, 2)
  }
})

t.test('a retired key stays published with its not_after', async (t) => {
  const store = await testStore(t)
  const repo = new NodeKeysRepository(store.db)
  const { keyring: old } = await loadOrCreateNodeKeys(repo, new Date('2025-01-01T00:00:00Z'))
  await store.db.updateTable('node_keys').set({ not_after: new Date('2026-01-01T00:00:00Z') }).where('kid', '=', old.signingKey.kid).execute()
  const { keyring, created } = await loadOrCreateNodeKeys(repo, new Date('2026-01-01T00:00:00Z'))
  t.equal(created.length, 1, 'a new current signing key')
  const jwks = keyring.jwks().keys
  t.equal(jwks.length, 3)
  const retired = jwks.find((k) => k.kid === old.signingKey.kid)!
  t.equal(retired.timbre_not_before, '2025-01-01T00:00:00.000Z')
  t.equal(retired.timbre_not_after, '2026-01-01T00:00:00.000Z')
  t.not(keyring.signingKey.kid, old.signingKey.kid)
  t.equal(keyring.privateKey(old.encryptionKey.kid)?.kid, old.encryptionKey.kid)
})
