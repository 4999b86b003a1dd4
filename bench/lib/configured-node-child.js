// A Timbre node in its own process with any config overrides (the directory
// and portability sections need `portability` settings that node-child.js
// does not pass). BENCH_NODE_OVERRIDES (JSON) is handed to loadConfig as is,
// over host 127.0.0.1 and port 0; reports { ready, url, adminToken, nodeId }
// over IPC and closes cleanly on SIGTERM.
import { loadConfig, startNode } from '@timbre/server'

const overrides = JSON.parse(process.env.BENCH_NODE_OVERRIDES ?? '{}')
const worker = process.env.BENCH_NODE_WORKER !== 'false'
const opened = performance.now()
const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, logLevel: 'error', ...overrides } })
const node = await startNode({ config, worker })
const openMs = performance.now() - opened

let stopping = false
process.on('SIGTERM', () => {
  if (stopping) process.exit(1)
  stopping = true
  node.close().then(() => process.exit(0), () => process.exit(1))
})
process.send({ ready: true, url: node.listenUrl, adminToken: node.adminToken, nodeId: config.nodeId, openMs: Math.round(openMs), database: node.store.kind })
