/** The contract deployment a client talks to, recorded as `deployment.json` under `--home`. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getAddress } from 'viem'
import { z } from 'zod'
import type { Deployment } from '../chain/deployment.js'
import { DeploymentFormatError, DeploymentNotFoundError } from './errors.js'
import { parseStrictJson } from './strictJson.js'

export type { Deployment } from '../chain/deployment.js'
export { DeploymentFormatError, DeploymentNotFoundError } from './errors.js'

const schema = z.object({
  chainId: z.number().int().positive(),
  keyRegistry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  messageAnchor: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  statementVerifier: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .optional(),
  deployBlock: z.string().regex(/^\d+$/),
  rpcUrl: z.string().optional(),
})

/** Path of the deployment record. */
export const deploymentPath = (home: string) => join(home, 'deployment.json')

/**
 * Reads the deployment recorded under `home`.
 *
 * @example const deployment = readDeployment(home)
 */
export function readDeployment(home: string): Deployment {
  return readDeploymentFile(deploymentPath(home))
}

/**
 * Reads a deployment record from any file (`sealpost --deployment FILE`).
 *
 * @example const deployment = readDeploymentFile('./sepolia.deployment.json')
 */
export function readDeploymentFile(path: string): Deployment {
  if (!existsSync(path)) throw new DeploymentNotFoundError({ path })
  let json: unknown
  try {
    // Strict: a pinned deployment naming a contract twice must not mean two things.
    json = parseStrictJson(readFileSync(path, 'utf8'))
  } catch {
    throw new DeploymentFormatError({ path, reason: 'not valid JSON (or a key named twice)' })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success)
    throw new DeploymentFormatError({ path, reason: parsed.error.issues[0]?.message ?? '' })
  return {
    chainId: parsed.data.chainId,
    keyRegistry: getAddress(parsed.data.keyRegistry),
    messageAnchor: getAddress(parsed.data.messageAnchor),
    ...(parsed.data.statementVerifier !== undefined && {
      statementVerifier: getAddress(parsed.data.statementVerifier),
    }),
    deployBlock: BigInt(parsed.data.deployBlock),
    rpcUrl: parsed.data.rpcUrl,
  }
}

/**
 * Records a deployment under `home` (public data, mode 0644).
 *
 * @example writeDeployment(home, { chainId: 31337, keyRegistry, messageAnchor, deployBlock: 1n })
 */
export function writeDeployment(home: string, deployment: Deployment): void {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  const { deployBlock, ...rest } = deployment
  writeFileSync(
    deploymentPath(home),
    `${JSON.stringify({ ...rest, deployBlock: deployBlock.toString() }, null, 2)}\n`,
  )
}
