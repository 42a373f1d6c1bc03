/** `sealpost id link` (on the new device) and `sealpost id approve` (on a device holding the account key). */
import { createInterface } from 'node:readline/promises'
import type { Hex } from 'viem'
import { sponsorUrlOf } from '../chain/sponsor.js'
import {
  approveLinkRequest,
  createLinkRequest,
  type ParsedLinkRequest,
  waitForLinkedDevice,
} from '../client/linkDevice.js'
import { LinkApprovalDeclinedError } from '../client/linkErrors.js'
import type { SendHistoryResult } from '../client/sendHistory.js'
import { configuredChains, parseAddressArg } from './address.js'
import type { CliContext } from './context.js'
import { ArgumentError, TimeoutError } from './errors.js'
import { idApproveSpec, idLinkSpec } from './idCommands.js'
import { parseCommandArgs } from './options.js'
import { qrLines } from './qrTerminal.js'
import { openLiveClient, resolveRelay } from './session.js'

/** How long the new device keeps waiting after its request expired (a transaction sent just before may still land). */
const WAIT_GRACE_MS = 120_000
/** How often a non-terminal wait prints that it is still waiting. */
const PROGRESS_EVERY_MS = 15_000

const clock = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(11, 19)

/**
 * `sealpost id link --account 0xA [--name NAME] [--ttl MIN] [--no-wait]`: creates this device's keys, prints the
 * signed link request (URI and QR code) and, unless --no-wait, waits until the registry shows the device active.
 *
 * @example await idLink(ctx, ['--account', '0xA…', '--name', 'laptop'])
 */
export async function idLink(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(idLinkSpec, argv)
  if (!values.account)
    throw new ArgumentError('Name the account this device joins.', {
      metaMessages: ['Usage: sealpost id link --account 0xACCOUNT [--name NAME]'],
    })
  const account = parseAddressArg(values.account, '--account', configuredChains(ctx))
  const ttlMinutes = Number(values.ttl)
  if (!Number.isFinite(ttlMinutes) || ttlMinutes <= 0 || ttlMinutes > 24 * 60)
    throw new ArgumentError('--ttl must be a number of minutes between 0 and 1440.')
  const deployment = await ctx.deployment()
  const done = ctx.out.step(
    `Generating device "${values.name}" (P-256 + MLS keys) and its proofs of possession`,
  )
  const link = await createLinkRequest({
    home: ctx.home,
    name: values.name,
    account,
    passphrase: ctx.passphrase(),
    deployment,
    ttlMs: ttlMinutes * 60_000,
  })
  done(link.fingerprints.deviceId)
  const { request, fingerprints, uri } = link
  ctx.out.info(`Link request for account ${account}, valid until ${clock(request.expiresAt)} UTC.`)
  ctx.out.info('On a device that holds the account key, scan the code or run the command below:')
  for (const line of qrLines(uri)) ctx.out.info(line)
  ctx.out.info(`  sealpost id approve ${uri}`)
  ctx.out.info(`device   ${request.name} ${fingerprints.deviceId}`)
  ctx.out.info(`P-256    ${fingerprints.p256}`)
  ctx.out.info(`MLS      ${fingerprints.mls}`)
  ctx.out.info('The approving device shows these fingerprints: compare them before it approves.')
  const summary = { ok: true, uri, account, name: request.name, expiresAt: request.expiresAt, fingerprints }
  if (values['no-wait']) {
    ctx.out.result({ ...summary, active: false })
    return
  }
  const waiting = ctx.out.step('Waiting for the approval (watching the registry)')
  const started = Date.now()
  let lastNote = started
  const deadline = request.expiresAt * 1000 + WAIT_GRACE_MS
  const signal = AbortSignal.timeout(Math.max(0, deadline - Date.now()))
  let active: { block: bigint }
  try {
    active = await waitForLinkedDevice({
      rpc: ctx.rpc,
      deployment,
      account,
      deviceId: fingerprints.deviceId,
      signal,
      onPoll: () => {
        if (process.stderr.isTTY || Date.now() - lastNote < PROGRESS_EVERY_MS) return
        lastNote = Date.now()
        const left = Math.max(0, Math.round((request.expiresAt * 1000 - lastNote) / 1000))
        process.stderr.write(
          `… still waiting: ${Math.round((lastNote - started) / 1000)} s, the request expires in ${left} s\n`,
        )
      },
    })
  } catch (err) {
    if (signal.aborted)
      throw new TimeoutError({
        what: 'The link request expired before it was approved.',
        last: 'not registered',
      })
    throw err
  }
  waiting(`active at block ${active.block}`)
  ctx.out.info(`device   ${request.name} ${fingerprints.deviceId} active since block ${active.block}`)
  ctx.out.result({ ...summary, active: true, block: active.block })
}

