import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { Validator } from '@seriousme/openapi-schema-validator'
import { openapiPath, specDir, SCHEMA_BASE } from '../index.js'
import { parse as parseRequirements } from '../scripts/build-requirements.js'
// @ts-expect-error: plain JavaScript build script without type declarations
import { bundledText, readSchemaFiles, componentName, defComponentName } from '../scripts/bundle-openapi.js'
import { makeAjv } from './helpers/ajv.js'

type Obj = Record<string, any>

const text = readFileSync(openapiPath, 'utf8')
const doc = parse(text) as Obj
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const OPENAPI_ID = 'https://timbre.dev/openapi.json'

function operations(): Array<{ where: string; method: string; op: Obj; pathItem: Obj }> {
  const out = []
  for (const [section, items] of [['paths', doc.paths], ['webhooks', doc.webhooks ?? {}]] as const) {
    for (const [p, item] of Object.entries(items as Obj)) {
      for (const m of METHODS) if (item[m]) out.push({ where: `${section} ${m.toUpperCase()} ${p}`, method: m, op: item[m], pathItem: item })
    }
  }
  return out
}

/** Follow a local `#/components/...` reference. */
function deref<T = Obj>(node: Obj): T {
  let n = node
  for (let i = 0; n && typeof n.$ref === 'string' && i < 10; i++) {
    n = n.$ref.slice(2).split('/').map((s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((o: Obj, k: string) => o?.[k], doc)
    if (n === undefined) throw new Error(`dangling reference ${node.$ref}`)
  }
  return n as T
}

t.test('openapi.yaml is a valid OpenAPI 3.1 document', async (t) => {
  const validator = new Validator()
  const res = await validator.validate(doc)
  t.ok(res.valid, 'valid', { errors: res.errors })
  t.equal(validator.version, '3.1')
  t.match(doc.openapi, /^3\.1\./)
  t.equal(doc.info.version, '1.0.0-draft')
  t.same(doc.servers.map((s: Obj) => s.url), ['http://127.0.0.1:8080'])
})

t.test('openapi.yaml is up to date with openapi.src.yaml and schemas/ (node spec/scripts/bundle-openapi.js)', async (t) => {
  t.equal(text, bundledText())
})

t.test('the document is self-contained: every $ref is local and resolves', async (t) => {
  const refs: string[] = []
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk)
    else if (n && typeof n === 'object') for (const [k, v] of Object.entries(n)) k === '$ref' && typeof v === 'string' ? refs.push(v) : walk(v)
  }
  walk(doc)
  t.ok(refs.length > 100)
  for (const r of new Set(refs)) {
    t.ok(r.startsWith('#/'), `${r} is local`)
    t.doesNotThrow(() => deref({ $ref: r }), r)
  }
})

t.test('components/schemas are exact copies of spec/schemas/*.json', async (t) => {
  // Map each component reference back to the schema URL it stands for, then
  // compare with the schema file whose references are made absolute.
  const files: Array<[string, Obj]> = readSchemaFiles()
  const back = new Map<string, string>()
  for (const [file, schema] of files) {
    if (file !== 'common.json') back.set(`#/components/schemas/${componentName(file)}`, SCHEMA_BASE + file)
    for (const def of Object.keys(schema.$defs ?? {})) back.set(`#/components/schemas/${defComponentName(file, def)}`, `${SCHEMA_BASE}${file}#/$defs/${def}`)
  }
  const absolute = (n: unknown, map: (ref: string) => string): unknown => {
    if (Array.isArray(n)) return n.map((x) => absolute(x, map))
    if (!n || typeof n !== 'object') return n
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? map(v) : k === 'examples' ? v : absolute(v, map)]))
  }
  const fromComponent = (ref: string) => {
    const hit = [...back.keys()].find((k) => ref === k || ref.startsWith(k + '/'))
    if (!hit) throw new Error(`unknown component reference ${ref}`)
    const rest = ref.slice(hit.length)
    return back.get(hit)! + (rest ? (back.get(hit)!.includes('#') ? rest : '#' + rest) : '')
  }
  const components = doc.components.schemas as Obj
  for (const [file, schema] of files) {
    const { $schema: _s, $id, $defs, ...body } = schema
    const fromFile = (ref: string) => new URL(ref, $id).href
    if (file !== 'common.json') t.same(absolute(components[componentName(file)], fromComponent), absolute(body, fromFile), `${file}`)
    for (const [def, defSchema] of Object.entries($defs ?? {})) {
      t.same(absolute(components[defComponentName(file, def)], fromComponent), absolute(defSchema, fromFile), `${file}#/$defs/${def}`)
    }
  }
})

