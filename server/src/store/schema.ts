// Kysely table types. JSON columns are written as JSON text (both drivers
// cast it to jsonb) and read back parsed, hence ColumnType<object, string, string>.
import type { ColumnType, Generated } from 'kysely'

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

export interface Database {
  node_keys: NodeKeysTable
  senders: SendersTable
  replay_nonces: ReplayNoncesTable
}

export type { Generated }
