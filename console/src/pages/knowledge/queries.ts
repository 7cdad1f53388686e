import { useQuery } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { Collection } from '@/api/types'

export const COLLECTIONS = ['rag', 'collections'] as const

/** The knowledge collections the caller may search (the Knowledge page, the assistant editor's picker). */
export function useCollections() {
  return useQuery({ queryKey: COLLECTIONS, queryFn: async ({ signal }) => (await api<Collection[]>('/rag/collections', { query: { limit: 200 }, signal })).data })
}
