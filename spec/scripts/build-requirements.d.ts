import type { Requirement } from '../index.js'
export declare const specDir: string
export declare const REQUIREMENT_RE: RegExp
export declare const ROLES: string[]
export declare const AREAS: string[]
export declare const CHAPTER_RE: RegExp
export declare function chapterFiles(dir?: string): string[]
export declare function parseChapter(text: string, chapter: string): Requirement[]
export declare function parse(dir?: string): Requirement[]
export declare function specVersion(dir?: string): string
export declare function build(dir?: string): { version: string; requirements: Requirement[] }
export declare function render(doc: { version: string; requirements: Requirement[] }): string
