/**
 * Metering (spec chapter 11): ledger entries, monthly sender statements and
 * settlement statements between operators, all `timbre-statement+jws`
 * signed over the JCS (RFC 8785) bytes of their payload, and their offline
 * verification (TMB-MTR-015, -016, -019, -021).
 */
import { TimbreError } from '../errors.js'
import { peekPayload, signJwsText, verifyJws } from '../internal/jws.js'
import { toResolver, type TrustedKeys } from './evidence.js'
import type { PrivateJwk } from './keys.js'
import { assertSchema } from './schemas.js'

/** `typ` of sender statements and settlement statements. */
export const STATEMENT_TYP = 'timbre-statement+jws'

/** A stamp class (11.1). */
export type StampClass = 'standard' | 'registered'

/** The stamp classes of v1, in statement order. */
export const STAMP_CLASSES: readonly StampClass[] = ['standard', 'registered']

/** A price of the discovery document's `tariffs` (TMB-MTR-001). */
export interface Tariff {
  stampClass: StampClass
  /** Minor units of `currency`. */
  amount: number
  currency: string
}

/** `GET /v1/stamps/balance` (TMB-MTR-010), minor units. */
export interface StampBalance {
  sender: string
  currency: string
  balance: number
  creditLimit: number
  /** `balance + creditLimit`. */
  available: number
}

/** The kinds of ledger entry (11.4). */
export type LedgerEntryKind = 'charge' | 'refund' | 'topup' | 'adjustment'

/** One entry of a sender's append-only ledger (11.4). */
export interface LedgerEntry {
  entryId: string
  sequence: number
  sender: string
  time: string
  kind: LedgerEntryKind
  stampClass?: StampClass
  /** Minor units, negative for a charge. */
  amount: number
  currency: string
  messageId?: string
  evidenceId?: string
  reason?: string
  reference?: string
  balanceAfter: number
}

/** A count and a sum of minor units. */
export interface CountAmount {
  count: number
  amount: number
}

/** Payload of a monthly sender statement (11.5). */
export interface SenderStatement {
  v: 1
  kind: 'sender-statement'
  statementId: string
  issuer: string
  sender: string
  /** `YYYY-MM`, UTC. */
  period: string
  currency: string
  openingBalance: number
  closingBalance: number
  classes: { stampClass: StampClass; count: number; amount: number }[]
  refunds: CountAmount
  topups: CountAmount
  adjustments: CountAmount
  firstSequence?: number
  lastSequence?: number
  issuedAt: string
}

/** One deposited delivery of a settlement statement. */
export interface SettlementDelivery {
  sender: string
  messageId: string
  stampClass: StampClass
  /** The DepositAcceptance. */
  evidenceId: string
}

/** Payload of a settlement statement between a routing and a vault operator (11.6). */
export interface SettlementStatement {
  v: 1
  kind: 'settlement'
  routingOperator: string
  vaultOperator: string
  period: string
  currency: string
  classes: { stampClass: StampClass; count: number; fee: number; amount: number }[]
  /** Sorted by `sender`, then `messageId`. */
  deliveries: SettlementDelivery[]
}

/** Either statement payload. */
export type StatementPayload = SenderStatement | SettlementStatement

/** Answer of `POST /v1/settlements/reconciliation` (TMB-MTR-018, -020). */
export interface Reconciliation {
  period: string
  matched: boolean
  onlyHere: SettlementDelivery[]
  onlyThere: SettlementDelivery[]
  classMismatch: { sender: string; messageId: string; here: StampClass; there: StampClass }[]
  countersignature?: string
}

/** The CSV header of a sender statement (11.5). */
export const STATEMENT_CSV_HEADER = 'entryId,sequence,time,kind,stampClass,amount,currency,messageId,evidenceId,reference,balanceAfter'

const fail = (detail: string): never => {
  throw new TimbreError('statement-invalid', { detail })
}

/**
 * JCS (RFC 8785) serialisation of a JSON value made of objects, arrays,
 * strings, booleans, null and safe integers (all statement members are):
 * members sorted by UTF-16 code units, no whitespace.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, 'x'] }) // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TimbreError('schema-violation', { detail: 'statements hold integers only' })
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  throw new TimbreError('schema-violation', { detail: `cannot serialise a ${typeof value}` })
}

/**
 * Sign a statement payload (sender statement or settlement) as a
 * `timbre-statement+jws` over its JCS bytes. Two operators signing the same
 * settlement payload produce the same payload segment (TMB-MTR-017).
 *
 * @example
 * ```ts
 * const jws = await signStatement(settlementPayload, nodeSigningKey)
 * ```
 */
