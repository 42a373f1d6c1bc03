/** `sealpost demo`: the whole system end to end through a real relay, including attacks that must fail. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import type { Client } from '../client/Client.js'
import { deploymentPath } from '../client/deployment.js'
import { runCrossChainAct } from '../demo/crossChainAct.js'
import type { DemoNetwork } from '../demo/parties.js'
import { createDemoReport, type DemoReport, type DemoSummary, recordFailure } from '../demo/report.js'
import { runDemoScenario } from '../demo/scenario.js'
import { demoSpec } from './commands.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { parseCommandArgs } from './options.js'
import { jsonReplacer } from './output.js'
import { qrLines } from './qrTerminal.js'
import { type SecondChain, startSecondChain } from './secondChain.js'
import { type Stack, startStack } from './stack.js'

/**
 * Starts a fresh local stack (the one `up` starts) under a temporary home, runs the demo scenario on it, then (unless
 * `--chains 1`) the cross-chain act on a second local chain, and returns its summary (exit code 0 only if every step
 * passed). `--keep` keeps the homes; `--out FILE` also writes the JSON summary to FILE.
 *
 * @example const { ok } = await demoCommand(ctx, ['--json'])
 */
export async function demoCommand(ctx: CliContext, argv: string[]): Promise<DemoSummary> {
  const { values } = parseCommandArgs(demoSpec, argv)
  const chains = values.chains
  if (chains !== '1' && chains !== '2')
    throw new ArgumentError('--chains must be 1 or 2 (2: end with the cross-chain act).')
  const { out } = ctx
  const report = createDemoReport(out)
  const home = mkdtempSync(join(tmpdir(), 'sealpost-demo-'))
  // The demo's records stay in its temporary home, never next to the user's deployment record.
  const demoCtx: CliContext = { ...ctx, home, deploymentFile: deploymentPath(home) }
  let stack: Stack | undefined
  let second: SecondChain | undefined
  try {
    stack = await startStack(demoCtx, {
      port: 0,
      host: '127.0.0.1',
      local: true,
      deploy: true,
      anchor: {
        batchSize: 64,
        batchIntervalMs: 300,
        confirmations: 1,
        pollingIntervalMs: 100,
        recheckIntervalMs: 1000,
      },
      pollingInterval: 200,
    })
    const { anvil, deployed, relay } = stack
    report.record('start chain', true, `anvil on ${stack.rpc}, chain id ${stack.deployment.chainId}`)
    report.record(
      'deploy contracts',
      deployed !== undefined,
      `KeyRegistry ${stack.deployment.keyRegistry}, MessageAnchor ${stack.deployment.messageAnchor}`,
      deployed
        ? [
            `KeyRegistry tx ${deployed.txHashes.keyRegistry} gas ${deployed.gasUsed.keyRegistry}`,
            `MessageAnchor tx ${deployed.txHashes.messageAnchor} gas ${deployed.gasUsed.messageAnchor}`,
          ]
        : [],
    )
    report.record(
      'start relay',
      true,
      `relay on ${relay.url}; anchors batches of up to 64 leaves every 300 ms`,
    )
    const network: DemoNetwork = {
      rpc: stack.rpc,
      deployment: stack.deployment,
      relay: relay.url,
      dir: home,
      pollingInterval: 200,
    }
    await runDemoScenario({
      network,
      keys: (anvil?.accounts ?? []).slice(1, 3) as Hex[],
      report,
      qr: qrLines,
    })
    if (chains === '2' && anvil) {
      second = await startSecondChain(demoCtx, {
        rpcA: stack.rpc,
        deploymentA: stack.deployment,
        keysA: anvil.accounts,
        blockTime: 0,
        confirmations: 1,
        intervalMs: 250,
      })
      await crossChainAct(report, network, second)
    }
  } catch (err) {
    recordFailure(report, err)
    if (out.debug) console.error(err)
  } finally {
    await second?.stop().catch(() => undefined)
    await stack?.stop().catch(() => undefined)
    if (!values.keep) rmSync(home, { recursive: true, force: true })
    else out.info(`Kept the demo homes in ${home}`)
  }
  const summary = report.summary()
  const failed = summary.steps.filter((s) => !s.ok).length
  out.info(summary.ok ? `\nAll ${summary.steps.length} steps passed.` : `\n${failed} step(s) failed.`)
  out.result(summary)
  if (values.out) {
    writeFileSync(values.out, `${JSON.stringify(summary, jsonReplacer, 2)}\n`)
    out.info(`Wrote the summary to ${values.out}`)
  }
  return summary
}

/** The cross-chain act on chain B (its clients closed at the end). */
async function crossChainAct(report: DemoReport, network: DemoNetwork, chainB: SecondChain): Promise<void> {
  const clients: Client[] = []
  try {
    await runCrossChainAct({
      report,
      network,
      chainB,
      track: (c) => {
        clients.push(c)
        return c
      },
    })
  } finally {
    for (const c of clients) await c.close().catch(() => undefined)
  }
}
