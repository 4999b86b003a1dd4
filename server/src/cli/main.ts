// The `timbre` command line: picks the command, parses its flags, runs it,
// and maps failures to an exit code (0 ok, 1 failed, 2 usage/configuration).
import { ConfigError } from '../config/sources.js'
import { NodeError } from '../errors.js'
import { parseCommandLine, UsageError, type Flags } from './args.js'
import { helpText } from './help.js'
import { processIo, type CliIo } from './io.js'
import { keysShow } from './keys-show.js'
import * as sendersAdd from './senders-add.js'
import * as sendersList from './senders-list.js'
import * as sendersStatus from './senders-status.js'
import { start } from './start.js'
import * as portsCode from './ports-code.js'
import * as portsRequest from './ports-request.js'
import * as portsList from './ports-list.js'
import * as portsShow from './ports-show.js'
import * as portsCancel from './ports-cancel.js'
import * as portsExport from './ports-export.js'
import * as stampsTopup from './stamps-topup.js'
import * as stampsBalance from './stamps-balance.js'
import * as stampsLedger from './stamps-ledger.js'

type Run = (flags: Flags, io: CliIo) => Promise<number>
interface Command { readonly words: readonly string[]; readonly options?: Parameters<typeof parseCommandLine>[1]; readonly run: Run }

const COMMANDS: readonly Command[] = [
  { words: ['start'], run: start },
  { words: ['senders', 'add'], options: sendersAdd.options, run: sendersAdd.sendersAdd },
  { words: ['senders', 'list'], options: sendersList.options, run: sendersList.sendersList },
  { words: ['senders', 'disable'], options: sendersStatus.options, run: sendersStatus.sendersSetStatus('disabled') },
  { words: ['senders', 'enable'], options: sendersStatus.options, run: sendersStatus.sendersSetStatus('active') },
  { words: ['keys', 'show'], run: keysShow },
  { words: ['ports', 'code'], options: portsCode.options, run: portsCode.portsCode },
  { words: ['ports', 'request'], options: portsRequest.options, run: portsRequest.portsRequest },
  { words: ['ports', 'list'], options: portsList.options, run: portsList.portsList },
  { words: ['ports', 'show'], options: portsShow.options, run: portsShow.portsShow },
  { words: ['ports', 'cancel'], options: portsCancel.options, run: portsCancel.portsCancel },
  { words: ['ports', 'export'], options: portsExport.options, run: (flags, io) => portsExport.portsExport(flags, io) },
  { words: ['stamps', 'topup'], options: stampsTopup.options, run: stampsTopup.stampsTopup },
  { words: ['stamps', 'balance'], options: stampsBalance.options, run: stampsBalance.stampsBalance },
  { words: ['stamps', 'ledger'], options: stampsLedger.options, run: stampsLedger.stampsLedger },
]

function findCommand(argv: readonly string[]): Command | undefined {
  const words = argv.filter((a) => !a.startsWith('-'))
  return COMMANDS.find((c) => c.words.every((w, i) => words[i] === w))
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const command = findCommand(argv)
  if (!command) {
    const wantsHelp = argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help'
    ;(wantsHelp ? io.out : io.err)(wantsHelp ? helpText() : `unknown command: ${argv.join(' ')}\n\n${helpText()}`)
    return wantsHelp ? 0 : 2
  }
  try {
    const { positionals, flags } = parseCommandLine(argv, command.options)
    if (flags.help) {
      io.out(helpText())
      return 0
    }
    if (positionals.length !== command.words.length) throw new UsageError(`unexpected argument: ${positionals.slice(command.words.length).join(' ')}`)
    return await command.run(flags, io)
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(`timbre: ${err.message}\n(run timbre --help)`)
      return 2
    }
    if (err instanceof NodeError) {
      io.err(`timbre: ${err.code}: ${err.detail ?? err.message}`)
      return 1
    }
    io.err(`timbre: ${(err as Error).message ?? String(err)}`)
    return 1
  }
}
