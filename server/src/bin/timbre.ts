#!/usr/bin/env node
import { runCli } from '../cli/main.js'

// Exit explicitly: after a timed-out shutdown, handles may still be open.
process.exit(await runCli(process.argv.slice(2)))
