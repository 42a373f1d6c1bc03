import type { Hex } from 'viem'
import { describe, expect, test } from 'vitest'
import { relayAuthMessage } from '../protocol/relayFrames.js'
import { answerChallenge, type ExpectedDeployment, isExpectedDeployment } from './relayHandshake.js'

const registry: Hex = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const account: Hex = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const deviceId: Hex = `0x${'22'.repeat(32)}`
const challenge = {
  type: 'challenge' as const,
  challenge: `0x${'33'.repeat(32)}` as Hex,
  expiresAt: 1_700_000_000,
  chainId: 31337,
  registry,
}

describe('answerChallenge', () => {
  test('signs the auth message for a relay of the expected deployment', () => {
    const signed: Uint8Array[] = []
    const answer = answerChallenge({
      challenge,
      expect: { chainId: 31337, registry: registry.toLowerCase() as Hex },
      account,
      deviceId,
      sign: (m) => {
        signed.push(m)
        return new Uint8Array(64).fill(7)
      },
    })
    expect(signed).toEqual([relayAuthMessage({ challenge: challenge.challenge, account, deviceId })])
    expect(answer).toEqual({
      type: 'auth',
      frame: { type: 'auth', account, deviceId, signature: `0x${'07'.repeat(64)}` },
    })
  })

  test.each<[string, ExpectedDeployment | undefined]>([
    ['another chain', { chainId: 1, registry }],
    ['another registry', { chainId: 31337, registry: `0x${'11'.repeat(20)}` }],
    ['no expectation', undefined],
  ])('refuses %s without signing', (_, expected) => {
    const answer = answerChallenge({
      challenge,
      expect: expected as ExpectedDeployment,
      account,
      deviceId,
      sign: () => {
        throw new Error('must not sign')
      },
    })
    expect(answer).toEqual({ type: 'refuse', code: 'WRONG_DEPLOYMENT' })
  })
})

test('isExpectedDeployment compares registries case-insensitively, chains exactly', () => {
  const lower = registry.toLowerCase() as Hex
  expect(isExpectedDeployment({ chainId: 5, registry }, { chainId: 5, registry: lower })).toBe(true)
  expect(isExpectedDeployment({ chainId: 5, registry }, { chainId: 6, registry: lower })).toBe(false)
})
