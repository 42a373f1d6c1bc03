/** Sending a commit's Welcome: to each added device its own trimmed Welcome, the tree and GroupInfo by reference when large. */
import type { KeyPackage, RatchetTree, Welcome } from 'ts-mls'
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js'
import { bytesToHex, type Hex } from 'viem'
import { encodeReference } from '../protocol/byReference.js'
import { createEnvelope } from '../protocol/envelope.js'
import { inboxTopic } from '../protocol/topics.js'
import { publishBlob } from './byReference.js'
import type { ClientContext } from './context.js'
import { encodeMls } from './mls.js'
import type { Transport } from './transport.js'
import { MlsRejectedError } from './verificationErrors.js'
import { publishWelcomeTree } from './welcomeTree.js'

/**
 * A device the Welcome goes to, with the key package it was added with (whose reference names its group secrets).
 *
 * @example const r: WelcomeRecipient = { deviceId, keyPackage }
 */
export type WelcomeRecipient = { deviceId: Hex; keyPackage: KeyPackage }

/**
 * Sends a Welcome to the inbox of each recipient, trimmed to that recipient's own `EncryptedGroupSecrets` (a valid MLS
 * Welcome: same cipher suite and `encrypted_group_info`, one secrets entry), so its size does not grow with the number
 * of joiners. Before them: the ratchet tree, when `treeByReference` is given, and the `encrypted_group_info` itself
 * when it is above `inlineGroupInfoBytes` and goes to more than one device (each Welcome then is a welcome reference,
 * protocol §3.9). Throws `MlsRejectedError` when the Welcome has no secrets for a recipient.
 *
 * @example await sendWelcome(ctx, result.welcome, keyPackages, result.newState.ratchetTree)
 */
export async function sendWelcome(
  ctx: { transport: Pick<Transport, 'publish'> } & Pick<ClientContext, 'impl' | 'inlineGroupInfoBytes'>,
  welcome: Welcome,
  recipients: readonly WelcomeRecipient[],
  treeByReference?: RatchetTree | undefined,
): Promise<void> {
  const groupInfo = welcome.encryptedGroupInfo
  if (treeByReference) await publishWelcomeTree(ctx.transport, groupInfo, treeByReference)
  const byReference = recipients.length > 1 && groupInfo.length > ctx.inlineGroupInfoBytes
  const blob = byReference ? await publishBlob(ctx.transport, groupInfo, 'welcome') : undefined
  const secrets = new Map(welcome.secrets.map((s) => [bytesToHex(s.newMember), s]))
  for (const { deviceId, keyPackage } of recipients) {
    const own = secrets.get(bytesToHex(await makeKeyPackageRef(keyPackage, ctx.impl.hash)))
    if (!own)
      throw new MlsRejectedError({ reason: `the Welcome has no group secrets for device ${deviceId}` })
    const trimmed: Welcome = {
      ...welcome,
      secrets: [own],
      encryptedGroupInfo: blob ? new Uint8Array() : groupInfo,
    }
    const encoded = encodeMls({ version: 'mls10', wireformat: 'mls_welcome', welcome: trimmed })
    const payload = blob ? encodeReference({ kind: 'welcome', ...blob, welcome: encoded }) : encoded
    await ctx.transport.publish(createEnvelope({ kind: 'welcome', topic: inboxTopic(deviceId), payload }))
  }
}
