#!/usr/bin/env node
// Builds spec/requirements.json from the chapter files (spec/NN-*.md).
//
//   node scripts/build-requirements.js          write requirements.json
//   node scripts/build-requirements.js --check  exit 1 if it is out of date
//
// A requirement is one Markdown list item on one line (see spec/README.md):
//   - `TMB-ADDR-001` **MUST** (sender, routing-node): The sender SDK MUST …
// Plain ESM, no dependencies.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

export const specDir = join(dirname(fileURLToPath(import.meta.url)), '..')
export const REQUIREMENT_RE =
  /^- `(TMB-[A-Z]+-\d{3})` \*\*(MUST NOT|MUST|SHOULD NOT|SHOULD|MAY)\*\* \(([a-z, -]+)\): (.+)$/
export const ROLES = ['sender', 'routing-node', 'vault-operator', 'directory', 'network-authority', 'sdk']
export const AREAS = ['OVR', 'ADDR', 'ID', 'TRUST', 'AUTH', 'ENV', 'SUB', 'IDEM', 'RLY', 'EVD', 'DIR', 'PORT', 'ARC', 'RTY', 'MTR', 'ERR', 'VER']
export const CHAPTER_RE = /^\d\d-[a-z0-9-]+\.md$/

/** The chapter file names (NN-*.md) of a spec directory, sorted. */
export function chapterFiles(dir = specDir) {
  return readdirSync(dir).filter((f) => CHAPTER_RE.test(f)).sort()
}

/**
 * Requirements of one chapter, in order of appearance. Lines inside fenced
 * code blocks are ignored.
 * @param {string} text Markdown source
 * @param {string} chapter file name without `.md`
 */
export function parseChapter(text, chapter) {
  const out = []
  let fenced = false
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) { fenced = !fenced; continue }
    if (fenced) continue
    const m = REQUIREMENT_RE.exec(line)
    if (!m) continue
    const [, id, level, roles, body] = m
    out.push({
      id,
      level,
      chapter,
      text: body.trim(),
      roles: roles.split(',').map((r) => r.trim()).filter(Boolean),
    })
  }
  return out
}

/** Every requirement of every chapter, sorted by chapter then order. */
export function parse(dir = specDir) {
  return chapterFiles(dir).flatMap((f) =>
    parseChapter(readFileSync(join(dir, f), 'utf8'), f.replace(/\.md$/, '')))
}

/** SPEC_VERSION as exported by spec/index.js (read textually: no import side effects). */
export function specVersion(dir = specDir) {
  const src = readFileSync(join(dir, 'index.js'), 'utf8')
  const m = /export const SPEC_VERSION\s*=\s*['"]([^'"]+)['"]/.exec(src)
  if (!m) throw new Error('SPEC_VERSION not found in spec/index.js')
  return m[1]
}

/** The requirements.json document for a spec directory. */
export function build(dir = specDir) {
  return { version: specVersion(dir), requirements: parse(dir) }
}

/** Serialisation used for requirements.json (stable, trailing newline). */
export function render(doc) {
  return JSON.stringify(doc, null, 2) + '\n'
}

function main(argv) {
  const target = join(specDir, 'requirements.json')
  const text = render(build(specDir))
  if (argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : ''
    if (current !== text) {
      console.error('spec/requirements.json is out of date: run `npm run build:requirements -w spec`')
      process.exit(1)
    }
    console.log('spec/requirements.json is up to date')
    return
  }
  writeFileSync(target, text)
  console.log(`wrote ${target} (${JSON.parse(text).requirements.length} requirements)`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2))
