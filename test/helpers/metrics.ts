/** Reading a gateway's /metrics in tests. */

/** The sum of gateway_tokens_total of `kind` (prompt, completion, cached) over every route and provider. */
export async function tokensCounted(gatewayUrl: string, kind: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith('gateway_tokens_total{') && l.includes(`kind="${kind}"`)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
}
