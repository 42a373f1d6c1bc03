/** ParallelVerifier: batched verifications give the synchronous results, in order, for good and bad signatures. */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { expect, test } from 'vitest'
import { ParallelVerifier } from './parallelVerify.js'

const pairs = Array.from({ length: 12 }, () => generateKeyPairSync('ed25519'))
const message = (i: number) => new TextEncoder().encode(`message ${i}`)
const signed = pairs.map((p, i) => ({
  key: p.publicKey,
  message: message(i),
  signature: sign(null, message(i), p.privateKey),
}))

test('a batch (thread pool) and single calls (in-thread) give the same results as crypto.verify, bad ones included', async () => {
  const verifier = new ParallelVerifier()
  const jobs = signed.map((s, i) => {
    if (i === 3) return { ...s, message: message(99) } // signed over another message
    if (i === 7) return { ...s, key: signed[8]!.key } // another signer's key
    if (i === 9) return { ...s, signature: new Uint8Array(64) } // all zeros
    return s
  })
  const expected = jobs.map((j) => verify(null, j.message, j.key, j.signature))
  expect(expected.filter((ok) => !ok)).toHaveLength(3)
  expect(await Promise.all(jobs.map((j) => verifier.verify(j.key, j.message, j.signature)))).toEqual(expected)
  for (const [i, j] of jobs.entries())
    expect(await verifier.verify(j.key, j.message, j.signature)).toBe(expected[i])
})

test('a key that crypto.verify refuses makes that verification false, not the batch fail', async () => {
  const verifier = new ParallelVerifier({ minBatch: 2 })
  const p256 = createPublicKey(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }),
  )
  const results = await Promise.all([
    verifier.verify(signed[0]!.key, signed[0]!.message, signed[0]!.signature),
    verifier.verify(p256, signed[1]!.message, signed[1]!.signature),
    verifier.verify(signed[2]!.key, signed[2]!.message, signed[2]!.signature),
  ])
  expect(results).toEqual([true, false, true])
})
