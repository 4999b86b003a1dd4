// The `timbre` command line: senders and keys commands on the configured
// database (no running node), and `timbre start` as a real process.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../src/cli/main.js'
import type { CliIo } from '../src/cli/io.js'
import { startNode } from '../src/node.js'
import { freshDatabaseUrl, onPostgres } from './helpers/db.js'
import { testConfig } from './helpers/node.js'
import { senderKey } from './helpers/keys.js'

const BIN = fileURLToPath(new URL('../dist/bin/timbre.js', import.meta.url))

/** Run the CLI in-process with captured output. */
async function cli(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env }
  const code = await runCli(argv, io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const dir = mkdtempSync(join(tmpdir(), 'timbre-cli-'))
const databaseUrl = await freshDatabaseUrl(t)
// Senders commands work on whatever database the configuration names.
const env: Record<string, string> = { TIMBRE_DATA_DIR: join(dir, 'data'), ...(databaseUrl && { DATABASE_URL: databaseUrl }) }

t.test('help and usage errors', async (t) => {
  const help = await cli(env, '--help')
  t.equal(help.code, 0)
  t.match(help.out, /timbre senders add --id/)
  t.match(help.out, /TIMBRE_DATA_DIR/)
  t.equal((await cli(env)).code, 0, 'no arguments prints help')
  t.equal((await cli(env, 'frobnicate')).code, 2)
  const missing = await cli(env, 'senders', 'add', '--jwk', 'x.json')
  t.equal(missing.code, 2)
  t.match(missing.err, /--id is required/)
  t.equal((await cli(env, 'senders', 'list', '--bogus')).code, 2, 'unknown flag')
  const badConfig = await cli({ ...env, PORT: 'eighty' }, 'senders', 'list')
  t.equal(badConfig.code, 2)
  t.match(badConfig.err, /PORT \(environment\)/)
})

t.test('keys show before the first start says so', async (t) => {
  const res = await cli(env, 'keys', 'show')
  t.equal(res.code, 1)
  t.match(res.err, /no node keys yet/)
})

t.test('senders add / list / disable / enable', async (t) => {
  const key = await senderKey()
  const pub = join(dir, 'sender.pub.json')
  writeFileSync(pub, JSON.stringify(key.bare))
  const added = await cli(env, 'senders', 'add', '--id', '0009:CLI1', '--jwk', pub, '--webhook', 'https://hooks.example/t', '--name', 'CLI Org')
  t.equal(added.code, 0, added.err)
  t.match(JSON.parse(added.out), { id: '0009:CLI1', kid: key.publicJwk.kid, status: 'active', webhookUrl: 'https://hooks.example/t', name: 'CLI Org' })

  const dup = await cli(env, 'senders', 'add', '--id', '0009:CLI1', '--jwk', pub)
  t.equal(dup.code, 1)
  t.match(dup.err, /sender-exists/)

  const priv = join(dir, 'sender.key.json')
  writeFileSync(priv, JSON.stringify(key.privateJwk))
  const refused = await cli(env, 'senders', 'add', '--id', '0009:CLI2', '--jwk', priv)
  t.equal(refused.code, 1)
  t.match(refused.err, /schema-violation.*private/)

  t.equal((await cli(env, 'senders', 'add', '--id', '0009:CLI3', '--jwk', join(dir, 'missing.json'))).code, 2)

  const list = await cli(env, 'senders', 'list')
  t.equal(list.code, 0)
  t.match(list.out, /^0009:CLI1\tactive\t/m)
  t.notMatch(list.out, /CLI2/)

  t.equal((await cli(env, 'senders', 'disable', '--id', '0009:CLI1')).code, 0)
  const json = JSON.parse((await cli(env, 'senders', 'list', '--json')).out)
  t.equal(json.senders[0].status, 'disabled')
  t.equal((await cli(env, 'senders', 'enable', '--id', '0009:CLI1')).out, '0009:CLI1\tactive')
  const unknown = await cli(env, 'senders', 'disable', '--id', '0009:NOBODY')
  t.equal(unknown.code, 1)
  t.match(unknown.err, /not-found/)
})

t.test('keys show prints the public JWKS once a node has started', async (t) => {
  const node = await startNode({ config: testConfig({ dataDir: env.TIMBRE_DATA_DIR!, databaseUrl: databaseUrl ?? null }) })
  const kid = node.keys.signingKey.kid
  if (!onPostgres) {
    // One process per PGlite data dir: the CLI refuses instead of corrupting it.
    const busy = await cli(env, 'senders', 'list')
    t.equal(busy.code, 1)
    t.match(busy.err, /in use by this process/)
  }
  await node.close()
  const res = await cli(env, 'keys', 'show')
  t.equal(res.code, 0, res.err)
  const jwks = JSON.parse(res.out)
  t.equal(jwks.keys.length, 2)
  t.ok(jwks.keys.some((k: { kid: string }) => k.kid === kid))
  t.notMatch(res.out, /"d"/)
})

t.test('timbre start runs until SIGTERM and shuts down cleanly', { skip: existsSync(BIN) ? false : 'build first (npx tsc -b server)' }, async (t) => {
  const dataDir = join(dir, 'start')
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--data-dir', dataDir, '--node-id', 'cli-node'], {
    env: { PATH: process.env.PATH, ...(databaseUrl && { DATABASE_URL: databaseUrl }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines: string[] = []
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8')
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        const entry = JSON.parse(line) as Record<string, unknown>
        if (entry.msg === 'timbre node started') resolve(entry)
      }
    })
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${lines.join('\n')}`)))
  })
  t.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(started.nodeId, 'cli-node')
  const warnings = lines.filter((l) => /INSECURE\/DEV DEFAULT/.test(l))
  t.ok(warnings.some((l) => /UNENCRYPTED/.test(l)), 'insecure defaults announced')
  if (!onPostgres) t.ok(warnings.some((l) => /NEVER fsyncs/.test(l)), 'PGlite durability caveat announced')
  const ready = await fetch(`${started.url as string}/ready`)
  t.equal(ready.status, 200)
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exit, 0, 'exit code 0 after graceful shutdown')
  t.ok(lines.some((l) => /timbre node stopped/.test(l)))
  t.notOk(existsSync(join(dataDir, 'pgdata.lock')), 'data dir lock released')
  t.notMatch(lines.join('\n'), /"d":"/, 'no private key material in the logs')
})
