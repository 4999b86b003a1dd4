// Port cut-over visible at every routing node: a directory node (objection
// window 0: the cut-over is the instant the port is accepted), a donor and a
// new vault operator, and routing nodes on the directory (each with its
// replica, admitted at the directory as routing nodes so that it pushes
// change notifications to them), each node in its own process on its own
// PostgreSQL database.
//
// No endpoint of a routing node tells which operator it would route an
// address to, so the bench reads each routing node's own database with the
// query its lookup runs (DirectoryReplica.lookup: the version of the address
// valid now in directory_replica_lines), every `pollMs`, from just before the
// port is filed until it names the new operator. The node itself looks up
// live instead only while its replica is staler than its bound (30 s by
// default, checked at the end): never in this run.
import os from 'node:os'
import pg from 'pg'
import { startConfiguredNode } from './configured-node.js'
import { step } from './progress.js'
import { admin, registerOperator } from './timbre.js'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const LOOKUP = 'select operator_id from directory_replica_lines where address = $1 and valid_from <= $2 and (valid_to is null or valid_to > $2)'

export async function measureCutOver({ ports = 20, routers = 3, pollMs = 10, gapMs = 500, timeoutMs = 30_000 } = {}) {
  let s = step(`portability: starting a directory, 2 vault operators and ${routers} routing nodes`)
  const nodes = []
  const clients = []
  try {
    const start = async (overrides) => {
      const n = await startConfiguredNode(overrides)
      nodes.push(n)
      return n
    }
    const d = await start({ nodeId: 'directory.bench', roles: ['directory'], portability: { objectionWindowSeconds: 0 } })
    const [a, b, ...rs] = await Promise.all([
      start({ nodeId: 'vault-a.bench', roles: ['vault-operator'], directoryUrl: d.url }),
      start({ nodeId: 'vault-b.bench', roles: ['vault-operator'], directoryUrl: d.url }),
      ...Array.from({ length: routers }, (_, i) => start({ nodeId: `router-${i + 1}.bench`, roles: ['routing-node'], directoryUrl: d.url })),
    ])
    await registerOperator(d, a, ['vault-operator'])
    await registerOperator(d, b, ['vault-operator'])
    for (const r of rs) await registerOperator(d, r, ['routing-node'])
    for (const r of rs) {
      const c = new pg.Client({ connectionString: r.databaseUrl })
      await c.connect()
      clients.push(c)
    }
    s.done()

    s = step(`portability: ${ports} accounts at ${a.nodeId}, waiting for every replica`)
    const addresses = []
    for (let i = 0; i < ports; i++) addresses.push((await admin(a, 'POST', '/v1/admin/vault-addresses', {})).address)
    const t0 = Date.now()
    for (const c of clients) {
      for (;;) {
        const n = Number((await c.query('select count(*) as n from directory_replica_lines where address = any($1)', [addresses])).rows[0].n)
        if (n === addresses.length) break
        if (Date.now() - t0 > 60_000) throw new Error('the replicas did not receive the accounts in 60 s')
        await sleep(50)
      }
    }
    s.done(`in ${Date.now() - t0} ms`)

    s = step(`portability: ${ports} ports ${a.nodeId} → ${b.nodeId}, watching ${routers} routing nodes`)
    const results = []
    for (const [i, address] of addresses.entries()) {
      const { code } = await admin(a, 'POST', `/v1/admin/vault-addresses/${address}/porting-code`, {})
      // Watch every routing node from before the request.
      let stop = false
      const watchers = clients.map(async (c, k) => {
        const begun = Date.now()
        while (!stop) {
          const now = Date.now()
          const row = (await c.query(LOOKUP, [address, new Date(now)])).rows[0]
          if (row?.operator_id === b.nodeId) return { node: rs[k].nodeId, seenAt: now }
          if (now - begun > timeoutMs) return { node: rs[k].nodeId, seenAt: null }
          await sleep(pollMs)
        }
        return { node: rs[k].nodeId, seenAt: null }
      })
      const filed = Date.now()
      const port = await admin(b, 'POST', '/v1/admin/ports', { address, portingCode: code })
      const answered = Date.now()
      const seen = await Promise.all(watchers)
      stop = true
      const cutover = Date.parse(port.cutoverAt)
      results.push({
        portId: port.portId,
        cutoverAt: port.cutoverAt,
        requestMs: answered - filed,
        nodes: seen.map((x) => ({ node: x.node, visibleAfterMs: x.seenAt === null ? null : x.seenAt - cutover })),
      })
      s.update(`${i + 1}/${ports}`)
      await sleep(gapMs)
    }
    const delays = results.flatMap((r) => r.nodes.map((n) => n.visibleAfterMs))
    const missed = delays.filter((x) => x === null).length
    const sorted = delays.filter((x) => x !== null).sort((x, y) => x - y)
    const perPort = results.map((r) => Math.max(...r.nodes.map((n) => n.visibleAfterMs ?? Infinity))).sort((x, y) => x - y)
    // The replicas were fresh throughout (else the node would have looked up live).
    const replicaState = await Promise.all(clients.map(async (c, k) => {
      const st = (await c.query('select cursor, synced_at from directory_replica_state')).rows[0]
      return { node: rs[k].nodeId, cursor: st?.cursor ?? null, syncedAgoMs: st?.synced_at ? Date.now() - new Date(st.synced_at).getTime() : null }
    }))
    const stats = {
      ports,
      routingNodes: routers,
      observations: delays.length,
      notVisibleWithin: missed ? { count: missed, timeoutMs } : undefined,
      p50Ms: sorted.length ? pct(sorted, 50) : null,
      p99Ms: sorted.length ? pct(sorted, 99) : null,
      maxMs: sorted.length ? sorted.at(-1) : null,
      everyNodeP50Ms: pct(perPort, 50),
      everyNodeMaxMs: perPort.at(-1),
      requestP50Ms: pct(results.map((r) => r.requestMs).sort((x, y) => x - y), 50),
      loadAverage: +os.loadavg()[0].toFixed(2),
    }
    s.done(`visible after p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms, max ${stats.maxMs} ms (${delays.length} node × port)`)
    return {
      ...stats,
      method: `objection window 0 (cut-over = acceptance at the directory); delay = first moment a routing node's replica lookup query, polled every ${pollMs} ms on its database, names the new operator − the port's cutoverAt; ports ${gapMs} ms apart`,
      config: { directory: { objectionWindowSeconds: 0, workerPollMs: 'default (1000)' }, routingNodes: { replicaPollMs: 'default (5000)', replicaStalenessSeconds: 'default (30)' }, pollMs },
      replicaState,
      results,
    }
  } finally {
    for (const c of clients) await c.end().catch(() => {})
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
  }
}
