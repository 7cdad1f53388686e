/**
 * Node flags the gateway runs with, wherever it is started: `npm start`, the `gateway` bin's
 * shebang, the Docker image's entrypoint, and the workers `--workers` forks (which get them
 * whatever the primary was started with). test/operability/node-flags.test.ts holds every launch
 * path to this list.
 *
 * --no-memory-reducer: once a gateway has been idle for a while, V8's memory reducer runs full
 * collections meant to shrink an idle heap, and with them goes the optimized code of the hot path.
 * A burst after such a pause runs unoptimized and recompiles at twice the CPU: one-second bursts of
 * 3,000 req/s to a no-auth gateway after 30-40 idle seconds did so in 3 of 13, their requests
 * waiting 61-263 ms at p50, against none of 13 with this flag (bench/after-idle.ts,
 * bench/RESULTS.md). The heap it would give back is small, since `--heap-growing-percent=50`
 * (bin/gateway.js) keeps it tight anyway.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--no-memory-reducer']

/** `execArgv` with the gateway's flags added where missing. */
export const withGatewayFlags = (execArgv: readonly string[]): string[] =>
  [...execArgv, ...GATEWAY_NODE_FLAGS.filter((flag) => !execArgv.includes(flag))]
