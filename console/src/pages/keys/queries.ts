import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { NewKey } from '@/api/types'

/** The keys within the caller's reach (analytics names keys by it too). */
export const keysQuery = (includeRevoked: boolean) => queryOptions({
  queryKey: ['keys', { includeRevoked }],
  queryFn: async ({ signal }) => (await api('/keys', { query: { include_revoked: includeRevoked, limit: 500 }, signal })).data,
})

export const useKeys = (includeRevoked: boolean) => useQuery(keysQuery(includeRevoked))

function useKeyMutation<In, Out>(call: (input: In) => Promise<Out>) {
  const queryClient = useQueryClient()
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: ['keys'] }) })
}

export const useCreateKey = () => useKeyMutation(async (input: NewKey) => (await api('/keys', { method: 'POST', body: input })).data)
/** `graceS`: how long the old secret keeps working (0: it stops at once). */
export const useRotateKey = () =>
  useKeyMutation(async ({ id, graceS }: { id: string; graceS: number }) => (await api('/keys/{id}/rotate', { params: { id }, method: 'POST', body: { grace_s: graceS } })).data)
export const useRevokeKey = () => useKeyMutation(async (id: string) => (await api('/keys/{id}', { params: { id }, method: 'DELETE' })).data)
