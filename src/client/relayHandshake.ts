/** The client's answer to a relay's CHALLENGE: refuse another deployment, else sign the auth message. */
import { type Address, bytesToHex, type Hex } from 'viem'
import { type ClientFrame, type RelayFrame, relayAuthMessage } from '../protocol/relayFrames.js'

/**
 * The deployment a client trusts: the chain and KeyRegistry a relay must announce in its CHALLENGE.
 *
 * @example const expect: ExpectedDeployment = { chainId: 31337, registry: deployment.keyRegistry }
 */
export type ExpectedDeployment = { chainId: number; registry: Address }

/**
 * Inputs to {@link answerChallenge}.
 *
 * @example const p: AnswerChallengeParameters = { challenge, expect, account, deviceId, sign: (m) => key.sign(m) }
 */
export type AnswerChallengeParameters = {
  challenge: Extract<RelayFrame, { type: 'challenge' }>
  /** Required; a missing expectation (a JavaScript caller) matches no relay. */
  expect: ExpectedDeployment
  account: Address
  deviceId: Hex
  sign: (message: Uint8Array) => Uint8Array
}

/**
 * The AUTH frame for a relay of the expected deployment, or the wire code `WRONG_DEPLOYMENT` when it announces
 * another chain or KeyRegistry: then `sign` is never called, so nothing is signed for a relay of another deployment.
 *
 * @example
 * const answer = answerChallenge({ challenge: frame, expect, account, deviceId, sign })
 * if (answer.type === 'refuse') fail(answer.code); else send(answer.frame)
 */
export function answerChallenge({
  challenge,
  expect,
  account,
  deviceId,
  sign,
}: AnswerChallengeParameters):
  | { type: 'refuse'; code: 'WRONG_DEPLOYMENT' }
  | { type: 'auth'; frame: Extract<ClientFrame, { type: 'auth' }> } {
  if (!isExpectedDeployment(challenge, expect)) return { type: 'refuse', code: 'WRONG_DEPLOYMENT' }
  const signature = sign(relayAuthMessage({ challenge: challenge.challenge, account, deviceId }))
  return { type: 'auth', frame: { type: 'auth', account, deviceId, signature: bytesToHex(signature) } }
}

/**
 * True iff the relay announces exactly the expected chain and KeyRegistry (addresses compared case-insensitively).
 *
 * @example isExpectedDeployment({ chainId: 1, registry }, { chainId: 31337, registry }) // false
 */
export function isExpectedDeployment(
  announced: { chainId: number; registry: Address },
  expect: ExpectedDeployment | undefined,
): boolean {
  return (
    expect !== undefined &&
    announced.chainId === expect.chainId &&
    announced.registry.toLowerCase() === expect.registry.toLowerCase()
  )
}
