/**
 * What the gateway's APIs take and answer, as the console uses them.
 *
 * Requests (bodies, query parameters) come from ./openapi.ts, generated from GET /api/v1/openapi.json
 * (`npm run generate:console-api`): a renamed or retyped field in a route's schema breaks the
 * console's type-check. So do answers (the envelope's `data`): every management route the console
 * calls declares what it answers. Only what is not a management route (/health, /v1/models) is
 * written by hand below.
 */
import type { paths } from './openapi'

type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Operation<P extends keyof paths, M extends 'get' | 'post' | 'put' | 'patch' | 'delete'> = NonNullable<paths[P][M]>

/** The JSON body an operation takes. */
export type RequestBody<P extends keyof paths, M extends 'post' | 'put' | 'patch'> = JsonOf<Operation<P, M>['requestBody']>
/** The query parameters an operation takes. */
export type QueryOf<P extends keyof paths, M extends 'get' | 'post' = 'get'> = NonNullable<Operation<P, M>['parameters']['query']>
type Success<R> = R extends { 200: infer Ok } ? Ok : R extends { 201: infer Created } ? Created : never
/** The `data` of an operation's success answer, as the document declares it. */
export type AnswerOf<P extends keyof paths, M extends 'get' | 'post' | 'put' | 'patch' | 'delete'> =
  NonNullable<JsonOf<Success<Operation<P, M>['responses']>> extends { data?: infer Data } ? Data : never>
/** The `meta` of an operation's success answer, as the document declares it (a free-form object unless the route says). */
export type MetaOf<P extends keyof paths, M extends 'get' | 'post' | 'put' | 'patch' | 'delete'> =
  NonNullable<JsonOf<Success<Operation<P, M>['responses']>> extends { meta?: infer Meta } ? Meta : never>

export type AssistantInput = RequestBody<'/api/v1/assistants', 'post'>
export type AssistantChange = RequestBody<'/api/v1/assistants/{id}', 'patch'>
export type AssistantTool = NonNullable<AssistantInput['tools']>[number]
export type AssistantParams = NonNullable<AssistantInput['params']>
export type NewKey = RequestBody<'/api/v1/keys', 'post'>
export type UserChange = RequestBody<'/api/v1/users/{id}', 'patch'>
export type NewThread = RequestBody<'/api/v1/chat/threads', 'post'>
export type ThreadChange = RequestBody<'/api/v1/chat/threads/{id}', 'patch'>
export type NewMessage = RequestBody<'/api/v1/chat/threads/{id}/messages', 'post'>
export type NewCollection = RequestBody<'/api/v1/rag/collections', 'post'>
export type SearchInput = RequestBody<'/api/v1/rag/collections/{id}/search', 'post'>
export type NewTrainingJob = RequestBody<'/api/v1/training/jobs', 'post'>
export type DeployInput = RequestBody<'/api/v1/training/jobs/{id}/deploy', 'post'>
export type UsageQuery = QueryOf<'/api/v1/analytics/usage'>
export type UsageGroupBy = NonNullable<UsageQuery['group_by']>
export type UsageInterval = NonNullable<UsageQuery['interval']>

/** GET /api/v1/auth/me: who is signed in, what their role may do, and the session's CSRF token. */
export type Me = AnswerOf<'/api/v1/auth/me', 'get'>
/** GET /api/v1/auth/options */
export type SignInOptions = AnswerOf<'/api/v1/auth/options', 'get'>
/** POST /api/v1/auth/logout */
export type SignedOut = AnswerOf<'/api/v1/auth/logout', 'post'>

/** GET /api/v1/analytics/usage */
export type UsageRow = AnswerOf<'/api/v1/analytics/usage', 'get'>[number]

