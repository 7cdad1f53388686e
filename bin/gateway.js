#!/usr/bin/env node
// The gateway is TypeScript run directly: tsx compiles each module once as it loads.
import { register } from 'tsx/esm/api'

register()
await import('../cli/main.ts')
