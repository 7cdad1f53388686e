import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { AssistantChange, AssistantInput } from '@/api/types'

/** The assistants the caller may use (their department's and the global ones; admins: all). */
export function useAssistants(enabled = true) {
  return useQuery({
    queryKey: ['assistants'],
    queryFn: async ({ signal }) => (await api('/assistants', { query: { per_page: 100 }, signal })).data,
    enabled,
  })
}

function useAssistantMutation<In, Out>(call: (input: In) => Promise<Out>) {
  const queryClient = useQueryClient()
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: ['assistants'] }) })
}

export const useCreateAssistant = () => useAssistantMutation(async (input: AssistantInput) => (await api('/assistants', { method: 'POST', body: input })).data)
export const useUpdateAssistant = () =>
  useAssistantMutation(async ({ id, ...change }: AssistantChange & { id: string }) => (await api('/assistants/{id}', { params: { id }, method: 'PATCH', body: change })).data)
export const useDeleteAssistant = () => useAssistantMutation(async (id: string) => (await api('/assistants/{id}', { params: { id }, method: 'DELETE' })).data)
