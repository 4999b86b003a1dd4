// A Timbre node in its own process (forked by the bench): config from the
// BENCH_NODE environment variable (JSON), reports { ready, url, adminToken,
// nodeId, openMs } over IPC, samples its own RSS every second, answers
// { rss: true } with the samples, and closes cleanly on SIGTERM.
import { loadConfig, startNode } from '@timbre/server'

const spec = JSON.parse(process.env.BENCH_NODE ?? '{}')
const samples = []
const t0 = Date.now()
const sampler = setInterval(() => samples.push({ t: Date.now() - t0, rss: process.memoryUsage.rss() }), 1000)
sampler.unref()

const opened = performance.now()
const config = loadConfig({
  env: {},
  overrides: {
    host: '127.0.0.1',
    port: 0,
    nodeId: spec.nodeId,
    roles: spec.roles,
    dataDir: spec.dataDir,
    ...(spec.databaseUrl ? { databaseUrl: spec.databaseUrl } : {}),
    ...(spec.directoryUrl ? { directoryUrl: spec.directoryUrl } : {}),
    adminToken: spec.adminToken,
    logLevel: spec.logLevel ?? 'error',
    ...(spec.delivery ? { delivery: spec.delivery } : {}),
  },
})
const node = await startNode({ config, worker: spec.worker !== false })
const openMs = performance.now() - opened

process.on('message', (m) => {
  if (m?.rss) process.send({ rssSamples: samples.splice(0), rssNow: process.memoryUsage.rss() })
  if (m?.stats) process.send({ stats: node.worker?.stats ?? null })
})
let stopping = false
process.on('SIGTERM', () => {
  if (stopping) process.exit(1)
  stopping = true
  node.close().then(() => process.exit(0), () => process.exit(1))
})
process.send({ ready: true, url: node.listenUrl, adminToken: node.adminToken, nodeId: config.nodeId, openMs: Math.round(openMs), database: node.store.kind })
