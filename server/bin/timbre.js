#!/usr/bin/env node
// Committed launcher: npm links bins at install time, before `npm run build`
// has produced dist/, so the bin must be a file that exists in the checkout.
await import('../dist/bin/timbre.js')
