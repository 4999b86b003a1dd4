// The requirement index (spec/requirements.json) is generated from the
// chapter files and must stay in sync with them; every normative sentence of
// a chapter must be a tagged requirement item (see spec/README.md).
import { test } from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  parse,
  parseChapter,
  build,
  render,
  chapterFiles,
  specDir,
  AREAS,
  ROLES,
  REQUIREMENT_RE,
} from '../scripts/build-requirements.js'

const chapters = chapterFiles(specDir)
const requirements = parse(specDir)
const read = (f: string) => readFileSync(join(specDir, f), 'utf8')

// Codes of design-notes §9; used when design-notes.md is gone.
const DESIGN_NOTES_CODES = [
  'malformed-json', 'unsupported-media-type', 'body-too-large', 'schema-violation',
  'invalid-vault-address', 'auth-required', 'auth-invalid', 'request-replayed',
  'sender-unknown', 'sender-disabled', 'sender-mismatch', 'node-untrusted',
  'admin-unauthorized', 'idempotency-key-missing', 'idempotency-key-reused',
  'idempotency-in-progress', 'message-id-conflict', 'envelope-invalid',
  'content-digest-mismatch', 'content-undecryptable', 'content-too-large',
  'stamp-invalid', 'recipient-unknown', 'recipient-moved', 'not-found',
  'method-not-allowed', 'directory-conflict', 'rate-limited', 'unavailable',
  'internal-error', 'stamp-balance-exhausted',
]
const PORTING_CODES = [
  'porting-code-invalid', 'porting-code-expired', 'porting-code-used',
  'port-already-pending', 'port-not-cancellable', 'port-cancel-forbidden', 'archive-invalid',
]

/** Codes listed in the §9 table of design-notes.md, if the file still exists. */
function designNotesCodes(): string[] {
  const path = join(specDir, 'design-notes.md')
  if (!existsSync(path)) return DESIGN_NOTES_CODES
  const text = readFileSync(path, 'utf8')
  const start = text.indexOf('## 9.')
  const end = text.indexOf('\n## ', start + 1)
  const section = text.slice(start, end < 0 ? undefined : end)
  const codes = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!)
  return codes.length > 0 ? codes : DESIGN_NOTES_CODES
}

