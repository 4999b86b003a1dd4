// `timbre --help`: commands, then every configuration flag with its
// environment variable (generated from config/sources.ts, so it cannot drift).
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, SETTINGS } from '../config/sources.js'
import * as keysShow from './keys-show.js'
import * as sendersAdd from './senders-add.js'
import * as sendersList from './senders-list.js'
import * as sendersStatus from './senders-status.js'
import * as start from './start.js'
import * as portsCode from './ports-code.js'
import * as portsRequest from './ports-request.js'
import * as portsList from './ports-list.js'
import * as portsShow from './ports-show.js'
import * as portsCancel from './ports-cancel.js'
import * as portsExport from './ports-export.js'
import * as stampsTopup from './stamps-topup.js'
import * as stampsBalance from './stamps-balance.js'
import * as stampsLedger from './stamps-ledger.js'

export function helpText(): string {
  const flagWidth = Math.max(...SETTINGS.map((s) => s.flag.length)) + 4
  const envWidth = Math.max(...SETTINGS.map((s) => s.env.length)) + 2
  const lines = [
    'timbre — the Timbre reference node',
    '',
    'Commands:',
    `  ${start.usage}`,
    `  ${sendersAdd.usage}`,
    `  ${sendersList.usage}`,
    `  ${sendersStatus.disableUsage}`,
    `  ${sendersStatus.enableUsage}`,
    `  ${keysShow.usage}`,
    `  ${stampsTopup.usage}`,
    `  ${stampsBalance.usage}`,
    `  ${stampsLedger.usage}`,
    `  ${portsCode.usage}`,
    `  ${portsRequest.usage}`,
    `  ${portsList.usage}`,
    `  ${portsShow.usage}`,
    `  ${portsCancel.usage}`,
    `  ${portsExport.usage}`,
    '  timbre --help',
    '',
    'The senders and keys commands work on the database directly (no running node',
    'needed); with the embedded database they refuse while a node runs on the same',
    'data dir — use the admin API (/v1/admin/senders) then.',
    '',
    'Configuration (flag, environment variable, meaning and default). Precedence:',
    `defaults < JSON file (--${CONFIG_FILE_FLAG} / ${CONFIG_FILE_ENV}) < environment < flags.`,
    ...SETTINGS.map((s) => `  --${s.flag.padEnd(flagWidth - 2)}${s.env.padEnd(envWidth)}${s.help}`),
    `  --${CONFIG_FILE_FLAG.padEnd(flagWidth - 2)}${CONFIG_FILE_ENV.padEnd(envWidth)}JSON file shaped like the configuration object`,
  ]
  return lines.join('\n')
}
