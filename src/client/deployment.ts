/** The contract deployment a client talks to, recorded as `deployment.json` under `--home`. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getAddress } from 'viem'
import { z } from 'zod'
import type { Deployment } from '../chain/deployment.js'
import { UsageError } from '../errors.js'

export type { Deployment } from '../chain/deployment.js'

const schema = z.object({
  chainId: z.number().int().positive(),
  keyRegistry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  messageAnchor: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  deployBlock: z.string().regex(/^\d+$/),
  rpcUrl: z.string().optional(),
})

/** No deployment is recorded under `--home` and none was given. */
export class DeploymentNotFoundError extends UsageError {
  override name = 'DeploymentNotFoundError' as const
  constructor({ path }: { path: string }) {
    super('No Sealpost deployment is configured.', {
      metaMessages: [`Looked for ${path}`, 'Run `sealpost up` (local chain) or pass --registry/--anchor.'],
      code: 'SEALPOST_NO_DEPLOYMENT',
    })
  }
}

/** Path of the deployment record. */
export const deploymentPath = (home: string) => join(home, 'deployment.json')

/**
 * Reads the deployment recorded under `home`.
 *
 * @example const deployment = readDeployment(home)
 */
export function readDeployment(home: string): Deployment {
  const path = deploymentPath(home)
  if (!existsSync(path)) throw new DeploymentNotFoundError({ path })
  const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
  if (!parsed.success)
    throw new UsageError('deployment.json is malformed.', {
      metaMessages: [`Path: ${path}`, parsed.error.issues[0]?.message ?? ''],
      code: 'SEALPOST_BAD_DEPLOYMENT',
      name: 'DeploymentFormatError',
    })
  return {
    chainId: parsed.data.chainId,
    keyRegistry: getAddress(parsed.data.keyRegistry),
    messageAnchor: getAddress(parsed.data.messageAnchor),
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
