/**
 * Reports: the HTML file is self-contained and renders its summary in
 * headless Chromium; JUnit and JSON carry every outcome; the signed report
 * verifies with the runner key and fails when tampered or pinned to another key.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSigningKey, toPublicJwk } from '@timbre/sdk'
import { runSuite, renderHtml, renderJunit, renderJson, signReport, verifySignedReport } from '../src/index.js'
import { startVault, SUITE_OPERATOR } from './helpers/vault.js'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

t.test('reports', async (t) => {
  const vault = await startVault()
  t.teardown(() => vault.close())
  const report = await runSuite({ target: vault.url, profile: 'vault-operator', filter: 'vault.relay.*,vault.auth.replay,directory.*', suite: { operatorId: SUITE_OPERATOR, key: vault.suiteKey }, vault: { addresses: vault.addresses } })
  const html = renderHtml(report)
  t.notMatch(html, /<script|https?:\/\/(?!timbre\.dev)[^"'\s<]*\.(css|js)/i, 'no scripts and no external assets')
  t.match(html, /id="summary"/)
  t.match(html, /href="\.\.\/spec\/06-relay\.md#tmb-rly-008"/, 'requirements link to their chapter and anchor')
  t.match(html, /directory\.lookup\.signed/, 'other-profile assertions are listed')
  const junit = renderJunit(report)
  t.match(junit, /<testsuites[^>]+tests="\d+"/)
  t.match(junit, /<skipped message="profile directory/, 'INAPPLICABLE is skipped, not passed')
  const json = JSON.parse(renderJson(report))
  t.equal(json.outcomes.length, report.outcomes.length)
  t.ok(json.outcomes.every((o: any) => Array.isArray(o.exchanges)))
  t.notMatch(renderJson(report), new RegExp(vault.suiteKey.d), 'the private key is not in the report')

  const signed = await signReport(report, vault.suiteKey)
  const v = await verifySignedReport(signed)
  t.equal(v.report.counts.total, report.counts.total)
  await t.resolves(verifySignedReport(signed, toPublicJwk(vault.suiteKey)), 'verifies with the pinned key')
  await t.rejects(verifySignedReport(signed, toPublicJwk(await generateSigningKey())), 'fails with another pinned key')
  const [h, p, s] = signed.split('.')
  const original = JSON.parse(Buffer.from(p!, 'base64url').toString())
  // Flip the verdict: a tamperer's goal, and guaranteed to change the payload.
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...original, passed: !original.passed })).toString('base64url')}.${s}`
  await t.rejects(verifySignedReport(tampered), 'a tampered report fails')

  if (!CHROMIUM) {
    t.pass('headless Chromium not found at /usr/bin/chromium: install it with `apt-get install -y chromium` to check that the HTML summary renders', { skip: true })
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'timbre-conformance-'))
  const file = join(dir, 'report.html')
  writeFileSync(file, html)
  const dom = execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] })
  t.match(dom, /<section id="summary">/, 'Chromium rendered the summary')
  t.match(dom, new RegExp(`id="count-total">${report.counts.total}<`), 'with the total count')
  t.match(dom, new RegExp(`id="count-pass">${report.counts.PASS}<`), 'and the pass count')
})
