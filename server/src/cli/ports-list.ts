// `timbre ports list [--status S]`: this operator's ports, as donor or new operator.
import { UsageError, type Flags } from './args.js'
import type { CliIo } from './io.js'
import { adminCall, adminOptions, adminTarget, printPort, type PortView } from './ports-admin.js'

export const usage = 'timbre ports list [--status pending|objected|cancelled|completed] [--url <node>] [--admin-token <token>] [--json]'
export const options = { ...adminOptions, status: { type: 'string' } } as const

export async function portsList(flags: Flags, io: CliIo): Promise<number> {
  const status = typeof flags.status === 'string' ? flags.status : undefined
  if (status && !['pending', 'objected', 'cancelled', 'completed'].includes(status)) throw new UsageError('--status must be pending, objected, cancelled or completed')
  const { ports } = await adminCall<{ ports: PortView[] }>(adminTarget(flags, io), 'GET', `/v1/admin/ports${status ? `?status=${status}` : ''}`)
  if (flags.json) io.out(JSON.stringify({ ports }, null, 2))
  else if (ports.length === 0) io.out('no ports')
  else for (const p of ports) printPort(io, p, false)
  return 0
}
