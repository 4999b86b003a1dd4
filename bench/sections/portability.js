// Portability: the port cut-over visible at every routing node (see
// ../lib/cut-over.js: a directory, two vault operators and three routing
// nodes with replicas, PostgreSQL), and archive export + import in MB/s
// through the SDK's createArchive / readArchive (signed manifest, per-file
// digests), in memory.
import { createHash } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import { createArchive, generateSigningKey, generateVaultAddress, readArchive, toPublicJwk } from '@timbre/sdk'
import { measureCutOver } from '../lib/cut-over.js'
import { pgAvailable } from '../lib/pg.js'
import { step } from '../lib/progress.js'

export default async function portability(ctx) {
  const docs = ctx.quick ? 40 : 200
  const size = 256 * 1024
  const key = await generateSigningKey()
  const address = generateVaultAddress()
  const entries = Array.from({ length: docs }, (_, i) => ({ path: `documents/${i}.bin`, bytes: randomBytes(size) }))
  const totalBytes = docs * size
  const mb = totalBytes / 1e6
  const s = step(`portability: archive of ${docs} × ${size / 1024} KB`)
  const rounds = ctx.quick ? 1 : 3
  let exportS = 0
  let importS = 0
  let archiveBytes = 0
  for (let r = 0; r < rounds; r++) {
    let t = performance.now()
    const chunks = []
    for await (const c of await createArchive({ address, donor: 'vault-a.bench', documents: docs, entries, key })) chunks.push(c)
    exportS += (performance.now() - t) / 1000
    const tar = Buffer.concat(chunks)
    archiveBytes = tar.length
    t = performance.now()
    let files = 0
    await readArchive([tar], {
      keys: [toPublicJwk(key)],
      expect: { address, donor: 'vault-a.bench' },
      onFile: async (path, stream) => {
        const h = createHash('sha256')
        for await (const c of stream) h.update(c)
        files++
      },
    })
    importS += (performance.now() - t) / 1000
    if (files !== docs) throw new Error(`read ${files} files of ${docs}`)
  }
  const exportMBs = (mb * rounds) / exportS
  const importMBs = (mb * rounds) / importS
  const roundTrip = (mb * rounds) / (exportS + importS)
  s.done(`export ${exportMBs.toFixed(0)} MB/s, import ${importMBs.toFixed(0)} MB/s`)
  const portCutOver = (await pgAvailable())
    ? await measureCutOver({ ports: ctx.quick ? 3 : 20, routers: 3 })
    : { skipped: 'no PostgreSQL' }
  const { results: _perPort, ...cutOverSummary } = portCutOver
  return {
    archive: { documents: docs, documentBytes: size, archiveBytes, rounds, via: 'SDK createArchive/readArchive, in memory (no storage, no network)' },
    portCutOver,
    summary: {
      archiveExportMBps: Math.round(exportMBs),
      archiveImportMBps: Math.round(importMBs),
      archiveExportPlusImportMBps: Math.round(roundTrip),
      portCutOver: portCutOver.skipped ? portCutOver : {
        ports: cutOverSummary.ports,
        routingNodes: cutOverSummary.routingNodes,
        visibleAfterP50Ms: cutOverSummary.p50Ms,
        visibleAfterP99Ms: cutOverSummary.p99Ms,
        visibleAfterMaxMs: cutOverSummary.maxMs,
        visibleAtEveryNodeP50Ms: cutOverSummary.everyNodeP50Ms,
        visibleAtEveryNodeMaxMs: cutOverSummary.everyNodeMaxMs,
        notVisible: cutOverSummary.notVisibleWithin?.count ?? 0,
        loadAverage: cutOverSummary.loadAverage,
      },
    },
  }
}
