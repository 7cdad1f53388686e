/**
 * Stored chat threads (/api/v1/chat/threads): the list, one thread's messages (newest page first),
 * rename, delete, and sending a message whose answer streams back as server-sent events
 * (`delta`, then `done` with the kept messages, or `error`).
 */
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { ApiError, api, errorOf, gatewayUrl, openai, requestHeaders } from '@/api/client'
import { useMemo } from 'react'
import { readSse } from '@/api/sse'
import type { NewMessage, NewThread, Thread, ThreadChange, ThreadMessage } from '@/api/types'

export const THREADS_KEY = ['chat', 'threads'] as const
export const threadKey = (id: string) => ['chat', 'thread', id] as const
const PAGE = 50
/** Threads listed per page; older ones load on asking ("Show older chats"). */
export const THREADS_PAGE = 100

/** The caller's threads, latest activity first, a page at a time (`fetchNextPage` for older ones). */
export function useThreads() {
  const query = useInfiniteQuery({
    queryKey: THREADS_KEY,
    initialPageParam: 1,
    queryFn: async ({ pageParam, signal }) => {
      const { data, meta } = await api('/chat/threads', { query: { per_page: THREADS_PAGE, page: pageParam }, signal })
      const pages = (meta.pagination as { total_pages?: number } | undefined)?.total_pages ?? 1
      return { threads: data, page: pageParam, pages }
    },
    getNextPageParam: (last) => (last.page < last.pages ? last.page + 1 : undefined),
    retry: false,
  })
  // A thread with activity since a page was read moves to the top: it is in two pages then, shown once.
  const threads = useMemo(() => {
    if (!query.data) return undefined
    const seen = new Set<string>()
    return query.data.pages.flatMap((p) => p.threads).filter((t) => !seen.has(t.id) && !!seen.add(t.id))
  }, [query.data])
  return { ...query, threads }
}

/** Threads whose title or messages contain `q` (any case), found by the gateway across all of the caller's threads. */
export function useThreadSearch(q: string) {
  return useQuery({
    queryKey: [...THREADS_KEY, 'search', q],
    enabled: q !== '',
    queryFn: async ({ signal }) => (await api('/chat/threads', { query: { per_page: 100, q }, signal })).data,
    // While the next search runs, the last one's results stay (no flash of an empty list per keystroke).
    placeholderData: keepPreviousData,
    retry: false,
  })
}

export interface LoadedThread extends Thread {
  /** Oldest first. */
  readonly messages: readonly ThreadMessage[]
  /** The cursor of the page before the first message shown, when there is one. */
  readonly earlier: string | null
}

/** A thread with its newest messages (one page), oldest first. */
export function useThread(id: string | undefined) {
  return useQuery({
    queryKey: threadKey(id ?? ''),
    enabled: id !== undefined,
    queryFn: async ({ signal }): Promise<LoadedThread> => {
      const { data, meta } = await api('/chat/threads/{id}', { params: { id: id! }, query: { order: 'desc', limit: PAGE }, signal })
      return { ...data, messages: [...data.messages].reverse(), earlier: (meta.next_cursor as string | null | undefined) ?? null }
    },
  })
}

/** The page of messages before the oldest shown, put in front of them. */
export async function loadEarlier(queryClient: QueryClient, id: string, thread: LoadedThread): Promise<void> {
  if (!thread.earlier) return
  const { data, meta } = await api('/chat/threads/{id}/messages', { params: { id }, query: { order: 'desc', limit: PAGE, after: thread.earlier } })
  queryClient.setQueryData<LoadedThread>(threadKey(id), (now) => now && { ...now, messages: [...[...data].reverse(), ...now.messages], earlier: (meta.next_cursor as string | null | undefined) ?? null })
}

export function useCreateThread() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (input: NewThread) => (await api('/chat/threads', { method: 'POST', body: input })).data,
    onSuccess: (thread) => {
      // Its (empty) messages are known: opening it costs no request.
      queryClient.setQueryData<LoadedThread>(threadKey(thread.id), { ...thread, messages: [], earlier: null })
      void queryClient.invalidateQueries({ queryKey: THREADS_KEY })
    },
  })
}

/**
 * Keep the model picked for a thread on the thread (its `metadata.model`), so a switch mid-chat
 * holds after a reload and on coming back to it, and the next answer comes from that model.
 */
export function useThreadModel() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async ({ thread, model }: { thread: Thread; model: string }) =>
      (await api('/chat/threads/{id}', { params: { id: thread.id }, method: 'PATCH', body: { metadata: { ...thread.metadata, model } } })).data,
    onMutate: ({ thread, model }) => {
      queryClient.setQueryData<LoadedThread>(threadKey(thread.id), (now) => now && { ...now, metadata: { ...now.metadata, model } })
    },
    onSuccess: (thread) => {
      queryClient.setQueryData<LoadedThread>(threadKey(thread.id), (now) => now && { ...now, metadata: thread.metadata })
    },
  })
}

