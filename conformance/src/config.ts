/** `conformance.json`: loading, defaults and command-line overrides. */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { PROFILES, HarnessError, type Profile, type SuiteConfig } from './types.js'

export const DEFAULT_CONFIG_FILE = 'conformance.json'
export const DEFAULT_SUITE_OPERATOR = 'conformance.timbre.test'
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_SPEC_BASE = '../spec/'

export interface ConfigOverrides {
  target?: string
  profile?: string
  features?: string[]
  operatorId?: string
  filter?: string
  timeoutMs?: number
  specBaseUrl?: string
  addresses?: string[]
}

/** Read the config file (if any) and apply overrides; key file paths resolve relative to the file. */
export function loadConfig(file: string | undefined, o: ConfigOverrides = {}): SuiteConfig {
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
  let raw: any = {}
  if (path) {
    if (!existsSync(path)) throw new HarnessError(`config file ${path} does not exist`)
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new HarnessError(`config file ${path} is not JSON: ${(err as Error).message}`)
    }
  }
  const dir = path ? dirname(resolve(path)) : process.cwd()
  const rel = (p: string | undefined) => (p ? resolve(dir, p) : undefined)
  const target = o.target ?? raw.target
  if (!target) throw new HarnessError('no target: give --target <url> or "target" in conformance.json')
  const profile = (o.profile ?? raw.profile ?? 'vault-operator') as Profile
  if (!PROFILES.includes(profile)) throw new HarnessError(`unknown profile ${profile}; one of ${PROFILES.join(', ')}`)
  return normalizeConfig({
    target,
    profile,
    features: o.features ?? raw.features ?? [],
    operatorId: o.operatorId ?? raw.operatorId,
    suite: { operatorId: raw.suite?.operatorId ?? DEFAULT_SUITE_OPERATOR, keyFile: rel(raw.suite?.keyFile ?? (path ? 'conformance-key.json' : undefined)) },
    vault: { addresses: o.addresses ?? raw.vault?.addresses ?? [] },
    ...(raw.sender?.id ? { sender: { id: raw.sender.id, keyFile: rel(raw.sender.keyFile) } } : {}),
    ...(raw.admin?.token ? { admin: { token: raw.admin.token } } : {}),
    ...(raw.suiteVault ? { suiteVault: raw.suiteVault } : {}),
    ...(raw.portability ? { portability: raw.portability } : {}),
    filter: o.filter,
    timeoutMs: o.timeoutMs ?? raw.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    specBaseUrl: o.specBaseUrl ?? raw.specBaseUrl ?? DEFAULT_SPEC_BASE,
  })
}

/** Fill defaults of a programmatic config. */
export function normalizeConfig(c: Partial<SuiteConfig> & { target: string }): SuiteConfig {
  return {
    target: c.target.replace(/\/+$/, ''),
    profile: c.profile ?? 'vault-operator',
    features: c.features ?? [],
    ...(c.operatorId ? { operatorId: c.operatorId } : {}),
    suite: { operatorId: c.suite?.operatorId ?? DEFAULT_SUITE_OPERATOR, ...(c.suite?.keyFile ? { keyFile: c.suite.keyFile } : {}), ...(c.suite?.key ? { key: c.suite.key } : {}) },
    vault: { addresses: c.vault?.addresses ?? [] },
    ...(c.sender ? { sender: c.sender } : {}),
    ...(c.admin ? { admin: c.admin } : {}),
    ...(c.suiteVault ? { suiteVault: c.suiteVault } : {}),
    ...(c.portability ? { portability: c.portability } : {}),
    ...(c.filter ? { filter: c.filter } : {}),
    timeoutMs: c.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    specBaseUrl: c.specBaseUrl ?? DEFAULT_SPEC_BASE,
  }
}

/** The skeleton `init` writes. */
export function configSkeleton(target: string, profile: Profile): Record<string, unknown> {
  return {
    target,
    profile,
    features: [],
    operatorId: '',
    suite: { operatorId: DEFAULT_SUITE_OPERATOR, keyFile: 'conformance-key.json' },
    vault: { addresses: [] },
    sender: { id: '0009:CONFORMANCE01', keyFile: 'conformance-sender-key.json' },
    admin: { token: '' },
  }
}