t.test('every operation has a unique operationId; the design-notes ids are used', async (t) => {
  const ids = operations().map((o) => o.op.operationId)
  for (const o of operations()) t.type(o.op.operationId, 'string', `${o.where} has an operationId`)
  t.equal(new Set(ids).size, ids.length, 'unique')
  const expected: Record<string, string> = {
    'GET /.well-known/timbre': 'getDiscovery', 'GET /.well-known/jwks.json': 'getJwks', 'GET /health': 'getHealth',
    'GET /ready': 'getReady', 'POST /v1/submissions': 'submitDocument', 'GET /v1/deliveries/{messageId}': 'getDelivery',
    'GET /v1/deliveries/{messageId}/evidence': 'listEvidence', 'POST /v1/relay': 'relayDocument',
    'GET /v1/directory/addresses/{address}': 'lookupAddress', 'PUT /v1/directory/addresses/{address}': 'putAddressLine',
    'GET /v1/directory/operators/{operatorId}': 'getOperator', 'GET /v1/directory/changes': 'listDirectoryChanges',
    'GET /v1/trust-list': 'getTrustList',
    // chapters 7, 8, 9 and 11
    'POST /v1/deliveries/{messageId}/reroute': 'rerouteDelivery', 'POST /v1/evidence': 'pushEvidence',
    'POST /v1/notifications/directory': 'notifyDirectoryChange', 'POST /v1/notifications/ports': 'notifyPort',
    'POST /v1/directory/porting-codes': 'registerPortingCode', 'POST /v1/directory/ports': 'requestPort',
    'GET /v1/directory/ports': 'listPorts', 'GET /v1/directory/ports/{portId}': 'getPort',
    'POST /v1/directory/ports/{portId}/objection': 'objectPort', 'POST /v1/directory/ports/{portId}/cancellation': 'cancelPort',
    'PUT /v1/archive-imports/{portId}': 'importArchive', 'GET /v1/admin/vault-addresses/{address}/archive': 'exportVaultArchive',
    'GET /v1/stamps/balance': 'getStampBalance', 'GET /v1/stamps/ledger': 'listLedgerEntries',
    'GET /v1/stamps/statements/{period}': 'getStatement', 'GET /v1/settlements/{peerOperatorId}/{period}': 'getSettlementStatement',
    'POST /v1/settlements/reconciliation': 'reconcileSettlement', 'POST /v1/admin/senders/{id}/topups': 'topUpSender',
    'POST /v1/admin/senders/{id}/adjustments': 'adjustSender',
  }
  for (const [key, id] of Object.entries(expected)) {
    const [m, p] = key.split(' ')
    t.equal(doc.paths[p!]?.[m!.toLowerCase()]?.operationId, id, key)
  }
})