/** /api/v1/keys */
export type ApiKey = AnswerOf<'/api/v1/keys/{id}', 'get'>
/** GET /api/v1/keys: a key with its owner and maker by name. */
export type ListedKey = AnswerOf<'/api/v1/keys', 'get'>[number]
/** A user a listed key names (its owner or maker). */
export type KeyPerson = NonNullable<ListedKey['owner']>
/** POST /api/v1/keys and /api/v1/keys/:id/rotate (the same key, a new secret): the key's secret, this once. */
export type CreatedKey = AnswerOf<'/api/v1/keys', 'post'>

/** /api/v1/users */
export type User = AnswerOf<'/api/v1/users/{id}', 'get'>

/** GET /api/v1/admin/routes: a route, its targets and their live state. */
export type RouteState = AnswerOf<'/api/v1/admin/routes', 'get'>[number]

/** GET /health */
export interface Health {
  readonly status: 'ok' | 'degraded'
  readonly pid: number
  readonly config: {
    readonly version: string
    readonly loaded_at: string
    readonly source: string
    readonly last_error: { readonly at: string; readonly message: string; readonly issues?: readonly unknown[] } | null
    readonly restart_required: readonly string[]
    readonly providers_disabled: Record<string, string>
    readonly routes_unavailable: readonly string[]
    readonly reloads: { readonly ok: number; readonly failed: number }
  }
}

/** GET /v1/models */
export interface ModelList {
  readonly data: readonly { readonly id: string; readonly owned_by?: string }[]
}

/** GET /api/v1/users/roles: `grantable` says whether the caller may give the role to a user or a key. */
export type RoleInfo = AnswerOf<'/api/v1/users/roles', 'get'>[number]
/** GET /api/v1/users/departments (empty: gateway.yaml lists none, and any name is a department); `assignable`: the caller may move a user into it. */
export type DepartmentInfo = AnswerOf<'/api/v1/users/departments', 'get'>[number]

/** /api/v1/chat/threads */
export type Thread = AnswerOf<'/api/v1/chat/threads/{id}', 'patch'>
/** GET /api/v1/chat/threads/:id: a thread with its first page of messages. */
export type ThreadWithMessages = AnswerOf<'/api/v1/chat/threads/{id}', 'get'>
/** A thread's message: text, a tool call, or a tool result. `status` is `incomplete` for an answer cut off. */
export type ThreadMessage = ThreadWithMessages['messages'][number]
/** A passage a grounded answer's context held; the answer cites it as [number]. */
export type MessageSource = NonNullable<ThreadMessage['sources']>[number]

/** /api/v1/assistants */
export type Assistant = AnswerOf<'/api/v1/assistants/{id}', 'get'>

/** /api/v1/rag/collections */
export type Collection = AnswerOf<'/api/v1/rag/collections/{id}', 'get'>
/** /api/v1/rag/collections/:id/documents */
export type RagDocument = AnswerOf<'/api/v1/rag/collections/{id}/documents/{document_id}', 'get'>
/** POST /api/v1/rag/collections/:id/search */
export type SearchHit = AnswerOf<'/api/v1/rag/collections/{id}/search', 'post'>[number]

/** /api/v1/training/datasets */
export type Dataset = AnswerOf<'/api/v1/training/datasets/{id}', 'get'>
/** A dataset's problem, in a 400 invalid_dataset's details (an error's details are not typed by the document). */
export interface DatasetProblem {
  readonly line: number
  readonly code: string
  readonly message: string
}

/** /api/v1/training/jobs */
export type TrainingJob = AnswerOf<'/api/v1/training/jobs/{id}', 'get'>
/** What the gateway's evaluation of a trained model found (a job's `evaluation`). */
export type TrainingEvaluation = NonNullable<TrainingJob['evaluation']>
/** /api/v1/training/deployments: a succeeded job's model, routable under `route`. */
export type Deployment = AnswerOf<'/api/v1/training/deployments', 'get'>[number]
/** GET /api/v1/training/jobs/:id/events */
export type TrainingEvent = AnswerOf<'/api/v1/training/jobs/{id}/events', 'get'>[number]
