/**
 * Mock fine-tuning upstreams written from the providers' API references: OpenAI (files, jobs,
 * events newest first, cancel; validating_files → running → succeeded; hyperparameters asked as
 * `auto` resolved once running, the seed asked for or its own; the fine-tuned models listed and
 * deleted on /v1/models, a deleted one refusing chat) and Mistral (files, jobs with auto_start, job
 * detail with events and checkpoints; QUEUED → RUNNING → SUCCESS; DELETE /v1/models/{id}). A job
 * whose suffix is `fail` fails; `strict` is refused at creation for a training file of fewer than 10 examples; `outage` answers 500 to its creation; `slow` stays running until cancelled; `noeval`'s model refuses chat, `sloweval`'s answers slowly, `undeletable`'s fails to delete. Both answer chat completions
 * in their wire format: the answer set in `answers` for the last user message, else `answered by <model>`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface MockTrainer {
  readonly url: string
  readonly calls: string[]
  /** Bytes of each uploaded file, by upstream file id. */
  readonly uploads: Map<string, string>
  readonly cancelled: string[]
  /** The fine-tuned models deleted (DELETE /v1/models/{id}), in order. */
  readonly deletedModels: string[]
  /** The upstream's jobs, by its job id: their status as the provider sees it, and the body that created them. */
  readonly jobs: ReadonlyMap<string, { readonly status: string; readonly body: Readonly<Record<string, unknown>> }>
  /** Chat completions received: the model and the last user message. */
  readonly chats: { model: string; user: string; temperature?: number }[]
  /** The answer to give a last user message. */
  readonly answers: Map<string, string>
  close(): Promise<void>
}

interface Job { id: string; model: string; suffix?: string; polls: number; status: string; body: Record<string, unknown> }

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** The JSONL of a multipart upload's `file` part. */
function filePart(body: Buffer): string {
  const text = body.toString('utf8')
  const m = /filename="[^"]*"\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(text)
  return m ? m[1] : ''
}

type State = { calls: string[]; uploads: Map<string, string>; cancelled: string[]; deletedModels: string[]; jobs: Map<string, Job>; chats: MockTrainer['chats']; answers: Map<string, string> }

/** Record a chat completion request; the answer for its last user message. */
function chatAnswer(state: State, body: Buffer): { model: string; answer: string } {
  const b = JSON.parse(body.toString()) as { model: string; temperature?: number; messages: { role: string; content: string }[] }
  const user = [...b.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  state.chats.push({ model: b.model, user, temperature: b.temperature })
  return { model: b.model, answer: state.answers.get(user) ?? `answered by ${b.model}` }
}

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, state: State) => void): Promise<MockTrainer> {
  const state: State = { calls: [], uploads: new Map(), cancelled: [], deletedModels: [], jobs: new Map(), chats: [], answers: new Map() }
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req)
    state.calls.push(`${req.method} ${req.url}`)
    handler(req, res, body, state)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, calls: state.calls, uploads: state.uploads, cancelled: state.cancelled, deletedModels: state.deletedModels, jobs: state.jobs, chats: state.chats, answers: state.answers, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()) }) }
}

const now = () => Math.floor(Date.now() / 1000)

/** How long a `sloweval` model takes to answer one chat completion. */
export const SLOW_EVAL_MS = 2500

/** The seed the mock OpenAI picks for a job that asks for none. */
export const UPSTREAM_SEED = 1
/** OpenAI's least number of training examples (a job whose suffix is `strict` is held to it; the other tests train on a few). */
export const MIN_EXAMPLES = 10
/** What the mock OpenAI resolves hyperparameters asked as `auto` to, once the job runs. */
export const UPSTREAM_HYPERPARAMETERS = { n_epochs: 3, batch_size: 1, learning_rate_multiplier: 1 } as const

