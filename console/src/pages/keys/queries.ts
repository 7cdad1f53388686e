import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { NewKey } from '@/api/types'

export function useKeys(includeRevoked: boolean) {
  return useQuery({
    queryKey: ['keys', { includeRevoked }],
    queryFn: async ({ signal }) => (await api('/keys', { query: { include_revoked: includeRevoked, limit: 500 }, signal })).data,
  })
}

function useKeyMutation<In, Out>(call: (input: In) => Promise<Out>) {
  const queryClient = useQueryClient()
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: ['keys'] }) })
}

export const useCreateKey = () => useKeyMutation(async (input: NewKey) => (await api('/keys', { method: 'POST', body: input })).data)
export const useRotateKey = () => useKeyMutation(async (id: string) => (await api('/keys/{id}/rotate', { params: { id }, method: 'POST', body: {} })).data)
export const useRevokeKey = () => useKeyMutation(async (id: string) => (await api('/keys/{id}', { params: { id }, method: 'DELETE' })).data)
