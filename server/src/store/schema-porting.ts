// Kysely table types of portability (migrations 0007 and 0008), kept apart
// from schema.ts so that roles edit separate files.
import type { ColumnType, Generated } from 'kysely'

type Json<T> = ColumnType<T, string, string>
type Timestamp = ColumnType<Date, Date | string, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>

export interface PortingCodesTable {
  address: string
  code_digest: string
  donor: string
  status: ColumnType<'active' | 'used' | 'invalidated', 'active' | 'used' | 'invalidated' | undefined, 'active' | 'used' | 'invalidated'>
  registered_at: Timestamp
  expires_at: Timestamp
  used_at: NullableTimestamp
}

export interface PortsTable {
  port_id: string
  address: string
  donor: string
  recipient_operator: string
  requested_at: Timestamp
  objection_deadline: Timestamp
  cutover_at: Timestamp
  status: 'pending' | 'objected' | 'cancelled' | 'completed'
  reason: NullableJson<{ code: string; detail?: string }>
  consent: Json<{ givenAt: string; reference: string }>
  code_digest: string
  updated_at: Timestamp
}

export interface VaultAdditionalDocumentsTable {
  id: Generated<string>
  sender: string
  message_id: string
  address: string
  metadata: Json<Record<string, unknown>>
  envelope: string
  sender_key: Json<Record<string, unknown>>
  stamp: string
  evidence: string
  chain: NullableJson<string[]>
  document: Uint8Array
  size: number
  digest: Json<{ alg: string; value: string }>
  deposited_at: Timestamp
  conflict_of: Json<{ sender: string; messageId: string }>
}

export interface VaultJournalTable {
  id: Generated<string>
  address: string
  entry: Json<Record<string, unknown>>
}

export interface VaultImportsTable {
  key: string
  address: string
  response: Json<Record<string, unknown>>
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export type PortingJobKind = 'port-notification' | 'directory-push' | 'archive-transfer' | 'ported-purge'

export interface PortingJobsTable {
  id: Generated<string>
  kind: PortingJobKind
  key: string
  payload: Json<Record<string, unknown>>
  available_at: Timestamp
  attempts: ColumnType<number, number | undefined, number>
  locked_until: NullableTimestamp
  last_error: string | null
  done_at: NullableTimestamp
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export interface DirectoryReplicaLinesTable {
  address: string
  version: number
  operator_id: string
  valid_from: Timestamp
  valid_to: NullableTimestamp
  line: string
}

export interface DirectoryReplicaStateTable {
  directory_url: string
  cursor: ColumnType<string, string | bigint | number, string | bigint | number>
  synced_at: NullableTimestamp
}

/** Merged into the node's Database interface (schema.ts). */
/** Failed port requests, for the limit of TMB-PORT-008. */
export interface PortRequestFailuresTable {
  id: Generated<string>
  address: string
  operator_id: string
  code: string
  failed_at: Date
}

export interface PortingTables {
  port_request_failures: PortRequestFailuresTable
  porting_codes: PortingCodesTable
  ports: PortsTable
  vault_additional_documents: VaultAdditionalDocumentsTable
  vault_journal: VaultJournalTable
  vault_imports: VaultImportsTable
  porting_jobs: PortingJobsTable
  directory_replica_lines: DirectoryReplicaLinesTable
  directory_replica_state: DirectoryReplicaStateTable
}