export function mockOpenAITrainer(): Promise<MockTrainer> {
  let n = 0
  const events = new Map<string, Record<string, unknown>[]>()
  const modelOf = (job: Job) => `ft:${job.model}:org-x:${job.suffix ?? ''}:abc123`
  // As OpenAI: what was asked, `auto` until the job runs, then the values it chose.
  const hyperparameters = (job: Job) => {
    const body = job.body as { hyperparameters?: Record<string, unknown>; method?: { supervised?: { hyperparameters?: Record<string, unknown> } } }
    const asked = body.method?.supervised?.hyperparameters ?? body.hyperparameters ?? {}
    const resolved = job.status !== 'validating_files'
    return Object.fromEntries(Object.entries(UPSTREAM_HYPERPARAMETERS).map(([key, value]) => [key, asked[key] !== undefined && asked[key] !== 'auto' ? asked[key] : resolved ? value : 'auto']))
  }
  const view = (job: Job) => ({
    object: 'fine_tuning.job', id: job.id, model: job.model, created_at: now(), finished_at: null, organization_id: 'org-x', result_files: [],
    status: job.status, validation_file: job.body.validation_file ?? null, training_file: job.body.training_file, hyperparameters: hyperparameters(job),
    method: { type: 'supervised', supervised: { hyperparameters: hyperparameters(job) } },
    trained_tokens: job.status === 'succeeded' ? 1234 : null, seed: typeof job.body.seed === 'number' ? job.body.seed : UPSTREAM_SEED, fine_tuned_model: job.status === 'succeeded' ? modelOf(job) : null,
    error: job.status === 'failed' ? { code: 'invalid_training_file', message: 'The training file was refused.', param: 'training_file' } : null,
  })
  /** A checkpoint's model, one per epoch (steps 1 and 2), named after the final model as OpenAI's are. */
  const checkpointOf = (job: Job, step: number) => `${modelOf(job)}:ckpt-step-${step}`
  /** The fine-tuned models it has: those of succeeded jobs and their checkpoints, less those deleted. */
  const fineTuned = (state: State) => [...state.jobs.values()].filter((j) => j.status === 'succeeded')
    .flatMap((j) => [modelOf(j), checkpointOf(j, 1), checkpointOf(j, 2)]).filter((m) => !state.deletedModels.includes(m))
  const noModel = (res: http.ServerResponse, model: string) => json(res, 404, { error: { message: `The model '${model}' does not exist`, type: 'invalid_request_error', code: 'model_not_found', param: 'model' } })
  const push = (job: Job, e: Record<string, unknown>) => {
    const list = events.get(job.id) ?? []
    list.unshift({ object: 'fine_tuning.job.event', id: `ftevent-${job.id}-${list.length}`, created_at: now(), level: 'info', type: 'message', data: {}, ...e })
    events.set(job.id, list)
  }
  return serve((req, res, body, state) => {
    if (req.headers.authorization !== 'Bearer sk-test') return json(res, 401, { error: { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' } })
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
      const { model, answer } = chatAnswer(state, body)
      if (state.deletedModels.includes(model)) return noModel(res, model)
      // A model from a job whose suffix is `noeval` cannot answer.
      if (model.includes(':noeval:')) return json(res, 400, { error: { message: 'The model is not ready.', type: 'invalid_request_error', code: 'model_not_ready', param: 'model' } })
      // A model from a job whose suffix is `sloweval` answers after SLOW_EVAL_MS (an evaluation longer than a lease).
      const reply = () => json(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: now(), model, choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } })
      return void (model.includes(':sloweval:') ? setTimeout(reply, SLOW_EVAL_MS) : reply())
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return json(res, 200, { object: 'list', data: ['gpt-4o-mini', ...fineTuned(state)].map((id) => ({ id, object: 'model', created: now(), owned_by: id.startsWith('ft:') ? 'org-x' : 'system' })) })
    }
    // Only a fine-tuned model of this organization's is deleted; a base model is refused.
    const modelPath = /^\/v1\/models\/(.+)$/.exec(url.pathname)
    if (req.method === 'DELETE' && modelPath) {
      const model = decodeURIComponent(modelPath[1])
      if (model === 'gpt-4o-mini') return json(res, 403, { error: { message: 'You have insufficient permissions to delete this model.', type: 'invalid_request_error', code: null, param: null } })
      if (!fineTuned(state).includes(model)) return noModel(res, model)
      // A model from a job whose suffix is `undeletable` fails to delete.
      if (model.includes(':undeletable:')) return json(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null, param: null } })
      state.deletedModels.push(model)
      return json(res, 200, { id: model, object: 'model', deleted: true })
    }
    if (req.method === 'POST' && url.pathname === '/v1/files') {
      const id = `file-up${++n}`
      state.uploads.set(id, filePart(body))
      return json(res, 200, { id, object: 'file', bytes: body.length, created_at: now(), filename: 'train.jsonl', purpose: 'fine-tune', status: 'processed' })
    }
    if (req.method === 'POST' && url.pathname === '/v1/fine_tuning/jobs') {
      const b = JSON.parse(body.toString()) as Record<string, unknown>
      // As OpenAI: a training file of fewer than 10 examples is refused when the job is created.
      const examples = (state.uploads.get(b.training_file as string) ?? '').split('\n').filter((l) => l.trim() !== '').length
      if (examples < MIN_EXAMPLES && b.suffix === 'strict') {
        return json(res, 400, { error: { message: `Training file has ${examples} example(s), but must have at least ${MIN_EXAMPLES} examples`, type: 'invalid_request_error', param: 'training_file', code: 'invalid_n_examples' } })
      }
      // `outage`: the fine-tuning API answers 500 to every create.
      if (b.suffix === 'outage') return json(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })
      const job: Job = { id: `ftjob-up${++n}`, model: b.model as string, suffix: b.suffix as string | undefined, polls: 0, status: 'validating_files', body: b }
      state.jobs.set(job.id, job)
      push(job, { message: 'Validating training file' })
      return json(res, 200, view(job))
    }
    const m = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel|\/checkpoints|\/pause|\/resume)?$/.exec(url.pathname)
    const job = m && state.jobs.get(m[1])
    if (!job) return json(res, 404, { error: { message: 'no such job', type: 'invalid_request_error', code: null } })
    if (m[2] === '/checkpoints') {
      // One per epoch once trained, newest first, named after the final model.
      const data = job.status !== 'succeeded' ? [] : [2, 1].map((step) => ({
        object: 'fine_tuning.job.checkpoint', id: `ftckpt-${job.id}-${step}`, created_at: now(), fine_tuning_job_id: job.id, step_number: step,
        fine_tuned_model_checkpoint: checkpointOf(job, step), metrics: { step, train_loss: 1 / (step + 1), valid_loss: 1.1 / (step + 1) },
      }))
      return json(res, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false })
    }
    if (req.method === 'POST' && m[2] === '/cancel') {
      job.status = 'cancelled'
      state.cancelled.push(job.id)
      return json(res, 200, view(job))
    }
    // As OpenAI: only a running job pauses; a resumed one is queued again.
    if (req.method === 'POST' && (m[2] === '/pause' || m[2] === '/resume')) {
      const pausing = m[2] === '/pause'
      if (job.status !== (pausing ? 'running' : 'paused')) return json(res, 400, { error: { message: `Job ${job.id} is ${job.status}.`, type: 'invalid_request_error', code: null } })
      job.status = pausing ? 'paused' : 'queued'
      push(job, { message: pausing ? 'Fine-tuning job paused' : 'Fine-tuning job resumed' })
      return json(res, 200, view(job))
    }
    if (m[2] === '/events') return json(res, 200, { object: 'list', data: events.get(job.id) ?? [], has_more: false })
    // Each read moves the job on.
    if (job.status === 'queued' && job.polls > 0) job.status = 'running' // resumed
    else if (!['cancelled', 'succeeded', 'failed', 'paused'].includes(job.status)) {
      job.polls++
      if (job.suffix === 'fail' && job.polls >= 2) { job.status = 'failed'; push(job, { level: 'error', message: 'Training failed' }) }
      else if (job.polls === 1) { job.status = 'running'; push(job, { message: 'Fine-tuning job started' }) }
      else if (job.suffix !== 'slow' && job.polls <= 3) push(job, { type: 'metrics', message: `Step ${job.polls - 1}/2: training loss=${(1 / job.polls).toFixed(2)}`, data: { step: job.polls - 1, train_loss: 1 / job.polls, valid_loss: 1.1 / job.polls, total_steps: 2 } })
      else if (job.suffix !== 'slow') { job.status = 'succeeded'; push(job, { message: 'The job has successfully completed' }) }
    }
    return json(res, 200, view(job))
  })
}

