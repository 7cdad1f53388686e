/** The Training page's data: datasets, jobs, a job's events, deployments, and the calls that change them. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { DeployInput, NewTrainingJob, TrainingEvent, TrainingJob } from '@/api/types'

const DATASETS = ['training', 'datasets'] as const
const JOBS = ['training', 'jobs'] as const
const DEPLOYMENTS = ['training', 'deployments'] as const
export const ENDED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled'])

export const useDatasets = () =>
  useQuery({ queryKey: DATASETS, queryFn: async ({ signal }) => (await api('/training/datasets', { signal })).data })

export function useUploadDataset() {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: async (file: File) => {
      const form = new FormData()
      form.append('file', file, file.name)
      return (await api('/training/datasets', { method: 'POST', body: form })).data
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: DATASETS }),
  })
}

/** Jobs, polled while one has not ended. */
export const useJobs = () =>
  useQuery({
    queryKey: JOBS,
    queryFn: async ({ signal }) => (await api('/training/jobs', { query: { limit: 50 }, signal })).data,
    refetchInterval: (query) => (query.state.data?.some((j) => !ENDED.has(j.status)) ? 2000 : false),
  })

/** A job's events (newest first from the API), polled while it runs. */
export const useJobEvents = (job: TrainingJob) =>
  useQuery({
    queryKey: ['training', 'events', job.id, job.status],
    queryFn: async ({ signal }) => (await api('/training/jobs/{id}/events', { params: { id: job.id }, query: { limit: 200 }, signal })).data,
    refetchInterval: ENDED.has(job.status) ? false : 2000,
  })

export const useDeployments = () =>
  useQuery({ queryKey: DEPLOYMENTS, queryFn: async ({ signal }) => (await api('/training/deployments', { signal })).data })

function useTrainingMutation<In, Out>(call: (input: In) => Promise<Out>) {
  const queryClient = useQueryClient()
  return useMutation({ mutationFn: call, onSettled: () => queryClient.invalidateQueries({ queryKey: ['training'] }) })
}

export const useCreateJob = () => useTrainingMutation(async (input: NewTrainingJob) => (await api('/training/jobs', { method: 'POST', body: input })).data)
export const useCancelJob = () => useTrainingMutation(async (id: string) => (await api('/training/jobs/{id}/cancel', { params: { id }, method: 'POST', body: {} })).data)
export const usePauseJob = () => useTrainingMutation(async (id: string) => (await api('/training/jobs/{id}/pause', { params: { id }, method: 'POST', body: {} })).data)
export const useResumeJob = () => useTrainingMutation(async (id: string) => (await api('/training/jobs/{id}/resume', { params: { id }, method: 'POST', body: {} })).data)
export const useDeployJob = () =>
  useTrainingMutation(async ({ id, ...input }: DeployInput & { id: string }) => (await api('/training/jobs/{id}/deploy', { params: { id }, method: 'POST', body: input })).data)

/** The loss by step, from a job's metrics events, in step order. */
export function lossOf(events: readonly TrainingEvent[]): { step: number; train_loss?: number; valid_loss?: number }[] {
  return events
    .filter((e) => e.type === 'metrics' && typeof e.data.step === 'number')
    .map((e) => ({ step: e.data.step!, train_loss: e.data.train_loss, valid_loss: e.data.valid_loss }))
    .sort((a, b) => a.step - b.step)
}
