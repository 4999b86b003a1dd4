// `timbre ports …` against a running node's admin API (real HTTP): code,
// request (refused), list, show, cancel (refused), export with progress.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../src/cli/main.js'
import { portsExport } from '../src/cli/ports-export.js'
import { call } from './helpers/http.js'
import { startTestNode, TEST_ADMIN_TOKEN } from './helpers/node.js'

const node = await startTestNode(t, { overrides: { nodeId: 'cli-node' } })
const io = () => {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} } }
}
const base = ['--url', node.url, '--admin-token', TEST_ADMIN_TOKEN]
const address = (await call(node.url, 'POST', '/v1/admin/vault-addresses', { admin: true, body: {} })).json.address as string

t.test('ports code prints the code once', async (t) => {
  const c = io()
  t.equal(await runCli(['ports', 'code', '--address', address, ...base], c.io), 0)
  t.match(c.out[0], /^porting code for [0-9A-Z]{16}: [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/)
  const j = io()
  t.equal(await runCli(['ports', 'code', '--address', address, '--json', ...base], j.io), 0)
  t.match(JSON.parse(j.out.join('\n')), { address, code: /^[0-9A-Z]{12}$/ })
})

t.test('ports request with a wrong code fails with its code', async (t) => {
  const c = io()
  t.equal(await runCli(['ports', 'request', '--address', address, '--code', 'AAAA-AAAA-AAAA', ...base], c.io), 1)
  t.match(c.err.join('\n'), /porting-code-invalid/)
  t.equal(await runCli(['ports', 'request', '--address', address, ...base], io().io), 2, '--code is required')
})

t.test('ports list, show, cancel', async (t) => {
  const c = io()
  t.equal(await runCli(['ports', 'list', ...base], c.io), 0)
  t.same(c.out, ['no ports'])
  t.equal(await runCli(['ports', 'list', '--status', 'bogus', ...base], io().io), 2)
  const s = io()
  t.equal(await runCli(['ports', 'show', '--id', '01937c1f-2a00-7b00-8000-00000000a001', ...base], s.io), 1)
  t.match(s.err.join('\n'), /not-found/)
  t.equal(await runCli(['ports', 'cancel', '--id', '01937c1f-2a00-7b00-8000-00000000a001', ...base], io().io), 1)
  t.equal(await runCli(['ports', 'list', '--url', node.url, '--admin-token', 'wrong-token-0123456789'], io().io), 1, 'a wrong token is refused')
})

t.test('ports export streams the archive with progress on a terminal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-export-'))
  const out = join(dir, 'vault.tar')
  const c = io()
  const progress: string[] = []
  const flags = { address, out, url: node.url, 'admin-token': TEST_ADMIN_TOKEN }
  t.equal(await portsExport(flags, c.io, { isTTY: true, write: (s) => progress.push(s) }), 0)
  t.match(c.out[0], new RegExp(`exported ${address}: 0 documents, \\d+ bytes`))
  t.match(progress.at(-1), /0\/0 documents\n$/)
  const tar = readFileSync(out)
  t.equal(tar.subarray(0, 12).toString('latin1'), 'manifest.jws', 'first entry is the manifest')
  const piped = io()
  t.equal(await runCli(['ports', 'export', '--address', address, '--out', join(dir, 'b.tar'), ...base], piped.io), 0, 'without a TTY: one summary line')
  const missing = io()
  t.equal(await runCli(['ports', 'export', '--address', 'K7QM3X9R2VHD8P7H', '--out', join(dir, 'c.tar'), ...base], missing.io), 1)
})
