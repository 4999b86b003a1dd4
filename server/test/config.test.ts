import t from 'tap'
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig, resolveAdminToken, insecureDefaults } from '../src/config/index.js'

function problems(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems]
    throw err
  }
  return []
}

t.test('defaults: a development node on loopback with all roles', async (t) => {
  const c = loadConfig({ env: {} })
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8080)
  t.equal(c.dataDir, './.timbre')
  t.equal(c.databaseUrl, null)
  t.equal(c.nodeId, 'localhost-8080')
  t.same(c.roles, ['routing-node', 'directory', 'vault-operator'])
  t.equal(c.limits.maxContentBytes, 10_485_760)
  t.equal(c.limits.maxRequestBytes, 15_000_000)
  t.equal(c.delivery.windowSeconds, 259_200)
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.limits) && Object.isFrozen(c.roles), 'deep-frozen')
  t.throws(() => { (c as { port: number }).port = 1 })
})

t.test('precedence: file < environment < flags < overrides', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-config-'))
  const file = join(dir, 'node.json')
  writeFileSync(file, JSON.stringify({ port: 9001, logLevel: 'debug', delivery: { retryBaseMs: 50 } }))
  const c = loadConfig({
    env: { TIMBRE_CONFIG: file, PORT: '9002', TIMBRE_ROLES: 'routing-node, directory', DATABASE_URL: 'postgres://u@h/db' },
    flags: { port: '9003' },
    overrides: { logLevel: 'warn' },
  })
  t.equal(c.port, 9003, 'flag wins over env and file')
  t.equal(c.logLevel, 'warn', 'override wins over file')
  t.equal(c.delivery.retryBaseMs, 50, 'file value kept')
  t.equal(c.delivery.retryCapMs, 900_000, 'sibling default kept when the file sets one member')
  t.same(c.roles, ['routing-node', 'directory'])
  t.equal(c.databaseUrl, 'postgres://u@h/db')
  t.equal(c.nodeId, 'localhost-9003', 'derived from the final port')
})

t.test('node id derivation', async (t) => {
  t.equal(loadConfig({ env: { TIMBRE_BASE_URL: 'https://Router.Example' } }).nodeId, 'router.example')
  t.equal(loadConfig({ env: { TIMBRE_BASE_URL: 'http://127.0.0.1:8082' } }).nodeId, 'localhost-8082')
  t.equal(loadConfig({ env: { TIMBRE_NODE_ID: 'vault-b.example' } }).nodeId, 'vault-b.example')
})

t.test('bad values are rejected, each naming its source', async (t) => {
  const p = problems(() => loadConfig({ env: { PORT: '70000', TIMBRE_ROLES: 'routing-node,mailbox', LOG_LEVEL: 'loud' }, flags: { 'node-id': 'Not An Id' } }))
  t.equal(p.length, 4, p.join('\n'))
  t.match(p.join('\n'), /port \(PORT \(environment\)\): must be <= 65535/)
  t.match(p.join('\n'), /roles\.1|roles \(TIMBRE_ROLES/)
  t.match(p.join('\n'), /logLevel \(LOG_LEVEL \(environment\)\): must be one of/)
  t.match(p.join('\n'), /nodeId \(--node-id\)/)

  t.match(problems(() => loadConfig({ env: { PORT: 'eighty' } })), [/port.*must be integer/])
  t.match(problems(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' } })), [/databaseUrl/])
  t.match(problems(() => loadConfig({ env: {}, flags: { roles: '' } })), [/roles \(--roles\).*must NOT have fewer than 1/])
  t.same(problems(() => loadConfig({ env: { TIMBRE_ROLES: '' } })), [], 'an empty variable counts as unset')
  t.match(problems(() => loadConfig({ env: { TIMBRE_ADMIN_TOKEN: 'short' } })), [/adminToken/])
  t.match(problems(() => loadConfig({ env: { TIMBRE_BASE_URL: 'ftp://x' } })), [/baseUrl/])
  t.match(problems(() => loadConfig({ env: { TIMBRE_RETRY_BASE_MS: '5000', TIMBRE_RETRY_CAP_MS: '1000' } })), [/retryCapMs.*>= delivery.retryBaseMs/])
  t.match(problems(() => loadConfig({ env: { TIMBRE_MAX_REQUEST_BYTES: '10' } })), [/maxRequestBytes/])
  t.match(problems(() => loadConfig({ env: { TIMBRE_DELIVERY_WINDOW_SECONDS: '0' } })), [/delivery.windowSeconds.*must be >= 1/])
})

t.test('config file: unknown members and broken JSON are errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-config-'))
  const unknown = join(dir, 'unknown.json')
  writeFileSync(unknown, JSON.stringify({ prot: 1, limits: { maxBytes: 3 } }))
  const p = problems(() => loadConfig({ env: {}, flags: { config: unknown } }))
  t.match(p.join('\n'), /prot \(config file .*unknown\.json\): unknown setting/)
  t.match(p.join('\n'), /limits\.maxBytes .*unknown setting/)
  const broken = join(dir, 'broken.json')
  writeFileSync(broken, '{ nope')
  t.match(problems(() => loadConfig({ env: {}, flags: { config: broken } })), [/broken\.json/])
  t.match(problems(() => loadConfig({ env: {}, flags: { config: join(dir, 'missing.json') } })), [/missing\.json/])
})

t.test('admin token: configured, else generated once into the data dir (0600)', async (t) => {
  t.same(resolveAdminToken({ adminToken: 'x'.repeat(20), dataDir: '/nonexistent' }), { token: 'x'.repeat(20), source: 'configured', path: null })
  const dir = mkdtempSync(join(tmpdir(), 'timbre-token-'))
  const first = resolveAdminToken({ adminToken: null, dataDir: dir })
  t.equal(first.source, 'generated')
  t.ok(first.token.length >= 32)
  t.equal(statSync(first.path!).mode & 0o777, 0o600)
  const second = resolveAdminToken({ adminToken: null, dataDir: dir })
  t.same(second, { ...first, source: 'file' })
  t.equal(readFileSync(first.path!, 'utf8').trim(), first.token)
  t.equal(resolveAdminToken({ adminToken: null, dataDir: 'memory:' }).source, 'ephemeral')
})

t.test('insecure development defaults are listed for the start-up warning', async (t) => {
  const c = loadConfig({ env: {} })
  const warnings = insecureDefaults(c, { token: 't', source: 'generated', path: '.timbre/admin-token' }).join('\n')
  t.match(warnings, /NEVER fsyncs/)
  t.match(warnings, /admin token was generated/)
  t.match(warnings, /UNENCRYPTED/)
  const prod = loadConfig({ env: { DATABASE_URL: 'postgres://db/x', TIMBRE_ADMIN_TOKEN: 'a-long-enough-token', TIMBRE_BASE_URL: 'https://router.example' } })
  t.same(insecureDefaults(prod, { token: 'a-long-enough-token', source: 'configured', path: null }).filter((w) => !/UNENCRYPTED/.test(w)), [])
})
