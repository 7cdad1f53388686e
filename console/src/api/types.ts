/**
 * What the gateway's APIs take and answer, as the console uses them.
 *
 * Requests (bodies, query parameters) come from ./openapi.ts, generated from GET /api/v1/openapi.json
 * (`npm run generate:console-api`): a renamed or retyped field in a route's schema breaks the
 * console's type-check. So do answers (the envelope's `data`) where a route declares what it
 * answers: threads, messages, assistants, keys and users so far. The others are written by hand below until
 * their routes declare a response schema (the document's `data` is `unknown` there).
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

/** GET /api/v1/auth/me */
export interface Me {
  readonly user_id: string
  readonly name: string | null
  readonly email: string | null
  readonly role: string
  readonly department: string | null
  readonly permissions: readonly string[]
  readonly scope: 'own_data' | 'department_data' | 'all_data'
  /** How the caller is signed in: `auth.session`, or `none` for the anonymous admin of a gateway without auth. */
  readonly strategy: string
  readonly anonymous: boolean
  readonly session: { readonly expires_at: string; readonly csrf_token: string; readonly method: 'oidc' | 'api_key' } | null
}

/** GET /api/v1/auth/options */
export interface SignInOptions {
  readonly oidc: { readonly label: string } | null
  readonly api_key: boolean
}

/** POST /api/v1/auth/logout */
export interface SignedOut {
  readonly redirect: string
}

/** GET /api/v1/analytics/usage */
export interface UsageRow {
  readonly bucket: string | null
  readonly group: string | null
  readonly requests: number
  readonly errors: number
  readonly error_rate: number
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly cached_tokens: number
  readonly total_tokens: number
  readonly cost_usd: number
  readonly latency_p50_ms: number
  readonly latency_p95_ms: number
}

/** /api/v1/keys */
export type ApiKey = AnswerOf<'/api/v1/keys/{id}', 'get'>
/** POST /api/v1/keys and /api/v1/keys/:id/rotate: the key's secret, this once. */
export type CreatedKey = AnswerOf<'/api/v1/keys', 'post'>

/** /api/v1/users */
export type User = AnswerOf<'/api/v1/users/{id}', 'get'>

/** GET /api/v1/admin/routes */
export interface RouteState {
  readonly model: string
  readonly strategy: string
  readonly conditional: boolean
  readonly targets: readonly {
    readonly provider: string
    readonly model: string | null
    readonly weight: number
    readonly timeout_ms: number | null
    readonly retry: { readonly attempts: number; readonly backoff_ms: number; readonly max_backoff_ms: number }
    readonly circuit: CircuitState
  }[]
}
export interface CircuitState {
  readonly state: 'closed' | 'open' | 'half-open'
  readonly recent_failures: number
  readonly retry_in_ms: number
  readonly latency_ms: number | null
}

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
export interface Collection {
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly owner_user_id: string
  readonly department: string | null
  readonly dept_scope: string | null
  readonly embedding_route: string
  readonly dimensions: number
  readonly chunking: { readonly max_tokens: number; readonly overlap_tokens: number }
  readonly documents: { readonly queued: number; readonly processing: number; readonly completed: number; readonly failed: number; readonly total: number }
  readonly bytes: number
  readonly created_at: string
  readonly last_active_at: string | null
}

/** /api/v1/rag/collections/:id/documents */
export interface RagDocument {
  readonly id: string
  readonly collection_id: string
  readonly filename: string
  readonly content_type: string
  readonly kind: 'text' | 'markdown' | 'html' | 'pdf'
  readonly bytes: number
  readonly status: 'queued' | 'processing' | 'completed' | 'failed'
  readonly error: { readonly code: string; readonly message: string } | null
  readonly progress: { readonly chunks_done: number; readonly chunks_total: number | null }
  readonly attempts: number
  readonly created_at: string
  readonly completed_at: string | null
}

/** POST /api/v1/rag/collections/:id/search */
export interface SearchHit {
  readonly score: number
  readonly text: string
  readonly document_id: string
  readonly filename: string
  readonly source: { readonly page: number | null; readonly heading: string | null }
}

/** /api/v1/training/datasets */
export interface Dataset {
  readonly id: string
  readonly filename: string
  /** The training file (what a job's training_file names), and the held-out side of a split. */
  readonly file_id: string
  readonly validation_file_id: string | null
  readonly created_at: string
  readonly split: { readonly fraction: number; readonly validation: { readonly examples: number } } | null
  readonly stats: { readonly examples: number; readonly tokens: number; readonly max_example_tokens: number; readonly model: string | null; readonly epochs: number; readonly estimated_cost_usd: number | null }
}
/** A dataset's problem, in a 400 invalid_dataset's details. */
export interface DatasetProblem {
  readonly line: number
  readonly code: string
  readonly message: string
}

/** /api/v1/training/jobs */
export interface TrainingJob {
  readonly id: string
  readonly status: 'pending' | 'queued' | 'running' | 'evaluating' | 'succeeded' | 'failed' | 'cancelled' | 'validating_files'
  readonly provider: string
  readonly model: string
  readonly training_file: string
  readonly validation_file: string | null
  readonly hyperparameters: { readonly n_epochs?: number; readonly batch_size?: number; readonly learning_rate_multiplier?: number }
  readonly suffix: string | null
  readonly fine_tuned_model: string | null
  /** Why it failed (the management API sends the provider's message as a string). */
  readonly error: string | null
  readonly trained_tokens: number | null
  /** The results file (OpenAI's CSV of the provider's metrics per step), once evaluated. */
  readonly result_files: readonly string[]
  readonly evaluation: TrainingEvaluation | null
  readonly created_at: string
  readonly finished_at: string | null
}
/** What the gateway's evaluation of a trained model found (a job's `evaluation`). */
export interface TrainingEvaluation {
  readonly status: 'completed' | 'skipped' | 'failed'
  /** Why it was skipped or failed. */
  readonly reason?: string
  /** Examples of the validation file, or of the training file when there is none. */
  readonly source?: 'validation_file' | 'training_sample'
  readonly examples?: number
  /** Examples whose call failed (not scored). */
  readonly errors?: number
  readonly exact_match?: number | null
  readonly similarity?: number | null
  readonly train_loss?: number | null
  readonly valid_loss?: number | null
}
/** /api/v1/training/deployments: a succeeded job's model, routable under `route`. */
export interface Deployment {
  readonly route: string
  readonly job_id: string
  readonly provider: string
  readonly model: string
  readonly created_by: string
  readonly created_at: string
  /** The same route as gateway.yaml lines, to make it permanent. */
  readonly yaml: string
}
export interface TrainingEvent {
  readonly id: string
  readonly created_at: number
  readonly level: string
  readonly message: string
  readonly type: 'message' | 'metrics'
  readonly data: Record<string, number>
}
