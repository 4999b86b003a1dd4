import { readFileSync } from 'node:fs'

/** This package's version (from package.json, two levels above dist/*.js). */
export const NODE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
