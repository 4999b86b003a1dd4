import { readFileSync } from 'node:fs'

/** The suite's package version. */
export const SUITE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
