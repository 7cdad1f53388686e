/** Worker processes of one gateway (`gateway start --workers N`), as each one sees the others. */

/** What a worker process knows of its peers: their config versions, and a reload of them all. */
export interface ClusterPeers {
  /** Every worker's pid, config version and last reload error, as the primary last reported them. */
  workers(): readonly WorkerConfigState[]
  /** Tell this worker's config state to the primary (on start and after every reload). */
  report(state: WorkerConfigState): void
  /** Reload every worker (the admin API's reload in one of them). */
  reloadAll(reason: string): void
}

export interface WorkerConfigState {
  readonly pid: number
  readonly version: string
  readonly loaded_at: string
  readonly last_error: string | null
}
