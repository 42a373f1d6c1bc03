/** `sealpost demo`: the whole system end to end on a fresh local chain, including three attacks that must fail. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createPublicClient, createWalletClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../chain/anvil.js'
import { deploySealpost } from '../chain/deploy.js'
import { Client, type ReceivedMessage } from '../client/Client.js'
import type { Deployment } from '../client/deployment.js'
import { KeyRevokedError, MlsRejectedError, ReplayError, StaleSequenceError } from '../client/errors.js'
import { MemoryHub } from '../client/transport.js'
import { BaseError } from '../errors.js'
import { createEnvelope, EnvelopeIdMismatchError, encodeEnvelope } from '../protocol/envelope.js'
import type { CliContext } from './context.js'

/** One step of the demo and its outcome. */
export type DemoStep = { name: string; ok: boolean; detail: string }

/** Summary printed with --json. */
export type DemoSummary = { ok: boolean; steps: DemoStep[] }

/**
 * Runs the demo scenario and returns its summary (exit code 0 only if every step passed).
 *
 * @example const { ok } = await demoCommand(ctx, ['--json'])
 */
export async function demoCommand(ctx: CliContext, argv: string[]): Promise<DemoSummary> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: 'boolean', default: false } } })
  const out = ctx.out
  const steps: DemoStep[] = []
  const record = (name: string, ok: boolean, detail: string, lines: string[] = []) => {
    steps.push({ name, ok, detail })
    out.info(`${ok ? '✓' : '✗'} ${name}: ${detail}`)
    for (const line of lines) out.info(`    ${line}`)
  }
  const expectRejection = async (
    name: string,
    attempt: () => Promise<unknown>,
    expected: new (...a: never[]) => BaseError,
  ) => {
    try {
      await attempt()
      record(name, false, `accepted, but ${expected.name} was expected`)
    } catch (err) {
      const ok = err instanceof expected
      const e = err as BaseError
      record(name, ok, ok ? `rejected with ${e.name} [${e.code}]` : `unexpected ${e?.name}: ${e?.message}`, [
        e.shortMessage ?? '',
        ...(e.metaMessages ?? []),
      ])
    }
  }

  const home = mkdtempSync(join(tmpdir(), 'sealpost-demo-'))
  let anvil: Anvil | undefined
  const clients: Client[] = []
  try {
    let done = out.step('Starting anvil (hardfork osaka)')
    anvil = await startAnvil()
    done(anvil.rpcUrl)
    record('start chain', true, `anvil on ${anvil.rpcUrl}, chain id ${anvil.chainId}`)

    const rpc = anvil.rpcUrl
    const deployer = privateKeyToAccount(anvil.accounts[0] as Hex)
    const publicClient = createPublicClient({ transport: http(rpc) })
    done = out.step('Deploying KeyRegistry and MessageAnchor')
    const deployed = await deploySealpost(
      createWalletClient({ account: deployer, transport: http(rpc) }),
      publicClient,
    )
    done()
    record(
      'deploy contracts',
      true,
      `KeyRegistry ${deployed.keyRegistry}, MessageAnchor ${deployed.messageAnchor}`,
      [
        `KeyRegistry tx ${deployed.txHashes.keyRegistry} gas ${deployed.gasUsed.keyRegistry}`,
        `MessageAnchor tx ${deployed.txHashes.messageAnchor} gas ${deployed.gasUsed.messageAnchor}`,
      ],
    )
    const deployment: Deployment = {
      chainId: anvil.chainId,
      keyRegistry: deployed.keyRegistry,
      messageAnchor: deployed.messageAnchor,
      deployBlock: deployed.deployBlock,
    }

    const hub = new MemoryHub()
    const newClient = async (who: string, key: Hex, device = 'default') => {
      const client = await Client.create({
        account: privateKeyToAccount(key),
        home: join(home, who),
        rpc,
        transport: hub.connect(),
        deployment,
        passphrase: 'sealpost demo passphrase',
        device,
        // Demo homes are throwaway: a light scrypt keeps the run short. Real homes use N = 2^17.
        kdf: { N: 2 ** 14, r: 8, p: 1 },
        pollingInterval: 250,
      })
      clients.push(client)
      return client
    }

    const alice = await newClient('alice', anvil.accounts[1] as Hex)
    const bob = await newClient('bob', anvil.accounts[2] as Hex)
    for (const [name, client] of [
      ['Alice', alice],
      ['Bob', bob],
    ] as const) {
      done = out.step(`Registering ${name}'s device (EIP-712 AddDevice)`)
      const r = await client.register()
      done()
      record(`register ${name}`, true, `${client.account} device ${client.deviceId}`, [
        `tx ${r.txHash} gas ${r.gasUsed} block ${r.blockNumber}`,
        'published 5 key packages signed by the registered MLS key',
      ])
    }

    const chat = await alice.conversations.open(bob.account)
    const joined = await bob.sync()
    record('open conversation', joined.joined.includes(chat.id), `MLS group ${chat.id.slice(0, 18)}…`, [
      `ciphersuite ${alice.ciphersuite}`,
      `members: ${chat
        .info()
        .members.map((m) => m.deviceId.slice(0, 10))
        .join(', ')}`,
    ])

    const showMessage = (label: string, m: ReceivedMessage | undefined, expected: string) => {
      const ok = m?.text === expected && m.report.ok
      record(
        label,
        ok,
        m ? `"${m.text}" verified` : 'nothing received',
        m ? m.report.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}`) : [],
      )
    }
    const first = await chat.send('Hi Bob, the audit report is ready.')
    showMessage('Alice → Bob', (await bob.sync()).received[0], 'Hi Bob, the audit report is ready.')
    const bobChat = bob.conversations.get(chat.id)
    await bobChat?.send('Thanks Alice, reading it now.')
    showMessage('Bob → Alice', (await alice.sync()).received[0], 'Thanks Alice, reading it now.')

    // Attack 1: a relay flips a ciphertext byte of a message Bob has not read yet. Without fixing the id, the
    // envelope codec catches it; with the id recomputed (a malicious relay can), MLS authentication catches it.
    // The genuine message still arrives afterwards: a rejection changes no state.
    const pending = await chat.send('Second page attached.')
    const raw = encodeEnvelope(pending.envelope)
    raw[raw.length - 20] = (raw[raw.length - 20] ?? 0) ^ 0x01
    await expectRejection('tampered envelope (bad id)', () => bob.receive(raw), EnvelopeIdMismatchError)
    const tampered = pending.envelope.payload.slice()
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 0x01
    await expectRejection(
      'tampered envelope (id recomputed)',
      () => bob.receive(createEnvelope({ kind: 'application', topic: chat.id, payload: tampered })),
      MlsRejectedError,
    )
    showMessage('genuine message still delivered', (await bob.sync()).received[0], 'Second page attached.')

    // Attack 2: replays. The same envelope again, and a fresh message reusing an old sequence number.
    await expectRejection('replayed envelope', () => bob.receive(first.envelope), ReplayError)
    const stale = await chat.send('this reuses seq 1', { unsafeSeq: 1n })
    await expectRejection('replayed sequence number', () => bob.receive(stale.envelope), StaleSequenceError)

    // Attack 3: a stolen phone. Alice adds a phone, it joins the conversation, then she revokes it on chain.
    const phone = await newClient('alice', anvil.accounts[1] as Hex, 'phone')
    await phone.register()
    const added = await chat.syncMembers()
    await phone.sync()
    await bob.sync()
    const revocation = await alice.revokeDevice(phone.deviceId)
    record(
      "revoke Alice's phone",
      added.added.includes(phone.deviceId),
      `device ${phone.deviceId.slice(0, 18)}…`,
      [`added to the group, then revoked in tx ${revocation.txHash} at block ${revocation.blockNumber}`],
    )
    const stolen = await phone.conversations
      .get(chat.id)
      ?.send('wire the funds to this account', { unsafeSkipRegistrationCheck: true })
    await expectRejection(
      'message from a revoked device',
      () => bob.receive(stolen?.envelope as never),
      KeyRevokedError,
    )
    const removed = await chat.syncMembers()
    record(
      'remove revoked device from the group',
      removed.removed.includes(phone.deviceId),
      `new epoch ${chat.info().epoch}`,
      [
        `members: ${chat
          .info()
          .members.map((m) => m.deviceId.slice(0, 10))
          .join(', ')}`,
      ],
    )
  } catch (err) {
    const e = err as BaseError
    record(
      'unexpected failure',
      false,
      e instanceof BaseError ? `${e.name} [${e.code}]: ${e.shortMessage}` : String(err),
    )
    if (out.debug) console.error(err)
  } finally {
    for (const c of clients) await c.close().catch(() => undefined)
    await anvil?.stop()
    if (!values.keep) rmSync(home, { recursive: true, force: true })
    else out.info(`Kept the demo homes in ${home}`)
  }
  const ok = steps.length > 0 && steps.every((s) => s.ok)
  out.info(
    ok ? `\nAll ${steps.length} steps passed.` : `\n${steps.filter((s) => !s.ok).length} step(s) failed.`,
  )
  const summary = { ok, steps }
  out.result(summary)
  return summary
}