export function useRenameThread() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async ({ id, title }: { id: string } & Required<Pick<ThreadChange, 'title'>>) => (await api('/chat/threads/{id}', { params: { id }, method: 'PATCH', body: { title } })).data,
    onSuccess: (thread) => {
      queryClient.setQueryData<LoadedThread>(threadKey(thread.id), (now) => now && { ...now, title: thread.title })
      void queryClient.invalidateQueries({ queryKey: THREADS_KEY })
    },
  })
}

export function useDeleteThread() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (id: string) => (await api('/chat/threads/{id}', { params: { id }, method: 'DELETE' })).data,
    onSuccess: (_, id) => {
      queryClient.removeQueries({ queryKey: threadKey(id) })
      void queryClient.invalidateQueries({ queryKey: THREADS_KEY })
    },
  })
}

export interface SentTurn {
  /** The messages kept: the user's, then the reply's. */
  readonly messages: readonly ThreadMessage[]
  readonly status: string
}

/** Send a message to a thread and stream the answer; resolves with what the gateway kept. */
export async function sendMessage(
  threadId: string,
  body: Omit<NewMessage, 'stream'>,
  onDelta: (text: string) => void,
  signal: AbortSignal,
): Promise<SentTurn> {
  const res = await fetch(gatewayUrl(`/api/v1/chat/threads/${encodeURIComponent(threadId)}/messages`), {
    method: 'POST',
    headers: requestHeaders('POST', { accept: 'text/event-stream' }, true),
    body: JSON.stringify({ ...body, stream: true }),
    credentials: 'same-origin',
    signal,
  })
  if (!res.ok || !res.body) throw await errorOf(res)
  let done: SentTurn | undefined
  await readSse(res.body, ({ event, data }) => {
    if (event === 'delta') onDelta((JSON.parse(data) as { delta: string }).delta)
    else if (event === 'done') done = JSON.parse(data) as SentTurn
    else if (event === 'error') {
      // Mid-answer: the HTTP status is long sent (200), so the code says what failed.
      const { error } = JSON.parse(data) as { error: { message: string; code?: string | null; status?: number } }
      throw new ApiError(error.message, error.status ?? 0, error.code ?? 'error')
    }
  })
  if (!done) throw new Error('The answer ended before it was complete.')
  return done
}

/**
 * Take messages out of a thread (a regenerate or an edit rewinds it to before the last question).
 * The management API has no call for it; the thread is the same record as a conversation of the
 * Conversations API (surfaces.responses), whose items are its messages, so that deletes them.
 */
export async function deleteMessages(queryClient: QueryClient, threadId: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) await openai(`/conversations/${encodeURIComponent(threadId)}/items/${encodeURIComponent(id)}`, { method: 'DELETE' })
  const gone = new Set(ids)
  queryClient.setQueryData<LoadedThread>(threadKey(threadId), (now) => now && { ...now, messages: now.messages.filter((m) => !gone.has(m.id)) })
}

/**
 * Keep a question the model did not answer (refused before the answer began: the gateway keeps
 * nothing of such a turn) in its thread, through the Conversations API as deleteMessages does, so
 * a reload shows it, unanswered, with Retry, and not an empty chat. Resolves whether it was kept.
 */
export async function keepQuestion(queryClient: QueryClient, threadId: string, text: string): Promise<boolean> {
  try {
    await openai(`/conversations/${encodeURIComponent(threadId)}/items`, {
      method: 'POST',
      body: { items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }] },
    })
  } catch {
    // Not kept (no Conversations API here, or the session ended): the page still shows it.
    return false
  }
  // Read again when the thread is next opened; until then the page shows its own copy, with the failure.
  void queryClient.invalidateQueries({ queryKey: threadKey(threadId), refetchType: 'none' })
  return true
}

/**
 * Take out a thread the page made that holds nothing (its first question was refused and could not
 * be kept: no Conversations API here), so the list has no empty chat. Resolves whether it did; a
 * thread with messages (another tab's) is left as it is.
 */
export async function dropEmptyThread(queryClient: QueryClient, threadId: string): Promise<boolean> {
  try {
    const { data } = await api('/chat/threads/{id}', { params: { id: threadId }, query: { order: 'desc', limit: 1 } })
    if (data.messages.length > 0) return false
    await api('/chat/threads/{id}', { params: { id: threadId }, method: 'DELETE' })
  } catch {
    return false
  }
  queryClient.removeQueries({ queryKey: threadKey(threadId) })
  return true
}

/**
 * Whether this gateway can take messages out of a thread (its Conversations API is enabled): asked
 * once, by reading the thread as a conversation. Until the answer is in, it is assumed it can.
 */
export function useCanRewind(threadId: string | undefined): boolean {
  const probe = useQuery({
    queryKey: ['chat', 'can-rewind'],
    enabled: threadId !== undefined,
    queryFn: async ({ signal }) => {
      try {
        await openai(`/conversations/${encodeURIComponent(threadId!)}`, { signal })
        return true
      } catch (err) {
        if (err instanceof ApiError && err.notEnabled) return false
        return true
      }
    },
    staleTime: Infinity,
    retry: false,
  })
  return probe.data ?? true
}
