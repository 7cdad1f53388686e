// Preloaded into a gateway by bench/heap-profile.ts: V8's sampling heap profiler, objects the GC
// collected included (so it counts what a request allocates, not only what survives). SIGUSR2
// starts sampling, SIGWINCH stops it and writes the profile to HEAP_PROFILE_OUT.
import inspector from 'node:inspector'
import { renameSync, writeFileSync } from 'node:fs'

const session = new inspector.Session()
session.connect()
const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))))
await post('HeapProfiler.enable')
process.on('SIGUSR2', () => {
  void post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.HEAP_PROFILE_SURVIVORS !== '1' })
    .then(() => console.error('heap sampling started'))
})
process.on('SIGWINCH', () => {
  void post('HeapProfiler.stopSampling').then(({ profile }) => {
    // Written whole, then renamed: the bench polls for the file and must not read half of it.
    writeFileSync(`${process.env.HEAP_PROFILE_OUT}.part`, JSON.stringify(profile))
    renameSync(`${process.env.HEAP_PROFILE_OUT}.part`, process.env.HEAP_PROFILE_OUT)
    console.error('heap profile written')
  })
})
