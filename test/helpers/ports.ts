/** Loopback ports for tests. */
import net from 'node:net'

/**
 * A loopback port that was free a moment ago: opened on port 0, then closed. For a server that
 * cannot be told to take port 0, and as an address nothing listens on (a dead upstream or database).
 */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
