/**
 * `npx timbre-conformance run` against the reference node started with the
 * README command, writing every report, then `verify-report` on the signed
 * one: both exit 0.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startReferenceNode } from './helpers/reference-node.js'

const PKG = fileURLToPath(new URL('../', import.meta.url))

function npx(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['--no-install', 'timbre-conformance', ...args], { cwd, timeout: 240_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr })
    })
  })
}

t.test('npx timbre-conformance run + verify-report', async (t) => {
  const node = await startReferenceNode()
  t.teardown(() => node.stop())
  const dir = mkdtempSync(join(tmpdir(), 'timbre-conformance-cli-'))
  const config = join(dir, 'conformance.json')
  writeFileSync(config, JSON.stringify({ target: node.url, profile: 'vault-operator', admin: { token: node.adminToken } }, null, 2))
  const f = (n: string) => join(dir, n)
  const started = Date.now()
  const run = await npx(['run', '--config', config, '--report-json', f('report.json'), '--report-junit', f('report.xml'), '--report-html', f('report.html'), '--report-signed', f('report.jws')], join(PKG, '..'))
  t.comment(`run: exit ${run.code} in ${Date.now() - started} ms\n${run.stdout.split('\n').slice(-6).join('\n')}`)
  t.equal(run.code, 0, 'run exits 0', { stderr: run.stderr.slice(-2000), stdout: run.stdout.slice(-3000) })
  for (const n of ['report.json', 'report.xml', 'report.html', 'report.jws']) t.ok(existsSync(f(n)), `${n} written`)
  const json = JSON.parse(readFileSync(f('report.json'), 'utf8'))
  t.equal(json.passed, true, 'the JSON report says passed')
  t.equal(json.target, node.url)
  t.match(readFileSync(f('report.xml'), 'utf8'), /<testsuites/)
  t.match(readFileSync(f('report.html'), 'utf8'), /id="summary"/)
  const verify = await npx(['verify-report', f('report.jws')], join(PKG, '..'))
  t.equal(verify.code, 0, 'verify-report exits 0', { stderr: verify.stderr })
  t.match(verify.stdout, /Valid signature.*CONFORMANT/s)
})
