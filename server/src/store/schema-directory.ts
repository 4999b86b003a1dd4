// Kysely table types of the directory and vault-operator roles (migrations
// 0003 and 0004), kept apart from schema.ts so the roles edit separate files.
import type { ColumnType } from 'kysely'

type Json<T> = ColumnType<T, string, string>
type Timestamp = ColumnType<Date, Date | string, Date | string>
type Defaulted<T> = ColumnType<T, T | undefined, T>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

export interface OperatorsTable {
  id: string
  name: string | null
  base_url: string
  relay_endpoint: string
  roles: Json<string[]>
  status: Defaulted<'active' | 'suspended' | 'revoked'>
  jwks: Json<{ keys: Array<Record<string, unknown>> }>
  key_thumbprints: Json<string[]>
  revision: ColumnType<string, string | bigint | number, string | bigint | number>
  created_at: ColumnType<Date, Date | string | undefined, never>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DirectoryLinesTable {
  address: string
  version: number
  operator_id: string
  relay_endpoint: string
  encryption_keys: Json<Array<Record<string, unknown>>>
  valid_from: Timestamp
  valid_to: NullableTimestamp
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export interface DirectoryChangesTable {
  /** bigint, read back as a decimal string by both drivers. */
  cursor: ColumnType<string, string | bigint | number, never>
  address: string
  version: number
  operator_id: string
  valid_from: Timestamp
  valid_to: NullableTimestamp
  line: string
  changed_at: ColumnType<Date, Date | string | undefined, never>
}

export interface VaultAccountsTable {
  address: string
  status: Defaulted<'active' | 'moved'>
  moved_to: string | null
  reference: string | null
  created_at: ColumnType<Date, Date | string | undefined, never>
  /** Migration 0007: a move scheduled at a port's cut-over. */
  move_to: ColumnType<string | null, string | null | undefined, string | null>
  move_at: NullableTimestamp
}

export interface VaultDepositsTable {
  sender: string
  message_id: string
  address: string
  metadata: Json<Record<string, unknown>>
  envelope: string
  sender_key: Json<Record<string, unknown>>
  stamp: string
  evidence: string
  document: Uint8Array
  size: number
  digest: Json<{ alg: string; value: string }>
  deposited_at: Timestamp
  /** Migration 0007: the evidence chain of an imported document. */
  chain: ColumnType<string[] | null, string | null | undefined, string | null>
  /** Migration 0011: the Handover evidence, set once at the first open (TMB-EVD-015). */
  handover: ColumnType<string | null, string | null | undefined, string | null>
}

/** Merged into the node's Database interface (schema.ts). */
export interface DirectoryAndVaultTables {
  operators: OperatorsTable
  directory_lines: DirectoryLinesTable
  directory_changes: DirectoryChangesTable
  vault_accounts: VaultAccountsTable
  vault_deposits: VaultDepositsTable
}
