#!/usr/bin/env node
// Markdown table of a results file (for BENCHMARKS.md): every figure with its
// ratio to the ceiling of the same run, and the issue's targets.
//   node bench/report.js bench/results/<date>.json [before.json]
import { readFileSync } from 'node:fs'

const [file, beforeFile] = process.argv.slice(2)
const r = JSON.parse(readFileSync(file, 'utf8'))
const b = beforeFile ? JSON.parse(readFileSync(beforeFile, 'utf8')) : null
const S = (x, name) => x?.sections?.[name]?.summary ?? {}
const c = S(r, 'ceilings')
const post = c.validatedPost10kPerSecond
const ratio = (v, ceil = post) => (typeof v === 'number' && ceil ? `${((100 * v) / ceil).toFixed(1)}%` : '—')
const yes = (ok) => (ok === undefined ? '—' : ok ? 'met' : '**missed**')
const rows = []
const row = (measure, value, ratioText, target, met, before) => rows.push(`| ${measure} | ${value} | ${ratioText} | ${target} | ${met} |${b ? ` ${before ?? '—'} |` : ''}`)

row('ceiling: Fastify hello GET', `${c.helloGetPerSecond}/s`, '—', '', '', S(b, 'ceilings').helloGetPerSecond && `${S(b, 'ceilings').helloGetPerSecond}/s`)
row('ceiling: Fastify POST 10 KB + schema', `${post}/s`, '100%', '', '', S(b, 'ceilings').validatedPost10kPerSecond && `${S(b, 'ceilings').validatedPost10kPerSecond}/s`)
row('ceiling: Ed25519 sign / verify (jose)', `${c.ed25519SignPerSecond}/s / ${c.ed25519VerifyPerSecond}/s`, '—', '', '')
const sub = S(r, 'submission')
const bsub = S(b, 'submission')
const bpost = S(b, 'ceilings').validatedPost10kPerSecond
const prior = (x) => (x?.acceptedPerSecond !== undefined ? `${x.acceptedPerSecond}/s (${ratio(x.acceptedPerSecond, bpost)}), p99 ${x.p99Ms} ms` : undefined)
if (sub.postgres?.acceptedPerSecond !== undefined) {
  const p = sub.postgres
  row(`accepted submissions, PostgreSQL (worker ${sub.worker})`, `${p.acceptedPerSecond}/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, non-2xx ${p.non2xx}`, ratio(p.acceptedPerSecond), '≥ 25% of POST ceiling, p99 < 50 ms', yes(p.acceptedPerSecond >= 0.25 * post && p.p99Ms < 50), prior(bsub.postgres))
}
if (sub.pglite?.acceptedPerSecond !== undefined) {
  const p = sub.pglite
  row(`accepted submissions, PGlite (worker ${sub.worker})`, `${p.acceptedPerSecond}/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, non-2xx ${p.non2xx}`, ratio(p.acceptedPerSecond), '≥ 1,000/s', yes(p.acceptedPerSecond >= 1000), prior(bsub.pglite))
  row('PGlite node open (fresh data dir)', `${(p.openMs / 1000).toFixed(1)} s`, '—', '', '', bsub.pglite && `${(bsub.pglite.openMs / 1000).toFixed(1)} s`)
}
const e = S(r, 'end-to-end')
const be = S(b, 'end-to-end')
if (e.documentsPerSecond !== undefined) {
  row(`end-to-end deliveries (${e.database}), 32 in flight`, `${e.documentsPerSecond}/s, p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms, not delivered ${e.notDelivered}`, ratio(e.documentsPerSecond), '≥ 10% of POST ceiling, p99 < 250 ms', yes(e.documentsPerSecond >= 0.1 * post && e.p99Ms < 250), be.documentsPerSecond !== undefined ? `${be.documentsPerSecond}/s (${ratio(be.documentsPerSecond, bpost)}), p99 ${be.p99Ms} ms` : undefined)
}
const d = S(r, 'directory')
for (const [k, v] of Object.entries(d)) {
  if (k.startsWith('replica')) {
    // The routing node's lookup (issue 6: "in the replica"): the target applies to it.
    const n = k.slice(7)
    const target = n === '10M' ? 'p99 < 1 ms at 10 M' : ''
    if (v?.skipped) row(`replica lookup (routing node), ${n} lines`, `not measured: ${v.skipped}`, '—', target, n === '10M' ? '**not measured**' : '')
    else if (v) row(`replica lookup (routing node), ${n} lines`, `SQL p50 ${v.sqlP50Ms} ms, p99 ${v.sqlP99Ms} ms${v.inPostgresP99Ms !== undefined ? ` (executing in PostgreSQL p50 ${v.inPostgresP50Ms} ms, p99 ${v.inPostgresP99Ms} ms)` : ''}${v.nodeLookupP99Ms !== undefined ? `; the node's lookup p50 ${v.nodeLookupP50Ms} ms, p99 ${v.nodeLookupP99Ms} ms` : ''}; first sight of a line (+ verify) p50 ${v.lookupP50Ms} ms, p99 ${v.lookupP99Ms} ms${v.loadAverage !== undefined ? ` (load average ${v.loadAverage})` : ''}`, '—', target, n === '10M' ? yes((v.nodeLookupP99Ms ?? v.lookupP99Ms) < 1) : '')
    continue
  }
  if (!k.startsWith('lines')) continue
  const n = k.slice(5)
  if (v?.skipped) row(`directory lookup (directory node), ${n} lines`, `not measured: ${v.skipped}`, '—', '', '')
  else if (v) row(`directory lookup (directory node), ${n} lines`, `SQL p99 ${v.sqlP99Ms} ms${v.inPostgresP99Ms !== undefined ? ` (executing in PostgreSQL p99 ${v.inPostgresP99Ms} ms)` : ''}${v.loadAverage !== undefined ? ` (load average ${v.loadAverage})` : ''}; HTTP (signed) p99 ${v.httpP99Ms} ms at ${v.httpLookupsPerSecond}/s`, ratio(v.httpLookupsPerSecond, c.helloGetPerSecond) + ' of GET', '', '')
}
if (d.load) row(`directory bulk load${d.loadBudgetSeconds ? ` (budget ${d.loadBudgetSeconds} s)` : ''}`, d.load.map((l) => `${l.table ? `${l.table} ` : ''}${l.to.toLocaleString('en')} lines in ${l.seconds} s${l.constraintSeconds !== undefined ? ` (keys/constraints ${l.constraintSeconds} s)` : ''}`).join('; '), '—', '', '')
if (d.changeFeedChangesPerSecond !== undefined) row('directory change feed catch-up', `${d.changeFeedChangesPerSecond} changes/s`, '—', '', '')
const p = S(r, 'portability')
if (p.archiveExportMBps !== undefined) {
  const co = p.portCutOver
  if (co?.visibleAfterP99Ms !== undefined) row(`port cut-over visible at every node (${co.ports} ports × ${co.routingNodes} routing nodes, window 0)`, `after the cut-over: per node p50 ${co.visibleAfterP50Ms} ms, p99 ${co.visibleAfterP99Ms} ms, max ${co.visibleAfterMaxMs} ms; at every node p50 ${co.visibleAtEveryNodeP50Ms} ms, max ${co.visibleAtEveryNodeMaxMs} ms${co.notVisible ? `; not visible in time ${co.notVisible}` : ''}${co.loadAverage !== undefined ? ` (load average ${co.loadAverage})` : ''}`, '—', '< 1 s', yes(!co.notVisible && co.visibleAtEveryNodeMaxMs < 1000))
  else row('port cut-over visible at every node', typeof co === 'string' ? co : `not measured: ${co?.skipped ?? 'absent'}`, '—', '< 1 s', typeof co === 'string' ? '**pending**' : '**not measured**')
  row('archive export / import (SDK)', `${p.archiveExportMBps} / ${p.archiveImportMBps} MB/s (export + import ${p.archiveExportPlusImportMBps} MB/s)`, '—', '', '')
}
const m = S(r, 'memory')
if (m.peakRssMB !== undefined) {
  row(`memory under ${m.loadSeconds} s of submissions (${m.database}, ${m.acceptedPerSecond}/s)`, `peak RSS ${m.peakRssMB} MB, second-half slope ${m.secondHalfSlopeMBPerMin} MB/min`, '—', 'RSS < 300 MB and flat', yes(m.peakRssMB < 300 && m.secondHalfSlopeMBPerMin < 5), S(b, 'memory').peakRssMB !== undefined ? `peak ${S(b, 'memory').peakRssMB} MB, slope ${S(b, 'memory').secondHalfSlopeMBPerMin} MB/min` : undefined)
}
console.log(`| measure | figure | ratio to ceiling | target | |${b ? ' before |' : ''}`)
console.log(`|---|---|---|---|---|${b ? '---|' : ''}`)
console.log(rows.join('\n'))
