/** Attack 3 of issue 9: a transcript forged against a look-alike KeyRegistry that maps the forger's key to Alice. */
import Database from 'better-sqlite3'
import { type Address, createWalletClient, type Hex, http, type PublicClient, toHex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { exportTranscript, type Transcript } from '../client/transcript.js'
import { DeviceSigningKey } from '../crypto/p256.js'
import { signStatement } from '../crypto/statementSignature.js'
import type { RecipientProof } from '../protocol/recipients.js'
import { decodeStatement } from '../protocol/statement.js'
import { AuditLog, messageLogData } from '../store/auditLog.js'
import { DemoAttackError } from './errors.js'
import { lookAlikeRegistryAbi, lookAlikeRegistryBytecode } from './lookAlikeRegistry.js'

/**
 * The forgery: the transcript, and the look-alike registry it names.
 *
 * @example const { forged, lookAlike } = await forgeAgainstLookAlike({ account, rpc, publicClient, genuine })
 */
export type LookAlikeForgery = { forged: Transcript; lookAlike: Address }

const random32 = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)))

/**
 * Mallory deploys a look-alike KeyRegistry from her `account`, "registers" a fresh key of hers there as a device of the
 * genuine transcript's account, re-signs the first statement of that account's log with it (device and registry
 * changed; body and recipients proof kept) and exports a one-entry "log of Alice" naming the look-alike. Verified with the addresses it
 * names, it passes; against the pinned deployment it must fail (`contracts`, DeploymentMismatchError).
 *
 * @example const { forged } = await forgeAgainstLookAlike({ account: mallory, rpc, publicClient, genuine: transcript })
 */
export async function forgeAgainstLookAlike({
  account,
  rpc,
  publicClient,
  genuine,
}: {
  /** Mallory's funded account: it deploys and writes the look-alike. */
  account: LocalAccount
  rpc: string
  publicClient: PublicClient
  /** A real transcript of the victim's log holding at least one sent message. */
  genuine: Transcript
}): Promise<LookAlikeForgery> {
  const wallet = createWalletClient({ account, transport: http(rpc) })
  const deployed = await wallet.deployContract({
    abi: lookAlikeRegistryAbi,
    bytecode: lookAlikeRegistryBytecode,
    chain: null,
  })
  const { contractAddress: lookAlike } = await publicClient.waitForTransactionReceipt({ hash: deployed })
  if (!lookAlike)
    throw new DemoAttackError({ attack: 'deploy the look-alike', reason: 'no contract address' })
  const key = DeviceSigningKey.generate()
  const device = random32()
  const set = await wallet.writeContract({
    address: lookAlike,
    abi: lookAlikeRegistryAbi,
    functionName: 'set',
    args: [device, genuine.account, key.p256X, key.p256Y],
    chain: null,
  })
  await publicClient.waitForTransactionReceipt({ hash: set })

  const real = genuine.entries.find((e) => e.kind === 'sent')
  if (!real)
    throw new DemoAttackError({
      attack: 'forge a transcript',
      reason: 'the genuine one holds no sent message',
    })
  const original = decodeStatement(Buffer.from(String(real.data.statement).slice(2), 'hex'))
  const statement = {
    ...original,
    device,
    ...(original.version === 2 ? { registry: lookAlike } : {}),
  }
  const signed = signStatement({ statement, key })
  const db = new Database(':memory:')
  try {
    const log = new AuditLog({ db })
    log.append({
      kind: 'sent',
      data: messageLogData({
        envelopeId: random32(),
        signed,
        body: typeof real.data.body === 'string' ? real.data.body : undefined,
        // The genuine entry's proof that Alice is a recipient still holds: the recipients root is unchanged.
        recipients: real.data.recipients as RecipientProof | undefined,
      }),
    })
    const block = await publicClient.getBlock()
    const forged = exportTranscript({
      log,
      chainId: genuine.chainId,
      keyRegistry: lookAlike,
      messageAnchor: genuine.messageAnchor,
      account: genuine.account,
      deviceId: device,
      signingKey: key,
      block: { number: block.number, hash: block.hash },
    })
    return { forged, lookAlike }
  } finally {
    db.close()
  }
}
