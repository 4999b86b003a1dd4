// Memory: the node's RSS, sampled every second inside the node process
// (process.memoryUsage.rss), under sustained submission load for 60 s
// (quick: 10 s). All roles, worker ON (it relays to its own vault role), on
// PostgreSQL when available. Flat = the least-squares slope over the second
// half of the samples.
import { pgAvailable } from '../lib/pg.js'
import { step } from '../lib/progress.js'
import { generateSubmissions, openAccount, registerSender, startTimbreNode } from '../lib/timbre.js'
import { fire, ROLES } from './submission.js'

function slopeMBPerMin(samples) {
  const n = samples.length
  if (n < 2) return 0
  const xs = samples.map((s) => s.t / 60_000)
  const ys = samples.map((s) => s.rss / 1e6)
  const mx = xs.reduce((a, b) => a + b) / n
  const my = ys.reduce((a, b) => a + b) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den ? num / den : 0
}

export default async function memory(ctx) {
  const seconds = ctx.quick ? 10 : 60
  const database = (await pgAvailable()) ? 'postgres' : 'pglite'
  let s = step(`memory (${database}): starting node`)
  const node = await startTimbreNode({ nodeId: 'router.bench', roles: ROLES, database, worker: true, delivery: { pollIntervalMs: 20 } })
  try {
    const recipients = []
    for (let i = 0; i < 10; i++) recipients.push(await openAccount(node))
    const sender = await registerSender(node)
    s.done()
    const gen = (count) => generateSubmissions({ count, sender, aud: node.nodeId, recipients })
    s = step('memory: calibrating')
    const warm = await fire(node, await gen(300))
    s.done(`${Math.round(warm.okPerSecond)} accepted/s`)
    // The calibration runs cold (the node's rate more than doubles once warm):
    // seal four times what it suggests, and stop the load at `seconds`.
    const count = Math.min(60_000, Math.ceil(Math.max(warm.okPerSecond, 20) * seconds * 4))
    s = step(`memory: sealing ${count} documents`)
    const items = await gen(count)
    s.done()
    const before = await node.rss()
    s = step(`memory: ${seconds} s of submissions`)
    const t0 = Date.now()
    const run = await fire(node, items, { onTick: (n) => s.update(`${n}/${count}`), stopAfterSeconds: seconds })
    const samples = (await node.rss()).rssSamples
    s.done(`${Math.round(run.okPerSecond)} accepted/s`)
    const during = samples.filter((x) => x.t >= before.rssSamples.at(-1)?.t ?? 0)
    const window = during.length ? during : samples
    const peak = Math.max(...window.map((x) => x.rss))
    const half = window.slice(Math.floor(window.length / 2))
    const slope = slopeMBPerMin(half)
    return {
      database,
      roles: ROLES,
      worker: 'on',
      loadSeconds: (Date.now() - t0) / 1000,
      run,
      rssBeforeMB: +(before.rssNow / 1e6).toFixed(1),
      samplesMB: window.map((x) => +(x.rss / 1e6).toFixed(1)),
      summary: {
        database,
        acceptedPerSecond: Math.round(run.okPerSecond),
        loadSeconds: +((Date.now() - t0) / 1000).toFixed(1),
        peakRssMB: Math.round(peak / 1e6),
        secondHalfSlopeMBPerMin: +slope.toFixed(1),
        // Flat: not growing (a falling second half is the heap settling after the ramp).
        flat: slope < 5,
      },
    }
  } finally {
    await node.stop()
  }
}