t.test('every path of the design notes §8 table exists with its methods', async (t) => {
  const notes = readFileSync(join(specDir, 'design-notes.md'), 'utf8')
  const section = notes.slice(notes.indexOf('## 8.'), notes.indexOf('## 9.'))
  const rows = section.split('\n').filter((l) => l.startsWith('|') && !l.startsWith('|---') && !l.startsWith('| method'))
  let checked = 0
  for (const row of rows) {
    const firstCell = row.split('|')[1]!
    const re = /(?:(GET|POST|PUT|PATCH|DELETE)\s+)?`(\/[^`]*)`(?:\s*\(([A-Z]+(?:,\s*[A-Z]+)*)[:)])?/g
    for (const m of firstCell.matchAll(re)) {
      const path = m[2]!
      if (path === '/docs') continue
      const methods = [m[1], ...(m[3]?.split(/,\s*/) ?? [])].filter(Boolean) as string[]
      t.ok(doc.paths[path], `path ${path}`)
      for (const method of methods) t.ok(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`)
      checked++
    }
  }
  t.ok(checked >= 17, `${checked} paths checked`)
})

t.test('tags and security', async (t) => {
  t.same(doc.tags.map((x: Obj) => x.name), ['discovery', 'routing-node', 'vault-operator', 'directory', 'admin'])
  t.same(doc.components.securitySchemes.TimbreProof, { ...doc.components.securitySchemes.TimbreProof, type: 'apiKey', in: 'header', name: 'Authorization' })
  t.same(doc.components.securitySchemes.AdminBearer, { ...doc.components.securitySchemes.AdminBearer, type: 'http', scheme: 'bearer' })
  for (const o of operations()) {
    t.ok(o.op.tags?.length === 1 && doc.tags.some((x: Obj) => x.name === o.op.tags[0]), `${o.where} has one role tag`)
    if (o.where.startsWith('paths')) t.ok(Array.isArray(o.op.security), `${o.where} declares its security`)
    if (o.where.includes('/v1/admin/')) t.same(o.op.security, [{ AdminBearer: [] }], `${o.where} admin bearer`)
  }
  const submit = doc.paths['/v1/submissions'].post
  const key = submit.parameters.map((p: Obj) => deref(p)).find((p: Obj) => p.name === 'Idempotency-Key')
  t.ok(key, 'Idempotency-Key parameter on POST /v1/submissions')
  t.equal(key?.in, 'header')
  t.equal(key?.required, true)
  t.same(submit.security, [{ TimbreProof: [] }])
})

t.test('every operation declares problem+json error responses; 2xx responses have examples', async (t) => {
  for (const o of operations()) {
    if (o.where.startsWith('webhooks')) continue // answered by the sender's own server
    const errors = Object.entries(o.op.responses as Obj).filter(([code]) => /^[45]/.test(code))
    t.ok(errors.length > 0, `${o.where} declares a 4xx/5xx`)
    for (const [code, r] of errors) {
      const media = deref(r).content?.['application/problem+json']
      t.ok(media, `${o.where} ${code} is application/problem+json`)
      t.equal(media?.schema?.$ref, '#/components/schemas/Problem', `${o.where} ${code} uses Problem`)
      for (const [name, ex] of Object.entries((media?.examples ?? {}) as Obj)) {
        const v = deref(ex).value
        t.equal(v.status, Number(code), `${o.where} ${code} example ${name} has the status of its response`)
      }
    }
    for (const [code, r] of Object.entries(o.op.responses as Obj)) {
      if (!/^2/.test(code)) continue
      for (const [type, media] of Object.entries((deref(r).content ?? {}) as Obj)) {
        if (type === 'application/x-tar') continue // binary archive: no meaningful inline example
        t.ok(media.examples || media.example !== undefined, `${o.where} ${code} ${type} has examples`)
      }
    }
  }
})

