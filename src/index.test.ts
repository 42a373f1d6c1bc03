/** The public API is deliberate: any change to an entry point's export list shows up in this snapshot. */
import { expect, test } from 'vitest'

test.each([
  ['sealpost', () => import('./index.js')],
  ['sealpost/protocol', () => import('./protocol/index.js')],
  ['sealpost/crypto', () => import('./crypto/index.js')],
  ['sealpost/chain', () => import('./chain/index.js')],
  ['sealpost/relay', () => import('./relay/index.js')],
  ['sealpost/contracts', () => import('../contracts/index.js')],
])('%s exports', async (_name, load) => {
  expect(Object.keys(await load()).sort()).toMatchSnapshot()
})
