// Kysely table types. JSON columns are written as JSON text (both drivers
// cast it to jsonb) and read back parsed, hence ColumnType<object, string, string>.
import type { ColumnType, Generated } from 'kysely'
import type { DirectoryAndVaultTables } from './schema-directory.js'
import type { MeteringTables } from './schema-metering.js'
import type { PortingTables } from './schema-porting.js'

type Json<T> = ColumnType<T, string, string>
type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface NodeKeysTable {
  /** RFC 7638 thumbprint. */
  kid: string
  use: 'sig' | 'enc'
  alg: string
  private_jwk: Json<Record<string, unknown>>
  public_jwk: Json<Record<string, unknown>>
  not_before: Timestamp
  /** Null while the key is current; set when retired (never deleted, TMB-TRUST). */
  not_after: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  created_at: CreatedAt
}

export interface SendersTable {
  /** ISO 6523 organisation id. */
  id: string
  name: string | null
  jwk: Json<Record<string, unknown>>
  kid: string
  status: 'active' | 'disabled'
  webhook_url: string | null
  created_at: CreatedAt
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface ReplayNoncesTable {
  jti: string
  expires_at: Timestamp
}

export interface IdempotencyKeysTable {
  sender_id: string
  key: string
  /** base64url SHA-256 of the exact request body (TMB-IDEM-003). */
  request_hash: string
  state: 'in_progress' | 'completed'
  response_status: number | null
  response_body: ColumnType<unknown, string | null | undefined, string | null>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  expires_at: Timestamp
}

export type DeliveryStatusColumn = 'accepted' | 'relaying' | 'rerouting' | 'delivered' | 'rejected' | 'failed'

export interface DeliveriesTable {
  sender_id: string
  message_id: string
  recipient: string
  envelope: string
  /** The content JWE; the node never holds the plaintext. */
  content: string
  envelope_digest: string
  content_digest: Json<{ alg: 'sha-256'; value: string }>
  stamp: string
  stamp_class: 'standard' | 'registered'
  status: DeliveryStatusColumn
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  window_ends_at: Timestamp
  recipient_operator: string | null
  route_version: number | null
  reason: ColumnType<{ code: string; detail?: string } | null, string | null | undefined, string | null>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  final_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface OutboxTable {
  id: Generated<string>
  kind: 'relay' | 'webhook' | 'handover'
  sender_id: string
  message_id: string
  payload: Json<Record<string, unknown>>
  available_at: Timestamp
  attempts: ColumnType<number, number | undefined, number>
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  locked_by: string | null
  last_error: string | null
  created_at: CreatedAt
}

export interface EvidenceTable {
  evidence_id: string
  sender_id: string
  message_id: string
  event: string
  issuer: string
  jws: string
  seq: Generated<string>
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export interface Database extends DirectoryAndVaultTables, PortingTables, MeteringTables {
  node_keys: NodeKeysTable
  senders: SendersTable
  replay_nonces: ReplayNoncesTable
  idempotency_keys: IdempotencyKeysTable
  deliveries: DeliveriesTable
  outbox: OutboxTable
  evidence: EvidenceTable
}

export type { Generated }
