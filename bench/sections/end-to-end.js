// End to end: sender → routing node (routing-node + directory, worker on) →
// vault-operator node, each node in its own child process on its own
// PostgreSQL database (PGlite when no PostgreSQL). The bench process is the
// sender and the webhook receiver: a document counts as delivered when the
// routing node's `delivered` webhook (sent after it recorded the vault's
// DepositAcceptance and its RelayAcceptance) arrives. Closed loop: 32
// documents in flight, each slot submits the next document as soon as its
// previous one is delivered, until the duration is over.
import Fastify from 'fastify'
import { Agent, request } from 'undici'
import { pgAvailable } from '../lib/pg.js'
import { step } from '../lib/progress.js'
import { generateSubmissions, openAccount, registerOperator, registerSender, startTimbreNode } from '../lib/timbre.js'

const IN_FLIGHT = 32
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null)

export default async function endToEnd(ctx) {
  const { duration, quick } = ctx
  const ceiling = ctx.results.sections.ceilings?.summary?.validatedPost10kPerSecond
  const database = (await pgAvailable()) ? 'postgres' : 'pglite'
  const delivery = { pollIntervalMs: 20, retryBaseMs: 200, retryCapMs: 2_000 }
  // Webhook receiver.
  const waiting = new Map()
  const hook = Fastify({ logger: false, bodyLimit: 1 << 20 })
  hook.post('/hook', async (req) => {
    const b = req.body
    if (b?.type === 'delivery.status') {
      const w = waiting.get(b.messageId)
      if (w && ['delivered', 'rejected', 'failed'].includes(b.status)) w(b.status)
    }
    return { ok: true }
  })
  await hook.listen({ host: '127.0.0.1', port: 0 })
  const hookUrl = `http://127.0.0.1:${hook.server.address().port}/hook`
  let s = step(`end-to-end (${database}): starting routing node and vault node`)
  const nodes = []
  try {
    const router = await startTimbreNode({ nodeId: 'router.bench', roles: ['routing-node', 'directory'], database, worker: true, delivery, cpuProf: ctx.cpuProf })
    nodes.push(router)
    const vault = await startTimbreNode({ nodeId: 'vault.bench', roles: ['vault-operator'], database, directoryUrl: router.url, delivery, cpuProf: ctx.cpuProf })
    nodes.push(vault)
    await registerOperator(router, router, ['routing-node', 'directory'])
    await registerOperator(router, vault, ['vault-operator'])
    const recipients = []
    for (let i = 0; i < 10; i++) recipients.push(await openAccount(vault))
    const sender = await registerSender(router, { webhookUrl: hookUrl })
    s.done(`router open ${router.openMs} ms, vault open ${vault.openMs} ms`)

    const agent = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 })
    const runLoop = async (items, seconds, label) => {
      const p = step(label)
      const latencies = []
      const outcomes = {}
      let next = 0
      let submitErrors = 0
      const started = performance.now()
      const end = started + seconds * 1000
      let lastFinal = started
      const slot = async () => {
        while (performance.now() < end && next < items.length) {
          const it = items[next++]
          const t0 = performance.now()
          const final = new Promise((resolve) => {
            const timer = setTimeout(() => resolve('timeout'), 60_000)
            waiting.set(it.messageId, (st) => { clearTimeout(timer); resolve(st) })
          })
          const res = await request(`${router.url}/v1/submissions`, { method: 'POST', headers: it.headers, body: it.body, dispatcher: agent })
          await res.body.text()
          if (res.statusCode !== 202) {
            submitErrors++
            waiting.delete(it.messageId)
            continue
          }
          const st = await final
          waiting.delete(it.messageId)
          outcomes[st] = (outcomes[st] ?? 0) + 1
          if (st === 'delivered') {
            lastFinal = performance.now()
            latencies.push(lastFinal - t0)
            if (latencies.length % 50 === 0) p.update(`${latencies.length} delivered`)
          }
        }
      }
      await Promise.all(Array.from({ length: IN_FLIGHT }, slot))
      const elapsed = (lastFinal - started) / 1000
      latencies.sort((a, b) => a - b)
      const r = {
        delivered: latencies.length,
        outcomes,
        submitErrors,
        elapsedSeconds: +elapsed.toFixed(2),
        documentsPerSecond: latencies.length / Math.max(elapsed, 0.001),
        latencyMs: { p50: Math.round(pct(latencies, 50)), p99: Math.round(pct(latencies, 99)), max: Math.round(latencies.at(-1) ?? 0) },
        ranOut: next >= items.length,
      }
      p.done(`${Math.round(r.documentsPerSecond)} documents/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`)
      return r
    }
    const gen = (count) => {
      const g = step(`end-to-end: sealing ${count} documents`)
      return generateSubmissions({ count, sender, aud: router.nodeId, recipients, onProgress: (n) => g.update(`${n}/${count}`) }).then((x) => (g.done(`${x.length} sealed`), x))
    }
    const warm = await runLoop(await gen(quick ? 100 : 300), quick ? 2 : 4, 'end-to-end: warm-up')
    const count = Math.min(40_000, Math.max(100, Math.ceil(Math.max(warm.documentsPerSecond, 20) * duration * 1.3)))
    const run = await runLoop(await gen(count), duration, `end-to-end: ${duration} s`)
    await agent.close()
    const routerStats = await router.stats()
    return {
      database,
      topology: 'sender (bench) → router.bench [routing-node+directory, worker on] → vault.bench [vault-operator]; separate processes and databases',
      inFlight: IN_FLIGHT,
      warmUp: warm,
      run,
      routerStats,
      summary: {
        database,
        documentsPerSecond: Math.round(run.documentsPerSecond),
        ratioToPostCeiling: ceiling ? +(run.documentsPerSecond / ceiling).toFixed(3) : null,
        p50Ms: run.latencyMs.p50,
        p99Ms: run.latencyMs.p99,
        notDelivered: Object.entries(run.outcomes).filter(([k]) => k !== 'delivered').reduce((a, [, v]) => a + v, 0) + run.submitErrors,
      },
    }
  } finally {
    for (const n of nodes.reverse()) await n.stop()
    await hook.close()
  }
}