t.test('every example validates against its schema', async (t) => {
  const ajv = makeAjv({ strict: false, withSchemas: false })
  ajv.addSchema({ $id: OPENAPI_ID, components: { schemas: doc.components.schemas } })
  const absolute = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(absolute)
    if (!n || typeof n !== 'object') return n
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/components/') ? OPENAPI_ID + v : k === 'examples' ? v : absolute(v)]))
  }
  const check = (where: string, schema: Obj, value: unknown) => {
    const validate = ajv.compile(absolute(schema) as Obj)
    t.ok(validate(value), where, { errors: validate.errors })
  }
  let count = 0
  const mediaExamples = (where: string, content: Obj | undefined) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      if (!media.schema) continue
      if (media.example !== undefined) { check(`${where} ${type} example`, media.schema, media.example); count++ }
      for (const [name, ex] of Object.entries((media.examples ?? {}) as Obj)) { check(`${where} ${type} ${name}`, media.schema, deref(ex).value); count++ }
    }
  }
  for (const o of operations()) {
    for (const p of [...(o.pathItem.parameters ?? []), ...(o.op.parameters ?? [])].map((x: Obj) => deref(x))) {
      if (p.example !== undefined) { check(`${o.where} parameter ${p.name}`, p.schema, p.example); count++ }
    }
    if (o.op.requestBody) mediaExamples(`${o.where} request`, deref(o.op.requestBody).content)
    for (const [code, r] of Object.entries(o.op.responses as Obj)) mediaExamples(`${o.where} ${code}`, deref(r).content)
  }
  // the schema examples copied into components/examples validate against their component
  for (const [file, schema] of readSchemaFiles() as Array<[string, Obj]>) {
    for (const [i] of (schema.examples ?? []).entries()) {
      const name = componentName(file) + (i === 0 ? '' : String(i + 1))
      check(`components/examples/${name}`, { $ref: `#/components/schemas/${componentName(file)}` }, doc.components.examples[name].value)
      count++
    }
  }
  t.ok(count > 60, `${count} examples checked`)
})