/** Rows of the error table of 12-errors.md: header must be exactly the agreed one. */
function errorTable(): { header: string | undefined; rows: Array<{ code: string; status: number; retryable: string; meaning: string }> } {
  const lines = read('12-errors.md').split('\n')
  const headerIndex = lines.findIndex((l) => l.trim() === '| code | status | retryable | meaning |')
  if (headerIndex < 0) return { header: undefined, rows: [] }
  const rows = []
  for (const line of lines.slice(headerIndex + 2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    const code = /^`([a-z0-9-]+)`$/.exec(cells[0] ?? '')?.[1] ?? `<bad:${cells[0]}>`
    rows.push({ code, status: Number(cells[1]), retryable: cells[2] ?? '', meaning: cells[3] ?? '' })
  }
  return { header: lines[headerIndex], rows }
}

test('requirements.json is in sync with the chapters', async (t) => {
  const path = join(specDir, 'requirements.json')
  t.ok(existsSync(path), 'spec/requirements.json exists')
  const onDisk = readFileSync(path, 'utf8')
  t.equal(onDisk, render(build(specDir)), 'regenerate with `npm run build:requirements -w spec`')
  const doc = JSON.parse(onDisk)
  const { SPEC_VERSION } = await import('../index.js')
  t.equal(doc.version, SPEC_VERSION, 'version is SPEC_VERSION of spec/index.js')
})

test('requirement IDs are unique and well-formed', async (t) => {
  t.ok(requirements.length >= 150, `at least 150 requirements (${requirements.length})`)
  const seen = new Map<string, string>()
  for (const r of requirements) {
    const m = /^TMB-([A-Z]+)-(\d{3})$/.exec(r.id)
    t.ok(m, `${r.id} has the form TMB-<AREA>-<NNN>`)
    t.ok(m && AREAS.includes(m[1]!), `${r.id} uses a known area`)
    t.not(m?.[2], '000', `${r.id} is numbered from 001`)
    t.notOk(seen.has(r.id), `${r.id} is unique (also in ${seen.get(r.id) ?? '-'})`)
    seen.set(r.id, r.chapter)
    t.ok(r.roles.length > 0, `${r.id} binds at least one role`)
    for (const role of r.roles) t.ok(ROLES.includes(role), `${r.id}: role ${role} is known`)
    t.equal(new Set(r.roles).size, r.roles.length, `${r.id}: roles are not repeated`)
    t.ok(r.text.includes(r.level), `${r.id}: its text contains its level ${r.level}`)
  }
})

test('no retired requirement ID is used', async (t) => {
  const retired: unknown = JSON.parse(read('retired-requirements.json'))
  t.ok(Array.isArray(retired), 'retired-requirements.json is an array')
  const used = new Set(requirements.map((r) => r.id))
  for (const id of retired as string[]) {
    t.match(id, /^TMB-[A-Z]+-\d{3}$/, `${id} is a requirement ID`)
    t.notOk(used.has(id), `${id} is retired and not used again`)
  }
})

test('every chapter exists and has at least one requirement', async (t) => {
  for (let n = 1; n <= 13; n++) {
    const prefix = String(n).padStart(2, '0') + '-'
    t.ok(chapters.some((f) => f.startsWith(prefix)), `chapter ${prefix}*.md exists`)
  }
  for (const f of chapters) {
    const chapter = f.replace(/\.md$/, '')
    t.ok(requirements.some((r) => r.chapter === chapter), `${f} has requirements`)
  }
})

test('every normative sentence is a tagged requirement item', async (t) => {
  const keyword = /\b(MUST|SHOULD|MAY|REQUIRED|SHALL|RECOMMENDED|OPTIONAL)\b/
  const offenders: string[] = []
  for (const f of chapters) {
    let fenced = false
    read(f).split('\n').forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) { fenced = !fenced; return }
      if (fenced) return
      const trimmed = line.trim()
      if (trimmed.startsWith('#') || trimmed.startsWith('|') || trimmed.startsWith('>')) return
      if (REQUIREMENT_RE.test(line)) return
      const withoutCode = line.replace(/`[^`]*`/g, '')
      if (keyword.test(withoutCode)) offenders.push(`${f}:${i + 1}: ${trimmed}`)
    })
    // A requirement-looking line that the generator would miss is a typo.
    read(f).split('\n').forEach((line, i) => {
      if (line.startsWith('- `TMB-') && !REQUIREMENT_RE.test(line)) offenders.push(`${f}:${i + 1}: malformed item: ${line}`)
    })
  }
  t.same(offenders, [], 'no untagged capitalised RFC 2119 keyword outside code, tables, quotes and headings')
})

test('parseChapter reads exactly the requirement items', async (t) => {
  const sample = [
    '# Title',
    '- `TMB-ADDR-901` **MUST NOT** (sender, sdk): A sender MUST NOT do it.',
    '```',
    '- `TMB-ADDR-902` **MUST** (sender): Inside a fence MUST be ignored.',
    '```',
    '- `TMB-ADDR-903` **MAY** (routing-node): A node MAY do it.',
    '- not a requirement',
  ].join('\n')
  t.same(parseChapter(sample, '99-sample'), [
    { id: 'TMB-ADDR-901', level: 'MUST NOT', chapter: '99-sample', text: 'A sender MUST NOT do it.', roles: ['sender', 'sdk'] },
    { id: 'TMB-ADDR-903', level: 'MAY', chapter: '99-sample', text: 'A node MAY do it.', roles: ['routing-node'] },
  ])
})

test('the errors chapter has one table with every code', async (t) => {
  const { header, rows } = errorTable()
  t.equal(header, '| code | status | retryable | meaning |', 'table header is exactly as agreed')
  const codes = rows.map((r) => r.code)
  t.equal(new Set(codes).size, codes.length, 'each code is listed once')
  for (const r of rows) {
    t.match(r.code, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${r.code} is a lowercase code in backticks`)
    t.ok(r.status >= 400 && r.status <= 599, `${r.code}: status ${r.status} is an error status`)
    t.ok(r.retryable === 'yes' || r.retryable === 'no', `${r.code}: retryable is yes or no`)
    t.ok(r.meaning.length > 0, `${r.code}: has a meaning`)
  }
  for (const code of [...designNotesCodes(), ...PORTING_CODES]) t.ok(codes.includes(code), `${code} is in the table`)
})
