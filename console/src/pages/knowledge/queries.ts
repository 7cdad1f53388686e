import { useQuery } from '@tanstack/react-query'
import { api } from '@/api/client'

export const COLLECTIONS = ['rag', 'collections'] as const

/** The knowledge collections the caller may search (the Knowledge page, the assistant editor's picker). */
export function useCollections() {
  return useQuery({ queryKey: COLLECTIONS, queryFn: async ({ signal }) => (await api('/rag/collections', { query: { limit: 200 }, signal })).data })
}