t.test('a bundled schema rejects what its file rejects', async (t) => {
  const ajv = makeAjv({ strict: false, withSchemas: false })
  ajv.addSchema({ $id: OPENAPI_ID, components: { schemas: doc.components.schemas } })
  const envelope = ajv.getSchema(`${OPENAPI_ID}#/components/schemas/Envelope`)!
  const ex = structuredClone(doc.components.examples.Envelope.value)
  t.ok(envelope(ex))
  t.notOk(envelope({ ...ex, documentType: 'love-letter' }), 'unknown document type')
  t.notOk(envelope({ ...ex, recipient: 'K7QM-3X9R-2VHD-8P7H' }), 'display form address')
  const jwk = ajv.getSchema(`${OPENAPI_ID}#/components/schemas/common.publicJwk`)!
  t.notOk(jwk({ kty: 'OKP', crv: 'Ed25519', x: '6uHIeTtVl8Sz9JDnasMRcsQ5aQ-O4UFCu4UaYfmknw4', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' }), 'private d')
})

// ---------------------------------------------------------------------------
// The chapters are normative: every path they name exists here, and every
// error code their requirements cite is documented on some operation.

const chapterFiles = readdirSync(specDir).filter((f) => /^\d\d-[a-z0-9-]+\.md$/.test(f)).sort()

/** Inline code spans of the chapters, and the request lines of their fenced blocks, with their file. */
function inlineCode(): Array<{ file: string; code: string }> {
  const out: Array<{ file: string; code: string }> = []
  for (const file of chapterFiles) {
    let fenced = false
    for (const line of readFileSync(join(specDir, file), 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) { fenced = !fenced; continue }
      if (!fenced) for (const m of line.matchAll(/`([^`]+)`/g)) out.push({ file, code: m[1]! })
      // request lines inside fenced blocks and sequence diagrams: `POST /v1/...`
      else for (const m of line.matchAll(/\b((?:GET|POST|PUT|PATCH|DELETE)\s+(?:\{[A-Za-z]+\})?\/v1\/[^\s?]*)/g)) out.push({ file, code: m[1]! })
    }
  }
  return out
}

/** Does a chapter path (maybe with concrete values, `{param}`s or a trailing `…`/`/` prefix) name a path of the document? */
function matchingPaths(path: string): string[] {
  const prefix = /(?:…|\/)$/.test(path)
  const want = path.replace(/…$/, '').replace(/\/$/, '').split('/')
  const isParam = (s: string) => /^\{[^}]+\}$/.test(s)
  return Object.keys(doc.paths).filter((p) => {
    const have = p.split('/')
    if (prefix ? have.length <= want.length : have.length !== want.length) return false
    return want.every((seg, i) => seg === '' && i === want.length - 1 ? true : seg === have[i] || isParam(seg) || isParam(have[i]!))
  })
}

t.test('every /v1/... path named in backticks in the chapters exists, with its method', async (t) => {
  let checked = 0
  for (const { file, code } of inlineCode()) {
    const m = /^(?:(GET|POST|PUT|PATCH|DELETE)\s+)?(?:\{[A-Za-z]+\})?(\/v1\/[^\s?]*)/.exec(code)
    if (!m) continue
    const [, method, path] = m
    const found = matchingPaths(path!)
    t.ok(found.length > 0, `${file}: \`${code}\` is a path of openapi.yaml`)
    if (method) t.ok(found.some((p) => doc.paths[p][method.toLowerCase()]), `${file}: \`${code}\` has ${method}`)
    checked++
  }
  t.ok(checked >= 45, `${checked} chapter paths checked`)
})

/** code → { status, retryable } from the table of spec/12-errors.md. */
function errorTable(): Map<string, { status: number; retryable: boolean }> {
  const text = readFileSync(join(specDir, '12-errors.md'), 'utf8')
  const rows = text.slice(text.indexOf('| code | status | retryable | meaning |')).split('\n').slice(2)
  const table = new Map<string, { status: number; retryable: boolean }>()
  for (const row of rows) {
    const m = /^\| `([a-z0-9-]+)` \| (\d{3}) \| (yes|no) \|/.exec(row)
    if (!m) break
    table.set(m[1]!, { status: Number(m[2]), retryable: m[3] === 'yes' })
  }
  return table
}

/** Every problem example value documented on an operation, with where it is. */
function documentedProblems(): Array<{ where: string; status: string; value: Obj }> {
  const out = []
  for (const o of operations()) {
    for (const [status, r] of Object.entries(o.op.responses as Obj)) {
      const media = deref(r).content?.['application/problem+json']
      for (const ex of Object.values((media?.examples ?? {}) as Obj)) out.push({ where: `${o.where} ${status}`, status, value: deref(ex).value as Obj })
    }
  }
  return out
}

t.test('problem examples carry the status and retryable of their code in chapter 12', async (t) => {
  const table = errorTable()
  t.ok(table.size >= 40)
  for (const { where, value } of documentedProblems()) {
    const row = table.get(value.code)
    t.ok(row, `${where}: ${value.code} is a code of 12.1`)
    t.equal(value.status, row?.status, `${where}: ${value.code} status`)
    t.equal(value.retryable, row?.retryable, `${where}: ${value.code} retryable`)
    t.equal(value.type, `https://timbre.dev/problems/${value.code}`, `${where}: ${value.code} type`)
  }
})

t.test('every error code cited by a requirement is documented on at least one operation', async (t) => {
  // `method-not-allowed` (TMB-ERR-003) is answered for any known path called
  // with a method it does not serve: there is no operation to document it on.
  const NOT_PER_OPERATION = new Set(['method-not-allowed'])
  const table = errorTable()
  const documented = new Set(documentedProblems().map((p) => p.value.code as string))
  const cited = new Set<string>()
  for (const r of parseRequirements(specDir) as Array<{ text: string }>) {
    for (const m of r.text.matchAll(/`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`/g)) if (table.has(m[1]!)) cited.add(m[1]!)
  }
  t.ok(cited.size >= 30, `${cited.size} codes cited by requirements`)
  for (const code of [...cited].sort()) {
    if (NOT_PER_OPERATION.has(code)) continue
    t.ok(documented.has(code), `${code} appears in an operation's documented responses`)
  }
})