/**
 * `sealpost id approve REQUEST [--yes] [--fingerprint HEX] [--relay URL] [--send-history [--wait S]]`: checks the
 * request against this account and deployment, shows the device, asks (unless --yes; refused without a terminal),
 * authorizes it on chain and, with --send-history, sends it this device's history (docs/key-management.md §5).
 *
 * @example await idApprove(ctx, ['sealpost:link?v=1&r=…', '--yes'])
 */
export async function idApprove(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(idApproveSpec, argv)
  const [text, extra] = positionals
  if (!text || extra !== undefined)
    throw new ArgumentError('Give one link request (the sealpost:link URI `sealpost id link` printed).', {
      metaMessages: ['Usage: sealpost id approve REQUEST'],
    })
  const historyWaitS = Number(values.wait)
  if (values['send-history'] && (!Number.isFinite(historyWaitS) || historyWaitS < 0))
    throw new ArgumentError('--wait must be a number of seconds, 0 or more.')
  const relay = resolveRelay(values.relay)
  const sponsor = { url: sponsorUrlOf(relay) }
  const [wallet, deployment] = [await ctx.account(), await ctx.deployment()]
  const confirm = async ({ request, fingerprints }: ParsedLinkRequest) => {
    ctx.out.info(`Approve this device for account ${request.account}?`)
    ctx.out.info(`device   ${request.name} ${fingerprints.deviceId}`)
    ctx.out.info(`P-256    ${fingerprints.p256}`)
    ctx.out.info(`MLS      ${fingerprints.mls}`)
    ctx.out.info(`expires  ${clock(request.expiresAt)} UTC`)
    ctx.out.info('Check that the new device shows the same fingerprints.')
    if (values.yes) return true
    if (!process.stdin.isTTY) throw new LinkApprovalDeclinedError({ reason: 'no-terminal' })
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    try {
      return /^y(es)?$/i.test((await rl.question('Approve? [y/N] ')).trim())
    } finally {
      rl.close()
    }
  }
  const done = ctx.out.step('Authorizing the device (EIP-712 AddDevice) and waiting for the receipt')
  let result: Awaited<ReturnType<typeof approveLinkRequest>>
  try {
    result = await approveLinkRequest({
      request: text,
      wallet,
      rpc: ctx.rpc,
      deployment,
      sponsor,
      confirm,
      ...(values.fingerprint !== undefined ? { expectedFingerprint: values.fingerprint } : {}),
    })
  } catch (err) {
    done('refused')
    throw err
  }
  done(`tx ${result.txHash}, gas ${result.gasUsed}`)
  ctx.out.info(`device   ${result.request.name} ${result.deviceId} active since block ${result.blockNumber}`)
  const history = values['send-history']
    ? await sendHistoryTo(ctx, {
        toDevice: result.deviceId,
        device: values.device,
        relay,
        waitS: historyWaitS,
      })
    : undefined
  ctx.out.result({
    ok: true,
    deviceId: result.deviceId,
    name: result.request.name,
    fingerprints: result.fingerprints,
    txHash: result.txHash,
    gasUsed: result.gasUsed,
    blockNumber: result.blockNumber,
    ...(history ? { history } : {}),
  })
}

/** `id approve --send-history`: this device's history, sealed to the device just approved once it has a key package. */
async function sendHistoryTo(
  ctx: CliContext,
  { toDevice, device, relay, waitS }: { toDevice: Hex; device: string; relay: string; waitS: number },
): Promise<SendHistoryResult> {
  const client = await openLiveClient(ctx, { device, relay })
  try {
    const sending = ctx.out.step(
      `Sending this device's history (waiting up to ${waitS} s for the new device to connect once)`,
    )
    const sent = await client.history.send({ toDevice, waitForKeyPackageMs: waitS * 1000 })
    sending(
      sent.chunks === 0
        ? 'the log is empty: nothing sent'
        : `${sent.messages} messages, ${sent.bytes} bytes in ${sent.chunks} chunk${sent.chunks === 1 ? '' : 's'}`,
    )
    ctx.out.info(`history  ${sent.archiveId}`)
    return sent
  } finally {
    await client.close()
  }
}
