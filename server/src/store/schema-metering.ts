// Kysely table types of metering (migrations 0009 and 0010), apart from
// schema.ts so that roles edit separate files. bigint columns read back as
// strings on PostgreSQL and as numbers or strings on PGlite: use Number().
import type { ColumnType, Generated } from 'kysely'

type BigInt = ColumnType<string | number, number | string | undefined, number | string>

export interface StampAccountsTable {
  sender_id: string
  currency: string
  balance: BigInt
  credit_limit: BigInt
  last_sequence: BigInt
  created_at: ColumnType<Date, Date | string | undefined, never>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface StampLedgerTable {
  id: Generated<string>
  entry_id: string
  sender_id: string
  sequence: ColumnType<string | number, number, never>
  kind: 'charge' | 'refund' | 'topup' | 'adjustment'
  stamp_class: 'standard' | 'registered' | null
  amount: ColumnType<string | number, number, never>
  currency: string
  message_id: string | null
  evidence_id: string | null
  reason: string | null
  operator_action: string | null
  balance_after: ColumnType<string | number, number, never>
  created_at: ColumnType<Date, Date | string, never>
}

export interface IssuedStatementsTable {
  kind: 'sender-statement' | 'settlement'
  subject: string
  period: string
  jws: string
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export interface MeteringTables {
  stamp_accounts: StampAccountsTable
  stamp_ledger: StampLedgerTable
  issued_statements: IssuedStatementsTable
}
