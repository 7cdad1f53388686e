import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { Assistant, AssistantChange, AssistantInput } from '@/api/types'

/** The assistants the caller may use (their department's and the global ones; admins: all). */
export function useAssistants(enabled = true) {
  return useQuery({
    queryKey: ['assistants'],
    queryFn: async ({ signal }) => (await api<Assistant[]>('/assistants', { query: { per_page: 100 }, signal })).data,
    enabled,
  })
}

function useAssistantMutation<In, Out>(call: (input: In) => Promise<Out>) {
  const queryClient = useQueryClient()
  return useMutation({ mutationFn: call, onSuccess: () => queryClient.invalidateQueries({ queryKey: ['assistants'] }) })
}

export const useCreateAssistant = () => useAssistantMutation(async (input: AssistantInput) => (await api<Assistant>('/assistants', { method: 'POST', body: input })).data)
export const useUpdateAssistant = () =>
  useAssistantMutation(async ({ id, ...change }: AssistantChange & { id: string }) => (await api<Assistant>(`/assistants/${encodeURIComponent(id)}`, { method: 'PATCH', body: change })).data)
export const useDeleteAssistant = () => useAssistantMutation(async (id: string) => (await api(`/assistants/${encodeURIComponent(id)}`, { method: 'DELETE' })).data)
