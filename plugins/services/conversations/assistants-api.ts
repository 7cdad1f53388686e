/**
 * service.assistants, mounted at /api/v1/assistants: assistants (a route, instructions, default
 * parameters, function tools, RAG collections, a context policy) scoped to a department
 * (`dept_scope`; none: every department). Admins manage all; department admins
 * (`manage_assistants`) their department's; users (`view_assistants`) list and use those of their
 * department and the global ones. Use one with `model: assistant/<name>` on /v1, or bind a thread.
 */
import {
  badRequest, definePlugin, reply,
  type AccessView, type Caller, type GatewayCalls, type RouteSpec, type Service,
} from '../../../plugin-api/index.ts'
import { auditTo, type Audit } from '../../contracts/audit.ts'
import { listOf, objectSchema } from '../kit/schema.ts'
import type { ChatTool } from '../../../plugin-api/index.ts'
import { AuditLog } from '../../contracts/capabilities.ts'
import { Conversations, type AssistantInput, type AssistantRecord, type ContextPolicy } from '../../contracts/conversations.ts'
import { requireSeenCollections, seesAssistant, visibleAssistant } from './access.ts'
import {
  ASSISTANT_PARAMS_SCHEMA, ASSISTANT_SCHEMA, DELETED_SCHEMA, FUNCTION_TOOL_SCHEMA, METADATA_SCHEMA, PAGE_QUERY, assistantView, pageWindow, paginationMeta, type PageQuery,
} from './views.ts'

type ChatFunctionTool = Extract<ChatTool, { type: 'function' }>

const MANAGE = 'manage_assistants'
const VIEW = 'view_assistants'
const ID_PARAMS = objectSchema({ id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id'])

const FIELDS = {
  name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'Unique within its department; `model: assistant/<name>` uses it.' },
  description: { type: ['string', 'null'], maxLength: 1000 },
  route: { type: 'string', minLength: 1, maxLength: 200, description: 'The model name the gateway routes.' },
  instructions: { type: ['string', 'null'], maxLength: 100000 },
  dept_scope: { type: ['string', 'null'], minLength: 1, maxLength: 64, description: 'The department that may use it; null: every department (admins only). Default: the creator\'s department.' },
  params: ASSISTANT_PARAMS_SCHEMA,
  tools: { type: 'array', maxItems: 128, items: FUNCTION_TOOL_SCHEMA },
  rag_collections: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 128 } },
  context_policy: objectSchema({
    strategy: { enum: ['truncate', 'summarize'], description: 'The oldest turns that do not fit the window: dropped, or summarised (through the service\'s summary_route) after the instructions.' },
    max_context_tokens: { type: 'integer', minimum: 256, description: 'A window lower than the model\'s (from the model catalog).' },
  }),
  metadata: METADATA_SCHEMA,
}
const CREATE_BODY = objectSchema(FIELDS, ['name', 'route'])
const PATCH_BODY = objectSchema(FIELDS)

interface AssistantBody {
  name?: string
  description?: string | null
  route?: string
  instructions?: string | null
  dept_scope?: string | null
  params?: AssistantRecord['params']
  tools?: ChatFunctionTool[]
  rag_collections?: string[]
  context_policy?: { strategy?: ContextPolicy['strategy']; max_context_tokens?: number }
  metadata?: Record<string, string>
}

/** The body as repository fields, checked against the config (route, department) and the caller's reach. */
function fieldsOf(body: AssistantBody, caller: Caller, access: AccessView, gateway: GatewayCalls, current?: AssistantRecord): Partial<AssistantInput> {
  if (body.route !== undefined && !gateway.routes(body.route)) throw badRequest(`No route answers '${body.route}' for you.`, 'route', 'unknown_route')
  const department = body.dept_scope !== undefined ? body.dept_scope : current ? current.department : (caller.principal.department ?? null)
  if (department !== null && !access.isDepartment(department)) throw badRequest(`No department '${department}' in gateway.yaml.`, 'dept_scope', 'unknown_department')
  // A global assistant (no department) is every department's: only a caller who reaches all data makes one.
  caller.requireReach({ userId: null, department }, 'assistant')
  const names = new Set<string>()
  for (const tool of body.tools ?? []) {
    if (names.has(tool.function.name)) throw badRequest(`Two tools are named '${tool.function.name}'.`, 'tools', 'duplicate_tool')
    names.add(tool.function.name)
  }
  const out: Partial<AssistantInput> = {
    name: body.name, description: body.description, route: body.route, instructions: body.instructions, department, params: body.params, tools: body.tools,
    ragCollections: body.rag_collections, metadata: body.metadata,
    contextPolicy: body.context_policy ? { strategy: current?.contextPolicy.strategy ?? 'truncate', ...body.context_policy } : undefined,
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined))
}

