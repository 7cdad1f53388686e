// The two undici modules the kit loads instead of undici's index (wire-client.ts): their types are
// the index's own. undici has no `exports` map, so these paths are importable as they are.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici'
  const AgentClass: typeof Agent
  export default AgentClass
}
declare module 'undici/lib/api/index.js' {
  import type { Dispatcher } from 'undici'
  const api: { request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> }
  export default api
}
