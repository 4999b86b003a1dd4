// Directory: lookup latency with 1 M and 10 M addresses, and the change-feed
// catch-up rate. PostgreSQL only (PGlite is not meant for a national
// directory). Lines are bulk-loaded straight into directory_lines (multi-row
// INSERT … SELECT FROM unnest, 20,000 rows a statement) with the production
// schema (primary key + btree_gist no-overlap exclusion constraint); the
// change feed gets one row per line carrying a real signed line text.
//
// Measured against the directory role's table lookups (GET
// /v1/directory/addresses/{address}, which signs the line it serves); the
// replica (routing from a replica) is being built by the portability
// engineer and will be measured once it lands.
import { generateVaultAddress } from '@timbre/sdk'
import pg from 'pg'
import { load } from '../lib/load.js'
import { pgAvailable } from '../lib/pg.js'
import { step } from '../lib/progress.js'
import { admin, startTimbreNode } from '../lib/timbre.js'

const BATCH = 20_000
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

export default async function directory(ctx) {
  if (!(await pgAvailable())) return { skipped: 'no PostgreSQL', summary: { skipped: 'no PostgreSQL' } }
  const { quick, duration } = ctx
  const sizes = quick ? [20_000, 100_000] : [1_000_000, 10_000_000]
  const loadBudgetS = Number(process.env.BENCH_DIRECTORY_LOAD_BUDGET_S ?? (quick ? 60 : 300))
  let s = step('directory: starting node')
  const node = await startTimbreNode({ nodeId: 'directory.bench', roles: ['directory', 'vault-operator'], database: 'postgres', worker: false })
  const dbUrl = node.databaseUrl
  const client = new pg.Client({ connectionString: dbUrl })
  await client.connect()
  s.done()
  const out = { sizes: {}, load: [] }
  try {
    // One real line, to copy the operator's endpoint/keys and the served line text from.
    const account = await admin(node, 'POST', '/v1/admin/vault-addresses', {})
    const tmpl = (await client.query('select * from directory_lines where address = $1', [account.address])).rows[0]
    const lineText = (await client.query('select line from directory_changes where address = $1', [account.address])).rows[0].line
    let loaded = 1
    let cursor = Number((await client.query('select coalesce(max(cursor), 0) as c from directory_changes')).rows[0].c)
    let loadSeconds = 0
    const sample = [account.address]
    for (const size of sizes) {
      const target = size
      const need = target - loaded
      const estimate = out.load.length ? need / (loaded / loadSeconds) : 0
      if (estimate > loadBudgetS) {
        out.sizes[target] = { skipped: `loading ${need} more lines would take about ${Math.round(estimate)} s at the measured ${Math.round(loaded / loadSeconds)} lines/s, over the ${loadBudgetS} s budget` }
        continue
      }
      s = step(`directory: loading to ${target.toLocaleString('en')} lines`)
      const t0 = performance.now()
      while (loaded < target) {
        const n = Math.min(BATCH, target - loaded)
        const addrs = Array.from({ length: n }, generateVaultAddress)
        if (sample.length < 100_000) for (let i = 0; i < n; i += 7) sample.push(addrs[i])
        await client.query('begin')
        await client.query(
          `insert into directory_lines (address, version, operator_id, relay_endpoint, encryption_keys, valid_from)
           select a, 1, $2, $3, $4::jsonb, $5 from unnest($1::text[]) a`,
          [addrs, tmpl.operator_id, tmpl.relay_endpoint, JSON.stringify(tmpl.encryption_keys), tmpl.valid_from],
        )
        await client.query(
          `insert into directory_changes (cursor, address, version, operator_id, valid_from, line)
           select $2::bigint + o, a, 1, $3, $4, $5 from unnest($1::text[]) with ordinality as u(a, o)`,
          [addrs, cursor, tmpl.operator_id, tmpl.valid_from, lineText],
        )
        await client.query('commit')
        cursor += n
        loaded += n
        s.update(`${loaded.toLocaleString('en')} (${Math.round((performance.now() - t0) / 1000)} s)`)
      }
      const secs = (performance.now() - t0) / 1000
      loadSeconds += secs
      out.load.push({ to: target, seconds: +secs.toFixed(1) })
      s.done(`${Math.round(secs)} s`)
      await client.query('analyze directory_lines')
      await client.query('analyze directory_changes')
      out.sizes[target] = await measureLookups(node, client, sample, { duration, quick, lines: loaded })
    }
    out.changeFeed = await measureFeed(node, quick ? 20_000 : 200_000)
    const fig = (v) => v?.http ? { httpP50Ms: v.http.latencyMs.p50, httpP99Ms: v.http.latencyMs.p99, httpLookupsPerSecond: Math.round(v.http.okPerSecond), sqlP99Ms: v.sql.p99Ms } : v
    return {
      ...out,
      summary: {
        against: 'directory role table lookups (replica pending)',
        load: out.load,
        ...Object.fromEntries(sizes.map((n) => [`lines${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`}`, fig(out.sizes[n])])),
        changeFeedChangesPerSecond: Math.round(out.changeFeed.changesPerSecond),
      },
    }
  } finally {
    await client.end()
    await node.stop()
  }
}

async function measureLookups(node, client, sample, { duration, quick, lines }) {
  const s = step(`directory: lookups at ${lines.toLocaleString('en')} lines`)
  // The SQL of DirectoryRepository.validAt, one at a time, random addresses.
  const times = []
  const n = quick ? 500 : 3000
  const now = new Date()
  for (let i = 0; i < n; i++) {
    const a = sample[Math.floor(Math.random() * sample.length)]
    const t = performance.now()
    await client.query('select * from "directory_lines" where "address" = $1 and "valid_from" <= $2 and ("valid_to" is null or "valid_to" > $2)', [a, now])
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  const sql = { queries: n, p50Ms: +pct(times, 50).toFixed(3), p99Ms: +pct(times, 99).toFixed(3) }
  // Over HTTP, signed: 8 connections.
  const http = await load({
    url: `${node.url}/v1/directory/addresses/x`,
    connections: 8,
    duration: Math.max(2, Math.min(duration, 10)),
    requests: [{ setupRequest: (req) => ({ ...req, path: `/v1/directory/addresses/${sample[Math.floor(Math.random() * sample.length)]}` }) }],
  })
  s.done(`SQL p99 ${sql.p99Ms} ms; HTTP ${Math.round(http.okPerSecond)}/s p99 ${http.latencyMs.p99} ms`)
  return { lines, sql, http }
}

async function measureFeed(node, max) {
  const s = step(`directory: change feed, up to ${max.toLocaleString('en')} changes`)
  let after = '0'
  let read = 0
  const t0 = performance.now()
  while (read < max) {
    const res = await fetch(`${node.url}/v1/directory/changes?after=${after}&limit=1000`)
    const page = await res.json()
    read += page.changes.length
    if (!page.hasMore || !page.nextCursor) break
    after = page.nextCursor
    if (read % 10_000 === 0) s.update(`${read}`)
  }
  const secs = (performance.now() - t0) / 1000
  s.done(`${Math.round(read / secs)} changes/s`)
  return { changes: read, seconds: +secs.toFixed(2), pageSize: 1000, changesPerSecond: read / secs }
}
