import { useQuery } from '@tanstack/react-query'
import { api } from '@/api/client'

/** The departments gateway.yaml lists (empty: it lists none, and any name is a department). */
export function useDepartments() {
  return useQuery({ queryKey: ['users', 'departments'], queryFn: async ({ signal }) => (await api('/users/departments', { signal })).data, staleTime: 60_000, retry: false })
}
