// Command-line parsing shared by every command: the configuration flags of
// config/sources.ts plus a command's own flags, strictly (unknown flags fail).
import { parseArgs } from 'node:util'
import { CONFIG_FILE_FLAG, SETTINGS } from '../config/sources.js'

/** Thrown for a usage mistake; the CLI prints it with the help hint and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export type Flags = Record<string, string | boolean | undefined>

export interface ParsedArgs {
  readonly positionals: string[]
  readonly flags: Flags
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>

const CONFIG_OPTIONS: OptionSpec = Object.fromEntries([
  ...SETTINGS.map((s) => [s.flag, { type: 'string' as const }]),
  [CONFIG_FILE_FLAG, { type: 'string' as const }],
])

/** Parse argv (without node and script) with the config flags and `extra`. */
export function parseCommandLine(argv: readonly string[], extra: OptionSpec = {}): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...CONFIG_OPTIONS, help: { type: 'boolean', short: 'h' }, ...extra },
      allowPositionals: true,
      strict: true,
    })
    return { positionals, flags: values as Flags }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** A required string flag of a command. */
export function requireFlag(flags: Flags, name: string): string {
  const v = flags[name]
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`)
  return v
}
