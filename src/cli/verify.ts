/** `sealpost verify <transcript|receipt>`: checks a file against the chain alone; non-zero exit on any failure. */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { mapChainError } from '../chain/errors.js'
import { readDeployment } from '../client/deployment.js'
import { formatVerification, verifyTranscript } from '../client/transcript.js'
import { verifyReceipt } from '../client/verifyReceipt.js'
import { receiptFromJson } from '../protocol/receipt.js'
import { type CliContext, publicFor } from './context.js'
import { ArgumentError } from './errors.js'

/**
 * Verifies a transcript (log export) or a single receipt and prints every check. Returns whether all passed.
 *
 * @example const ok = await verifyCommand(ctx, ['alice.transcript.json'])
 */
export async function verifyCommand(ctx: CliContext, argv: string[]): Promise<boolean> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} })
  const [file] = positionals
  if (!file) throw new ArgumentError('Usage: sealpost verify <transcript.json|receipt.json>')
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new ArgumentError(`Cannot read ${file} as JSON.`, { cause })
  }
  const publicClient = publicFor(ctx.rpc)
  const chainId = await publicClient.getChainId().catch((err) => {
    throw mapChainError(err)
  })
  const isTranscript = typeof json === 'object' && json !== null && 'entries' in json
  if (isTranscript) {
    const result = await verifyTranscript({ transcript: json, publicClient })
    for (const line of formatVerification(result)) ctx.out.info(line)
    ctx.out.info(
      result.ok
        ? `✓ transcript verified (${result.checks.length} checks)`
        : '✗ transcript FAILED verification',
    )
    ctx.out.result(result)
    return result.ok
  }
  const receipt = receiptFromJson((json as { receipt?: unknown }).receipt ?? json)
  // Trust the deployment recorded under --home when there is one; otherwise the receipt's own contract, said aloud.
  let messageAnchor = receipt.contract
  try {
    messageAnchor = readDeployment(ctx.home).messageAnchor
  } catch {
    ctx.out.info(
      `! no deployment under --home: checking against the contract the receipt names (${receipt.contract})`,
    )
  }
  const result = await verifyReceipt(publicClient, { receipt, messageAnchor, chainId })
  for (const step of result.steps) ctx.out.info(`${step.ok ? '✓' : '✗'} ${step.name}: ${step.detail}`)
  ctx.out.info(
    result.ok ? `✓ receipt verified, ${result.confirmations} confirmations` : '✗ receipt FAILED verification',
  )
  ctx.out.result({ ok: result.ok, confirmations: result.confirmations, steps: result.steps })
  return result.ok
}