/** An assistant as the audit trail names it: its name, route and department, never its instructions. */
const named = (a: AssistantRecord) => ({ name: a.name, route: a.route, dept_scope: a.department })

/** What an update changed: the fields the body set, with `{ from, to }` for the name, route and department. */
function changes(before: AssistantRecord, after: AssistantRecord, body: AssistantBody) {
  const was = named(before)
  const now = named(after)
  const moved = (Object.keys(was) as (keyof typeof was)[]).filter((k) => was[k] !== now[k])
  return { name: after.name, changed: Object.keys(body).sort(), ...Object.fromEntries(moved.map((k) => [k, { from: was[k], to: now[k] }])) }
}

export function assistantsService(conversations: Conversations, audit: Audit = auditTo(undefined, undefined)): Service {
  const { assistants } = conversations
  const target = (a: AssistantRecord) => ({ target: { type: 'assistant', id: a.id }, department: a.department })

  /** An assistant the caller may change: visible (else 404), and in reach (else 403). */
  async function manageable(caller: Caller, id: string): Promise<AssistantRecord> {
    const assistant = await visibleAssistant(conversations, caller, id)
    caller.requireReach({ userId: null, department: assistant.department }, 'assistant')
    return assistant
  }

  const create: RouteSpec<AssistantBody> = {
    method: 'POST', path: '/', summary: 'Create an assistant.', permission: MANAGE, body: CREATE_BODY, status: 201, response: ASSISTANT_SCHEMA,
    async handle(req) {
      const { caller, body, access, gateway } = req
      const fields = fieldsOf(body, caller, access, gateway)
      await requireSeenCollections(conversations, caller, body.rag_collections)
      const created = await assistants.create({
        name: body.name!, route: body.route!, description: null, instructions: null, params: {}, tools: [], ragCollections: [], contextPolicy: { strategy: 'truncate' },
        metadata: {}, department: null, ...fields, userId: caller.principal.userId,
      })
      await audit(req, { action: 'assistant.create', ...target(created), details: named(created) })
      return assistantView(created)
    },
  }

  const list: RouteSpec<unknown, PageQuery> = {
    method: 'GET', path: '/', summary: 'The assistants the caller may use (their department\'s and the global ones; admins: all).', permission: VIEW, query: objectSchema(PAGE_QUERY), response: listOf(ASSISTANT_SCHEMA),
    async handle({ caller, query }) {
      const departments = caller.scope === 'all_data' ? undefined : [caller.principal.department ?? null, null]
      const { assistants: page, total } = await assistants.list({ departments, ...pageWindow(query) })
      return reply(page.filter((a) => seesAssistant(caller, a)).map(assistantView), { meta: paginationMeta(query, total) })
    },
  }

  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET', path: '/:id', summary: 'One assistant.', permission: VIEW, params: ID_PARAMS, response: ASSISTANT_SCHEMA,
    handle: async ({ caller, params }) => assistantView(await visibleAssistant(conversations, caller, params.id)),
  }

  const update: RouteSpec<AssistantBody, unknown, { id: string }> = {
    method: 'PATCH', path: '/:id', summary: 'Change an assistant.', permission: MANAGE, params: ID_PARAMS, body: PATCH_BODY, response: ASSISTANT_SCHEMA,
    async handle(req) {
      const { caller, params, body, access, gateway } = req
      const current = await manageable(caller, params.id)
      const fields = fieldsOf(body, caller, access, gateway, current)
      await requireSeenCollections(conversations, caller, body.rag_collections, current.ragCollections)
      const updated = (await assistants.update(current.id, fields))!
      await audit(req, { action: 'assistant.update', ...target(updated), details: changes(current, updated, body) })
      return assistantView(updated)
    },
  }

  const remove: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/:id', summary: 'Delete an assistant (its threads stay, unbound).', permission: MANAGE, params: ID_PARAMS, response: DELETED_SCHEMA,
    async handle(req) {
      const current = await manageable(req.caller, req.params.id)
      await assistants.delete(current.id)
      await audit(req, { action: 'assistant.delete', ...target(current), details: named(current) })
      return reply({ id: current.id, deleted: true })
    },
  }

  return { routes: [create, list, get, update, remove] }
}

export default definePlugin<Record<string, never>, Service>({
  id: 'service.assistants',
  kind: 'service',
  description: 'Assistants (route, instructions, tools, defaults, context policy) scoped to departments.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  needs: [Conversations],
  uses: [AuditLog],
  setup(ctx) {
    const conversations = ctx.tryGet(Conversations)
    if (!conversations) throw new Error('assistants need the conversations service: add `conversations: {}` under `services:` (and a `store:`)')
    return assistantsService(conversations, auditTo(ctx.tryGet(AuditLog), ctx.logger))
  },
})
