import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { specDir } from '@timbre/spec'
import { ERROR_CATALOG, TimbreError, isErrorCode, problemFor, type ErrorCode } from '../src/index.js'

// The spec's errors chapter holds one table: | `code` | status | retryable | meaning |
function documentedCodes(): Map<string, { status: number; retryable: boolean }> {
  const text = readFileSync(join(specDir, '12-errors.md'), 'utf8')
  const rows = new Map<string, { status: number; retryable: boolean }>()
  for (const m of text.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|\s*(\d{3})\s*\|\s*(yes|no)\b[^|]*\|/gm)) {
    rows.set(m[1]!, { status: Number(m[2]), retryable: m[3] === 'yes' })
  }
  return rows
}

t.test('every wire error code is documented in spec/12-errors.md with the same status and retryability', async (t) => {
  const documented = documentedCodes()
  t.ok(documented.size > 20, `${documented.size} codes in the errors table`)
  for (const [code, info] of Object.entries(ERROR_CATALOG)) {
    if (info.local) continue
    const row = documented.get(code)
    if (!row) {
      t.fail(`${code} is not documented`)
      continue
    }
    t.equal(row.status, info.status, `${code} status`)
    t.equal(row.retryable, info.retryable, `${code} retryable`)
  }
  for (const code of documented.keys()) t.ok(isErrorCode(code), `documented code ${code} exists in the SDK`)
})

t.test('problem bodies follow RFC 9457 with Timbre members', async (t) => {
  const p = problemFor('recipient-moved', { detail: 'moved', requestId: 'r1', extra: { operator: 'vault-b.example' } })
  t.match(p, { type: 'https://timbre.dev/problems/recipient-moved', status: 409, code: 'recipient-moved', retryable: false, requestId: 'r1', operator: 'vault-b.example' })
  const e = new TimbreError('rate-limited' as ErrorCode, { retryAfter: 3 })
  t.equal(e.status, 429)
  t.equal(e.retryable, true)
  t.equal(e.toProblem('r2').requestId, 'r2')
})
