/** Test helper: what a contract write that must revert refused with, decoded. */
import { expect } from 'vitest'
import { ContractRevertError } from '../../src/chain/errors.js'

/**
 * Awaits a write that must revert and returns its decoded refusal: the custom error's name and arguments (`Error`
 * and the reason for a `require`). Fails the test if the write succeeds or fails otherwise.
 *
 * @example expect(await refusal(mirror.write.handle([…]))).toEqual({ errorName: 'NotMailbox', args: [attacker] })
 */
export async function refusal(
  p: Promise<unknown>,
): Promise<{ errorName: string | undefined; args: readonly unknown[] }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ContractRevertError)
  const r = e as ContractRevertError
  return { errorName: r.errorName, args: r.args }
}