export async function signStatement(payload: StatementPayload, key: PrivateJwk): Promise<string> {
  assertSchema(payload.kind === 'settlement' ? 'settlement-statement.json' : 'statement.json', payload)
  return signJwsText(canonicalJson(payload), STATEMENT_TYP, key)
}

/** Check the arithmetic of a sender statement (TMB-MTR-015). */
function checkSenderStatement(s: SenderStatement): void {
  const sum = s.classes.reduce((a, c) => a + c.amount, 0) + s.refunds.amount + s.topups.amount + s.adjustments.amount
  if (s.openingBalance + sum !== s.closingBalance) fail('closingBalance is not openingBalance plus the amounts of the period')
  const count = s.classes.reduce((a, c) => a + c.count, 0) + s.refunds.count + s.topups.count + s.adjustments.count
  const seen = new Set<string>()
  for (const c of s.classes) {
    if (seen.has(c.stampClass)) fail(`class ${c.stampClass} is listed twice`)
    seen.add(c.stampClass)
    if (c.amount > 0 || (c.count === 0 && c.amount !== 0)) fail(`the charges of class ${c.stampClass} are inconsistent`)
  }
  if (s.refunds.amount < 0 || s.topups.amount < 0) fail('refunds and top-ups cannot be negative')
  if ((s.firstSequence === undefined) !== (s.lastSequence === undefined)) fail('firstSequence and lastSequence go together')
  if (s.firstSequence === undefined) {
    if (count !== 0) fail('a statement without entries has no counts')
  } else if (s.lastSequence! - s.firstSequence + 1 !== count) {
    fail('the counts do not cover the sequence range firstSequence..lastSequence')
  }
}

/** Check the arithmetic of a settlement statement (TMB-MTR-019). */
function checkSettlement(s: SettlementStatement): void {
  const perClass = new Map<string, number>()
  let previous = ''
  for (const d of s.deliveries) {
    const k = `${d.sender}\u0000${d.messageId}`
    if (k <= previous) fail('deliveries are not sorted by sender then messageId, or repeat one')
    previous = k
    perClass.set(d.stampClass, (perClass.get(d.stampClass) ?? 0) + 1)
  }
  const seen = new Set<string>()
  for (const c of s.classes) {
    if (seen.has(c.stampClass)) fail(`class ${c.stampClass} is listed twice`)
    seen.add(c.stampClass)
    if (c.amount !== c.count * c.fee) fail(`class ${c.stampClass}: amount is not count × fee`)
    if ((perClass.get(c.stampClass) ?? 0) !== c.count) fail(`class ${c.stampClass}: count differs from the deliveries listed`)
  }
  for (const k of perClass.keys()) if (!seen.has(k)) fail(`deliveries of class ${k} are not counted`)
}

/** Options of {@link verifyStatement}. */
export interface VerifyStatementOptions {
  /** Expected `kind`. */
  kind?: StatementPayload['kind']
  /** Expected `sender` (sender statements). */
  sender?: string
  /** Expected `period`. */
  period?: string
  /** Expected `issuer` (sender statements). */
  issuer?: string
  /** The statement's CSV: its rows must be exactly the statement's entries and figures. */
  csv?: string
}

/**
 * Verify a statement offline (TMB-MTR-016): `typ`, signature against keys the
 * caller trusts (the routing node's JWKS), the payload schema, and the
 * arithmetic (a sender statement's closing balance and counts, a
 * settlement's `count × fee` and per-class counts). With `csv`, every row is
 * checked against the statement too. Throws `statement-invalid`.
 *
 * @example
 * ```ts
 * import { verifyStatement } from '@timbre/sdk'
 * const jwks = await (await fetch('https://router.example/.well-known/jwks.json')).json()
 * const s = await verifyStatement(jws, jwks, { kind: 'sender-statement', period: '2026-11' })
 * console.log(s.closingBalance)
 * ```
 */
export async function verifyStatement<T extends StatementPayload = StatementPayload>(jws: string, keys: TrustedKeys, options: VerifyStatementOptions = {}): Promise<T> {
  const { payload } = await verifyJws<StatementPayload>(jws, { typ: STATEMENT_TYP, resolveKey: toResolver(keys), code: 'statement-invalid' })
  try {
    assertSchema(payload.kind === 'settlement' ? 'settlement-statement.json' : 'statement.json', payload)
  } catch (err) {
    fail(`the payload does not match its schema: ${(err as TimbreError).detail ?? ''}`)
  }
  if (options.kind && payload.kind !== options.kind) fail(`kind must be ${options.kind}`)
  if (options.period && payload.period !== options.period) fail(`period must be ${options.period}`)
  if (payload.kind === 'sender-statement') {
    if (options.sender && payload.sender !== options.sender) fail(`sender must be ${options.sender}`)
    if (options.issuer && payload.issuer !== options.issuer) fail(`issuer must be ${options.issuer}`)
    checkSenderStatement(payload)
    if (options.csv !== undefined) checkCsv(payload, options.csv)
  } else {
    checkSettlement(payload)
  }
  return payload as T
}

