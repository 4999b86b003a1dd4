// CI smoke of `npm run bench`: the harness runs end to end in its quick mode
// and writes results of the expected shape. No thresholds: benchmarks are
// not timed tests (issue 6).
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

t.test('npm run bench -- --quick (ceilings, submission)', { timeout: 240_000 }, async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'timbre-bench-smoke-')), 'results.json')
  const child = spawn(process.execPath, ['bench/run.js', '--quick', '--duration', '1', '--only', 'ceilings,submission', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += String(d) })
  child.stdout.resume()
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 0, `exit 0${code === 0 ? '' : `\n${stderr.slice(-4000)}`}`)
  const r = JSON.parse(readFileSync(out, 'utf8'))
  t.type(r.machine?.cpus, 'number')
  t.equal(r.options?.quick, true)
  const c = r.sections.ceilings?.summary
  for (const k of ['helloGetPerSecond', 'validatedPost10kPerSecond', 'ed25519SignPerSecond', 'ed25519VerifyPerSecond']) t.type(c?.[k], 'number', `ceilings.${k}`)
  const s = r.sections.submission?.summary
  t.ok(s, 'submission summary')
  for (const db of ['postgres', 'pglite']) {
    const f = s[db]
    if (f?.skipped) { t.comment(`${db}: ${f.skipped}`); continue }
    for (const k of ['acceptedPerSecond', 'ratioToPostCeiling', 'p50Ms', 'p99Ms', 'non2xx']) t.type(f?.[k], 'number', `submission.${db}.${k}`)
  }
})
