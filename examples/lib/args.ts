// Flags first, then environment variables, then defaults.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export type FlagSpec = Record<string, { env?: string; default?: string; boolean?: boolean; help: string }>

export function readOptions<S extends FlagSpec>(spec: S, argv = process.argv.slice(2), env = process.env): Record<keyof S, string | undefined> & { help: boolean } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } }
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.boolean ? 'boolean' : 'string' }
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false })
  const out: Record<string, string | undefined> = {}
  for (const [name, s] of Object.entries(spec)) {
    const flag = values[name]
    out[name] = flag === true ? 'true' : typeof flag === 'string' ? flag : (s.env ? env[s.env] : undefined) ?? s.default
  }
  return { ...(out as Record<keyof S, string | undefined>), help: values.help === true }
}

export function usage(command: string, summary: string, spec: FlagSpec): string {
  const lines = [`Usage: ${command} [options]`, '', summary, '', 'Options:']
  for (const [name, s] of Object.entries(spec)) {
    const left = `  --${name}${s.boolean ? '' : ' <value>'}`
    const right = [s.help, s.env && `env ${s.env}`, s.default !== undefined && `default ${s.default}`].filter(Boolean).join('; ')
    lines.push(`${left.padEnd(34)} ${right}`)
  }
  lines.push(`${'  -h, --help'.padEnd(34)} this help`)
  return lines.join('\n')
}
