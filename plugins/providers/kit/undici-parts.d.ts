// The undici module the kit loads instead of undici's index (wire-client.ts): its type is the
// index's own. undici has no `exports` map, so this path is importable as it is.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici'
  const AgentClass: typeof Agent
  export default AgentClass
}
