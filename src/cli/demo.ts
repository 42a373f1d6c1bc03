/** `sealpost demo`: the whole system end to end through a real relay, including attacks that must fail. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { createDemoReport, type DemoSummary, recordFailure } from '../demo/report.js'
import { runDemoScenario } from '../demo/scenario.js'
import { demoSpec } from './commands.js'
import type { CliContext } from './context.js'
import { parseCommandArgs } from './options.js'
import { jsonReplacer } from './output.js'
import { qrLines } from './qrTerminal.js'
import { type Stack, startStack } from './stack.js'

/**
 * Starts a fresh local stack (the one `up` starts) under a temporary home, runs the demo scenario on it, and
 * returns its summary (exit code 0 only if every step passed). `--keep` keeps the homes; `--out FILE` also writes the
 * JSON summary to FILE.
 *
 * @example const { ok } = await demoCommand(ctx, ['--json'])
 */
export async function demoCommand(ctx: CliContext, argv: string[]): Promise<DemoSummary> {
  const { values } = parseCommandArgs(demoSpec, argv)
  const { out } = ctx
  const report = createDemoReport(out)
  const home = mkdtempSync(join(tmpdir(), 'sealpost-demo-'))
  let stack: Stack | undefined
  try {
    stack = await startStack(
      { ...ctx, home },
      {
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
      },
    )
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
    await runDemoScenario({
      network: {
        rpc: stack.rpc,
        deployment: stack.deployment,
        relay: relay.url,
        dir: home,
        pollingInterval: 200,
      },
      keys: (anvil?.accounts ?? []).slice(1, 3) as Hex[],
      report,
      qr: qrLines,
    })
  } catch (err) {
    recordFailure(report, err)
    if (out.debug) console.error(err)
  } finally {
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
