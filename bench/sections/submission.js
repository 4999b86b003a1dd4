// Submission: accepted POST /v1/submissions per second with p50/p99, on
// PostgreSQL and on PGlite. The node runs in a child process with roles
// routing-node + directory + vault-operator and its outbox worker OFF, so
// the figure is acceptance alone (stamp signed, delivery + evidence + outbox
// row committed); relaying is measured by the end-to-end section. The bench
// process pre-generates sealed 10 KB documents with fresh request proofs and
// idempotency keys (worker threads), then autocannon sends them, one each.
import { load } from '../lib/load.js'
import { pgAvailable } from '../lib/pg.js'
import { step } from '../lib/progress.js'
import { generateSubmissions, openAccount, registerSender, startTimbreNode } from '../lib/timbre.js'

export const ROLES = ['routing-node', 'directory', 'vault-operator']

/** A started node with accounts and a sender, ready for submissions. */
export async function submissionTarget(database, { worker = false, cpuProf, accounts = 10 } = {}) {
  const node = await startTimbreNode({ nodeId: 'router.bench', roles: ROLES, database, worker, cpuProf })
  try {
    const recipients = []
    for (let i = 0; i < accounts; i++) recipients.push(await openAccount(node))
    const sender = await registerSender(node)
    return { node, recipients, sender }
  } catch (err) {
    await node.stop()
    throw err
  }
}

/** Send pre-generated submissions with autocannon, each exactly once. */
export function fire(node, items, { connections = 32, onTick, stopAfterSeconds } = {}) {
  let i = 0
  return load(
    {
      stopAfterSeconds,
      url: `${node.url}/v1/submissions`,
      connections,
      amount: items.length,
      requests: [{ method: 'POST', setupRequest: (req) => {
        const it = items[i++] ?? items[items.length - 1]
        return { ...req, method: 'POST', path: '/v1/submissions', headers: it.headers, body: it.body }
      } }],
    },
    onTick,
  )
}

export async function measureSubmissions(database, { duration, quick, cpuProf, label = database }) {
  let s = step(`submission (${label}): starting node`)
  const { node, recipients, sender } = await submissionTarget(database, { cpuProf })
  s.done(`node open in ${node.openMs} ms`)
  try {
    const gen = (count, what) => {
      const g = step(`submission (${label}): sealing ${count} ${what} documents`)
      return generateSubmissions({ count, sender, aud: node.nodeId, recipients, onProgress: (n) => g.update(`${n}/${count}`) }).then((items) => (g.done(`${items.length} sealed`), items))
    }
    // Warm-up, which also calibrates how many documents the timed phase needs.
    const warmItems = await gen(quick ? 200 : 600, 'warm-up')
    s = step(`submission (${label}): warm-up`)
    const warm = await fire(node, warmItems)
    s.done(`${Math.round(warm.okPerSecond)} accepted/s`)
    const count = Math.min(60_000, Math.max(200, Math.ceil(Math.max(warm.okPerSecond, 50) * duration * 1.15)))
    const items = await gen(count, 'timed')
    s = step(`submission (${label}): ${count} submissions`)
    const run = await fire(node, items, { onTick: (n) => s.update(`${n}/${count}`) })
    s.done(`${Math.round(run.okPerSecond)} accepted/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, non-2xx ${run.non2xx}`)
    return { database, roles: ROLES, worker: 'off', openMs: node.openMs, documentBytes: 10_240, requestBytes: items[0].body.length, warmUp: warm, run }
  } finally {
    await node.stop()
  }
}

export default async function submission(ctx) {
  const ceiling = ctx.results.sections.ceilings?.summary?.validatedPost10kPerSecond
  const out = { postgres: null, pglite: null }
  if (await pgAvailable()) out.postgres = await measureSubmissions('postgres', ctx)
  else out.postgres = { skipped: 'no PostgreSQL at 127.0.0.1:5432' }
  out.pglite = await measureSubmissions('pglite', ctx)
  const fig = (r) => r?.run && {
    acceptedPerSecond: Math.round(r.run.okPerSecond),
    ratioToPostCeiling: ceiling ? +(r.run.okPerSecond / ceiling).toFixed(3) : null,
    p50Ms: r.run.latencyMs.p50,
    p99Ms: r.run.latencyMs.p99,
    non2xx: r.run.non2xx,
    openMs: r.openMs,
  }
  return { ...out, summary: { worker: 'off', roles: ROLES.join('+'), postgres: fig(out.postgres) ?? out.postgres, pglite: fig(out.pglite) } }
}
