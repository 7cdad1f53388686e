/**
 * GET /v1/models and /v1/models/{id}: the names a caller may ask for. A route named by a glob
 * (`claude-*`, `gpt-*`) has no name of its own to list, so pickers (the console's chat, Open WebUI)
 * showed none of its models: its targets' providers are asked what they serve (Provider.listModels),
 * and the names the caller's routes answer are listed after the routes' own names.
 *
 * A provider's list is kept for LIST_TTL_MS and served stale while a fresh one is fetched; the first
 * list waits at most LIST_TIMEOUT_MS. A provider that fails or is slow adds nothing the first time,
 * and keeps its last list after (logged, asked again after RETRY_MS); the routes' own names are
 * listed whatever happens.
 *
 * A fine-tuned model deleted through the gateway (`DeletedModels`, service.training) is neither
 * listed nor retrieved, though a provider's kept list or a glob route may still name it.
 */
import { NamePatterns, notFound, type GatewayCalls, type Logger, type Provider, type RouteInfo, type RouteSpec } from '../../../plugin-api/index.ts'
import { anthropicAnswer, anthropicModel, anthropicModelList, wantsAnthropicShape } from './anthropic-models.ts'
import type { DeletedModels } from '../../contracts/fine-tuning.ts'

const LIST_TTL_MS = 5 * 60_000
const RETRY_MS = 30_000
const LIST_TIMEOUT_MS = 5_000
/** More than any provider serves (OpenRouter lists ~350): a list past it is cut, not kept whole. */
const MAX_LISTED = 2_000

interface ProviderList {
  readonly at: number
  readonly ids: Promise<readonly string[]>
  failed: boolean
}

/** Each provider's model list, by instance: a reload's new instances are asked afresh. */
export class ModelDiscovery {
  readonly #lists = new WeakMap<Provider, ProviderList>()
  /** When each listed model was released (seconds), as its provider's list says: Anthropic's `created_at`. */
  readonly #released = new Map<string, number>()
  readonly #provider: (name: string) => Provider | undefined
  readonly #logger: Logger

  constructor(provider: (name: string) => Provider | undefined, logger: Logger) {
    this.#provider = provider
    this.#logger = logger
  }

  /** Names the caller's glob routes answer, of those their providers list, in the providers' order. */
  async names(gateway: GatewayCalls): Promise<string[]> {
    const globRoutes = gateway.globRoutes()
    const providers = new Set(globRoutes.flatMap((route) => route.targets.map((t) => t.provider)))
    // Only names some glob matches are asked of routes(), which then weighs the caller's departments and key.
    const named = new NamePatterns(globRoutes.flatMap((route) => [route.name, ...aliasesOf(route)]))
    const lists = await Promise.all([...providers].map((name) => this.#list(name)))
    const answered = new Set<string>()
    for (const id of lists.flat()) if (!answered.has(id) && named.matches(id) && gateway.routes(id)) answered.add(id)
    return [...answered]
  }

  #list(name: string): Promise<readonly string[]> {
    const provider = this.#provider(name)
    if (!provider?.listModels) return Promise.resolve([])
    const kept = this.#lists.get(provider)
    const now = Date.now()
    if (kept && now - kept.at < (kept.failed ? RETRY_MS : LIST_TTL_MS)) return kept.ids
    const fresh: ProviderList = {
      at: now,
      failed: false,
      ids: provider.listModels(AbortSignal.timeout(LIST_TIMEOUT_MS)).then(
        (models) => {
          const listed = models.slice(0, MAX_LISTED).filter((m) => typeof m.id === 'string' && m.id !== '')
          // A list without dates (0, or none) says nothing about them.
          for (const m of listed) if (Number.isFinite(m.created) && m.created > 0) this.#released.set(m.id, m.created)
          return listed.map((m) => m.id)
        },
        (err: unknown) => {
          fresh.failed = true
          this.#logger.warn({ provider: name, err: (err as Error)?.message ?? String(err) }, 'listing the provider\'s models for a glob route failed; /v1/models keeps the last list it had, if any')
          // A refresh that failed keeps the list it was to replace, so pickers do not lose the models for a while.
          return kept ? kept.ids : []
        },
      ),
    }
    this.#lists.set(provider, fresh)
    // A list kept from before answers now; the fresh one answers the calls after it arrives.
    return kept ? kept.ids : fresh.ids
  }

  /** When `id` was released, if a provider's list said (seconds since the epoch). */
  releasedAt(id: string): number | undefined {
    return this.#released.get(id)
  }
}

/** A route's aliases, as its block in gateway.yaml names them. */
function aliasesOf(route: RouteInfo): string[] {
  const aliases = route.settings.aliases
  return Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string') : []
}

/** A route has no release date: the gateway's start stands in for it (not the epoch, which reads as 1970). */
const MODEL_CREATED = Math.floor(Date.now() / 1000)
const modelEntry = (id: string) => ({ id, object: 'model' as const, created: MODEL_CREATED, owned_by: 'gateway' })

/** The two routes; `discovery` undefined when `list_glob_models` is off, `deleted` when no service deletes models. */
export function modelRoutes(discovery: ModelDiscovery | undefined, deleted?: DeletedModels): RouteSpec[] {
  const list: RouteSpec = {
    method: 'GET',
    path: '/v1/models',
    summary: 'The models the caller may use: routes and aliases, and what glob routes answer of their providers\' lists (in Anthropic\'s shape when the request has anthropic-version).',
    permission: 'chat',
    // Anthropic's SDKs call this path too and read `requestID` from `request-id`, on a refused key (a 401 before the handler) as well.
    requestIdHeader: 'request-id',
    async handle(req) {
      const list = async () => {
        const named = [...new Set([...req.gateway.models(), ...(discovery ? await discovery.names(req.gateway) : [])])]
        return deleted ? named.filter((id) => !deleted.has(id)) : named
      }
      if (!wantsAnthropicShape(req.headers)) return { object: 'list', data: (await list()).map(modelEntry) }
      return anthropicAnswer(req.requestId, async () => anthropicModelList((await list()).map((id) => anthropicModel(id, discovery?.releasedAt(id) ?? MODEL_CREATED)), req.query))
    },
  }
  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET',
    path: '/v1/models/:id',
    summary: 'One model the caller may use: a route\'s name or alias, or a name a glob route answers.',
    permission: 'chat',
    requestIdHeader: 'request-id',
    handle(req) {
      const id = req.params.id
      const find = () => {
        // Any name a chat request could use is a model, listed or not: clients check a model before they use it.
        if (deleted?.has(id) || (!req.gateway.models().includes(id) && !req.gateway.routes(id))) throw notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
        return id
      }
      if (!wantsAnthropicShape(req.headers)) return modelEntry(find())
      return anthropicAnswer(req.requestId, () => anthropicModel(find(), discovery?.releasedAt(id) ?? MODEL_CREATED))
    },
  }
  return [list, get]
}