/** Keys of both operators of a settlement. */
export interface SettlementKeys {
  routing: TrustedKeys
  vault: TrustedKeys
}

/**
 * Verify a settled statement offline (TMB-MTR-021): the routing operator's
 * and the vault operator's JWS, each against its own operator's keys, over
 * byte-identical payloads. Returns the payload both signed.
 *
 * @example
 * ```ts
 * const rec = await vaultNode.reconcile(myJws) // POST /v1/settlements/reconciliation
 * if (rec.matched) await verifySettlement(myJws, rec.countersignature!, { routing: myJwks, vault: vaultJwks })
 * ```
 */
export async function verifySettlement(routingJws: string, vaultJws: string, keys: SettlementKeys): Promise<SettlementStatement> {
  if (typeof routingJws !== 'string' || typeof vaultJws !== 'string') fail('two compact JWS are needed')
  if (routingJws.split('.')[1] !== vaultJws.split('.')[1]) fail('the two signatures are not over the same payload')
  const a = await verifyStatement<SettlementStatement>(routingJws, keys.routing, { kind: 'settlement' })
  await verifyStatement<SettlementStatement>(vaultJws, keys.vault, { kind: 'settlement' })
  return a
}

/**
 * Decode a statement payload without verifying it.
 *
 * @example
 * ```ts
 * decodeStatement(jws).period // '2026-11' — call verifyStatement before trusting any figure
 * ```
 */
export function decodeStatement<T extends StatementPayload = StatementPayload>(jws: string): T {
  return peekPayload<T>(jws) ?? fail('not a statement JWS')
}

// CSV (RFC 4180): quote a field holding a comma, quote or line break.
const csvField = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * A statement's CSV (11.5): the header, then one ledger entry per row, CRLF.
 *
 * @example
 * ```ts
 * writeFileSync('2026-11.csv', statementCsv(entries))
 * ```
 */
export function statementCsv(entries: readonly LedgerEntry[]): string {
  const rows = [STATEMENT_CSV_HEADER]
  for (const e of entries) {
    rows.push([e.entryId, e.sequence, e.time, e.kind, e.stampClass, e.amount, e.currency, e.messageId, e.evidenceId, e.reference, e.balanceAfter].map(csvField).join(','))
  }
  return rows.join('\r\n') + '\r\n'
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++ } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') { row.push(field); field = '' }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field); rows.push(row); row = []; field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row) }
  return rows
}

function checkCsv(s: SenderStatement, csv: string): void {
  const rows = parseCsv(csv)
  if (rows.shift()?.join(',') !== STATEMENT_CSV_HEADER) fail('the CSV header is not the statement header')
  let balance = s.openingBalance
  let seq = s.firstSequence ?? 0
  const sums = new Map<string, { count: number; amount: number }>()
  for (const r of rows) {
    const [, sequence, , kind, stampClass, amount, currency, , , , balanceAfter] = r
    if (r.length !== 11 || Number(sequence) !== seq) fail(`CSV row ${seq}: malformed or out of sequence`)
    if (currency !== s.currency) fail(`CSV row ${seq}: currency differs`)
    balance += Number(amount)
    if (Number(balanceAfter) !== balance) fail(`CSV row ${seq}: balanceAfter does not follow`)
    const bucket = kind === 'charge' ? `charge:${stampClass}` : kind!
    const b = sums.get(bucket) ?? { count: 0, amount: 0 }
    b.count++; b.amount += Number(amount)
    sums.set(bucket, b)
    seq++
  }
  const expect = (bucket: string, ca: CountAmount): void => {
    const b = sums.get(bucket) ?? { count: 0, amount: 0 }
    if (b.count !== ca.count || b.amount !== ca.amount) fail(`CSV ${bucket} figures differ from the statement`)
  }
  if (rows.length > 0 && s.lastSequence !== seq - 1) fail('the CSV does not end at lastSequence')
  if (balance !== s.closingBalance) fail('the CSV does not end at closingBalance')
  for (const c of s.classes) expect(`charge:${c.stampClass}`, c)
  const listed = new Set(s.classes.map((c) => `charge:${c.stampClass}`))
  for (const k of sums.keys()) if (k.startsWith('charge:') && !listed.has(k)) fail(`CSV charges of ${k.slice(7)} are not in the statement`)
  expect('refund', s.refunds)
  expect('topup', s.topups)
  expect('adjustment', s.adjustments)
}
