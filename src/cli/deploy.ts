/** `sealpost deploy`: deploys KeyRegistry, MessageAnchor and StatementVerifier from the account and records them under --home. */
import { deploySealpost } from '../chain/deploy.js'
import { mapChainError } from '../chain/errors.js'
import { writeDeployment } from '../client/deployment.js'
import type { CliContext } from './context.js'
import { publicFor, walletFor } from './context.js'

/**
 * Deploys the contracts through --rpc, paying gas from the account under --home.
 *
 * @example await deployCommand(ctx)
 */
export async function deployCommand(ctx: CliContext): Promise<void> {
  const account = await ctx.account()
  const publicClient = publicFor(ctx.rpc)
  const chainId = await publicClient.getChainId().catch((err) => {
    throw mapChainError(err)
  })
  let done: ((r?: string) => void) | undefined
  const deployment = await deploySealpost(walletFor(account, ctx.rpc), publicClient, {
    onProgress: (p) => {
      if (p.status === 'sending') done = ctx.out.step(`Deploying ${p.step}`)
      else done?.(`${p.address} (tx ${p.hash}, gas ${p.gasUsed})`)
    },
  })
  writeDeployment(ctx.home, {
    chainId,
    keyRegistry: deployment.keyRegistry,
    messageAnchor: deployment.messageAnchor,
    statementVerifier: deployment.statementVerifier,
    deployBlock: deployment.deployBlock,
    rpcUrl: ctx.rpc,
  })
  ctx.out.info(`Recorded the deployment in ${ctx.home}/deployment.json`)
  ctx.out.result({ ok: true, chainId, ...deployment })
}
