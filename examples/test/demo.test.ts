// `npm run demo` end to end, smaller: a routing node with the directory and
// two vault operator nodes on loopback, 20 documents, every one delivered
// exactly once and verified offline. Runs the built demo (`tsc -b examples`).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'demo', 'main.js')

function run(env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err })
    })
  })
}

const row = (out: string, name: string): string | undefined =>
  out.split('\n').find((l) => l.startsWith(`| ${name} `))?.split('|')[2]?.trim()

t.test('npm run demo delivers every document exactly once', { timeout: 290_000 }, async (t) => {
  t.ok(existsSync(main), `${main} exists (build first: npx tsc -b examples)`)
  const { code, out, err } = await run({ TIMBRE_DEMO_DOCUMENTS: '20', TIMBRE_DEMO_PEOPLE: '6', TIMBRE_DEMO_TIMEOUT_SECONDS: '240', CI: '1' }, 270_000)
  t.equal(code, 0, 'the demo exits 0', { out, err })
  t.equal(row(out, 'sent (stamped)'), '20')
  t.equal(row(out, 'delivered'), '20')
  t.equal(row(out, 'failed'), '0')
  t.equal(row(out, 'lost'), '0')
  t.equal(row(out, 'duplicated'), '0')
  t.equal(row(out, 'refused'), '0')
  t.equal(row(out, 'stamps verified offline'), '20')
  t.equal(row(out, 'unverified messages'), '0')
  t.match(row(out, 'at vault-a.demo') ?? '', /^10\/10 /, 'vault A holds its 10 documents')
  t.match(row(out, 'at vault-b.demo') ?? '', /^10\/10 /, 'vault B holds its 10 documents')
  t.match(out, /OK: all 20 documents delivered exactly once/)
  t.notMatch(out, /\x1b\[/, 'no terminal escapes when not on a TTY')
  t.equal(existsSync(out.match(/data in (\S+)\)/)?.[1] ?? '/nonexistent'), false, 'the temp dir is removed')
})