export function mockMistralTrainer(): Promise<MockTrainer> {
  let n = 0
  return serve((req, res, body, state) => {
    if (req.headers.authorization !== 'Bearer mk-test') return json(res, 401, { message: 'Unauthorized' })
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
      const { model, answer } = chatAnswer(state, body)
      return json(res, 200, {
        id: 'cmpl-0123456789abcdef0123456789abcdef', object: 'chat.completion', model, created: now(), usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        choices: [{ index: 0, message: { role: 'assistant', prefix: false, tool_calls: null, content: answer }, finish_reason: 'stop' }],
      })
    }
    if (req.method === 'POST' && url.pathname === '/v1/files') {
      const id = `00000000-0000-0000-0000-00000000000${++n}`
      state.uploads.set(id, filePart(body))
      return json(res, 200, { id, object: 'file', bytes: body.length, created_at: now(), filename: 'train.jsonl', purpose: 'fine-tune', sample_type: 'instruct', source: 'upload' })
    }
    if (req.method === 'POST' && url.pathname === '/v1/fine_tuning/jobs') {
      const b = JSON.parse(body.toString()) as Record<string, unknown>
      if (!Array.isArray(b.training_files) || b.auto_start !== true) return json(res, 422, { detail: [{ loc: ['body', 'training_files'], msg: 'required' }] })
      const job: Job = { id: `mjob-${++n}`, model: b.model as string, suffix: b.suffix as string | undefined, polls: 0, status: 'QUEUED', body: b }
      state.jobs.set(job.id, job)
      return json(res, 200, { id: job.id, auto_start: true, model: job.model, status: job.status, created_at: now(), modified_at: now(), training_files: b.training_files, hyperparameters: b.hyperparameters, job_type: 'completion' })
    }
    const modelPath = /^\/v1\/models\/(.+)$/.exec(url.pathname)
    if (req.method === 'DELETE' && modelPath) {
      const model = decodeURIComponent(modelPath[1])
      const made = [...state.jobs.values()].some((j) => j.status === 'SUCCESS' && `ft:${j.model}:${j.suffix ?? 'x'}:mistral1` === model)
      if (!made || state.deletedModels.includes(model)) return json(res, 404, { message: 'Model not found' })
      state.deletedModels.push(model)
      return json(res, 200, { id: model, object: 'model', deleted: true })
    }
    const m = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/cancel)?$/.exec(url.pathname)
    const job = m && state.jobs.get(m[1])
    if (!job) return json(res, 404, { message: 'not found' })
    if (req.method === 'POST' && m[2] === '/cancel') {
      job.status = 'CANCELLED'
      state.cancelled.push(job.id)
    } else if (!['CANCELLED', 'SUCCESS', 'FAILED'].includes(job.status)) {
      job.polls++
      job.status = job.polls === 1 ? 'RUNNING' : job.polls >= 3 ? 'SUCCESS' : 'RUNNING'
    }
    const t = now()
    const checkpoints = Array.from({ length: Math.min(job.polls, 2) }, (_, i) => ({ metrics: { train_loss: 0.9 - i * 0.2, valid_loss: 1 - i * 0.2, valid_mean_token_accuracy: 0.5 }, step_number: (i + 1) * 10, created_at: t }))
    return json(res, 200, {
      id: job.id, auto_start: true, model: job.model, status: job.status, created_at: t, modified_at: t, job_type: 'completion',
      fine_tuned_model: job.status === 'SUCCESS' ? `ft:${job.model}:${job.suffix ?? 'x'}:mistral1` : null, trained_tokens: job.status === 'SUCCESS' ? 999 : null,
      events: [{ name: 'status-updated', data: { status: 'RUNNING' }, created_at: t }], checkpoints,
    })
  })
}
