#!/usr/bin/env node
// `npm run bench`: measures this machine's ceilings and the node's figures in
// ONE run, and reports every figure as a ratio to its ceiling, because shared
// machines are noisy and absolute numbers move from run to run.
//   --quick        short durations (CI smoke: proves the harness works, no thresholds)
//   --duration s   seconds per load phase (default 10, quick 2)
//   --only a,b     run only these sections
//   --profile dir  write V8 CPU profiles of the node child processes into dir
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ceilings } from './sections/ceilings.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
  },
})
const quick = values.quick
const duration = Number(values.duration ?? (quick ? 2 : 10))
const only = values.only ? new Set(values.only.split(',')) : undefined

const sections = [['ceilings', ceilings]]
for (const name of ['submission', 'end-to-end', 'directory', 'portability', 'memory']) {
  try {
    const mod = await import(`./sections/${name}.js`)
    sections.push([name, mod.default])
  } catch (err) {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err
  }
}

const results = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
  options: { quick, duration },
  sections: {},
}
const ctx = { quick, duration, results, ...(values.profile ? { cpuProf: values.profile } : {}) }
let failed = false
for (const [name, run] of sections) {
  if (only && !only.has(name)) continue
  try {
    results.sections[name] = await run(ctx)
  } catch (err) {
    failed = true
    results.sections[name] = { error: String(err?.stack ?? err) }
    process.stderr.write(`section ${name} failed: ${err?.stack ?? err}\n`)
  }
}
results.finishedAt = new Date().toISOString()

const dir = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(dir, { recursive: true })
const file = values.out ?? `${dir}${results.startedAt.slice(0, 10)}${quick ? '-quick' : ''}.json`
writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
process.stderr.write(`results written to ${file}\n`)
console.log(JSON.stringify(summary(results), null, 2))
process.exit(failed ? 1 : 0)

function summary(r) {
  const out = {}
  for (const [name, s] of Object.entries(r.sections)) out[name] = s.summary ?? s
  return out
}
