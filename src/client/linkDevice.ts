/** Linking a device without moving the account key: the new device's link request, its checks, the approval, and the wait. */
import { type Address, createPublicClient, type Hex, http, isAddressEqual } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { getBlockNumber } from 'viem/actions'
import type { Deployment } from '../chain/deployment.js'
import { ContractRevertError, SponsorRefusedError, withChainErrors } from '../chain/errors.js'
import { isDeviceValidAt } from '../chain/keyRegistry.js'
import { proveDeviceKeys } from '../crypto/pop.js'
import {
  checkLinkRequest,
  type LinkRequest,
  linkRequestFingerprints,
  linkRequestFromText,
  linkRequestSigningInput,
  linkRequestToUri,
} from '../protocol/linkRequest.js'
import { createDevice, type DeviceKeys, devicePublicKeys, type KdfParams } from './identity.js'
import {
  LinkApprovalDeclinedError,
  LinkRequestExpiredError,
  LinkRequestFingerprintMismatchError,
  LinkRequestProofError,
  LinkRequestReplayedError,
  LinkRequestSignatureError,
  LinkRequestWrongAccountError,
  LinkRequestWrongDeploymentError,
} from './linkErrors.js'
import { type SponsorOption, submitAddDevice } from './registration.js'

/** How long a link request stays valid by default: 10 minutes. @example DEFAULT_LINK_TTL_MS // 600000 */
export const DEFAULT_LINK_TTL_MS = 10 * 60_000

/**
 * Parameters of {@link createLinkRequest}.
 *
 * @example const p: CreateLinkRequestParameters = { home, name: 'laptop', account, passphrase, deployment }
 */
export type CreateLinkRequestParameters = {
  home: string
  /** The new device's name (default `default`). */
  name?: string | undefined
  /** The account this device asks to join. */
  account: Address
  passphrase: string
  deployment: Pick<Deployment, 'chainId' | 'keyRegistry'>
  /** Lifetime of the request (default 10 minutes). */
  ttlMs?: number | undefined
  /** The clock, in milliseconds (default `Date.now()`). */
  now?: number | undefined
  kdf?: KdfParams | undefined
  ciphersuite?: string | undefined
}

/**
 * A link request with what people compare: the fingerprints of both keys and the device id.
 *
 * @example const { request, fingerprints } = parseLinkRequest(uri)
 */
export type ParsedLinkRequest = {
  request: LinkRequest
  fingerprints: { p256: string; mls: string; deviceId: Hex }
}

/**
 * On the new device: generates its keys under `home` (as `sealpost id new` does, encrypted with `passphrase`),
 * proves possession of both for (chain, registry, account), and returns the signed link request, its URI
 * (`sealpost:link?v=1&r=…`, protocol §2.4) and the fingerprints to compare with what the approver shows.
 *
 * @example
 * const { uri, fingerprints, device } = await createLinkRequest({ home, name: 'laptop', account, passphrase, deployment })
 * console.log(uri, fingerprints.p256)
 */
export async function createLinkRequest({
  home,
  name = 'default',
  account,
  passphrase,
  deployment,
  ttlMs = DEFAULT_LINK_TTL_MS,
  now = Date.now(),
  kdf,
  ciphersuite,
}: CreateLinkRequestParameters): Promise<ParsedLinkRequest & { uri: string; device: DeviceKeys }> {
  const device = await createDevice({ home, name, account, passphrase, kdf, ciphersuite })
  const keys = devicePublicKeys(device)
  const proofs = proveDeviceKeys({
    ...keys,
    signingKey: device.signingKey,
    mlsSignKey: device.mls.signKey,
    chainId: deployment.chainId,
    registry: deployment.keyRegistry,
    account: device.account,
  })
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  const unsigned = {
    chainId: deployment.chainId,
    registry: deployment.keyRegistry,
    account: device.account,
    expiresAt: Math.floor((now + ttlMs) / 1000),
    nonce: `0x${Buffer.from(nonce).toString('hex')}` as Hex,
    name,
    ...keys,
    ...proofs,
  }
  const signature = device.signingKey.sign(linkRequestSigningInput(unsigned))
  const request: LinkRequest = { ...unsigned, signature: `0x${Buffer.from(signature).toString('hex')}` }
  return { request, uri: linkRequestToUri(request), fingerprints: linkRequestFingerprints(request), device }
}

/**
 * What a request is checked against before anything is signed; each given field must match.
 *
 * @example parseLinkRequest(uri, { deployment, account: me.address })
 */
export type ParseLinkRequestOptions = {
  deployment?: Pick<Deployment, 'chainId' | 'keyRegistry'> | undefined
  /** The approving account: a request for another account is refused. */
  account?: Address | undefined
  /** The P-256 fingerprint the new device shows, when the user typed it in. */
  expectedFingerprint?: string | undefined
  /** The clock, in milliseconds (default `Date.now()`). */
  now?: number | undefined
}

/**
 * Decodes a link request (URI or bare base64url) and checks it, in this order: its bytes
 * (`LinkRequestCodecError`), its signature by the key it carries (`LinkRequestSignatureError`: altered in transit),
 * both proofs of possession (`LinkRequestProofError`), the chain and registry (`LinkRequestWrongDeploymentError`),
 * the account (`LinkRequestWrongAccountError`), the expiry (`LinkRequestExpiredError`) and the expected fingerprint
 * (`LinkRequestFingerprintMismatchError`).
 *
 * @example const { request, fingerprints } = parseLinkRequest(pasted, { deployment, account })
 */
export function parseLinkRequest(text: string, options: ParseLinkRequestOptions = {}): ParsedLinkRequest {
  const request = linkRequestFromText(text)
  const fingerprints = linkRequestFingerprints(request)
  const checks = checkLinkRequest(request)
  if (!checks.signature) throw new LinkRequestSignatureError({ fingerprints })
  if (!checks.p256Pop || !checks.mlsPop)
    throw new LinkRequestProofError({
      failed: [...(checks.p256Pop ? [] : ['p256' as const]), ...(checks.mlsPop ? [] : ['mls' as const])],
    })
  const { deployment, account, expectedFingerprint, now = Date.now() } = options
  if (
    deployment &&
    (request.chainId !== deployment.chainId || !isAddressEqual(request.registry, deployment.keyRegistry))
  )
    throw new LinkRequestWrongDeploymentError({
      requested: `chain ${request.chainId}, registry ${request.registry}`,
      expected: `chain ${deployment.chainId}, registry ${deployment.keyRegistry}`,
    })
  if (account && !isAddressEqual(request.account, account))
    throw new LinkRequestWrongAccountError({ requested: request.account, approver: account })
  if (request.expiresAt * 1000 <= now) throw new LinkRequestExpiredError({ expiresAt: request.expiresAt })
  if (expectedFingerprint !== undefined) {
    const normalize = (f: string) => f.replace(/[^0-9a-f]/gi, '').toLowerCase()
    if (normalize(expectedFingerprint) !== normalize(fingerprints.p256))
      throw new LinkRequestFingerprintMismatchError({
        expected: expectedFingerprint,
        actual: fingerprints.p256,
      })
  }
  return { request, fingerprints }
}

/**
 * Parameters of {@link approveLinkRequest}.
 *
 * @example const p: ApproveLinkRequestParameters = { request: uri, wallet, rpc, deployment, sponsor: { url } }
 */
export type ApproveLinkRequestParameters = Omit<ParseLinkRequestOptions, 'deployment' | 'account'> & {
  /** The request as text (URI or base64url). */
  request: string
  /** The account key (it signs the EIP-712 AddDevice). */
  wallet: LocalAccount
  rpc: string
  deployment: Pick<Deployment, 'chainId' | 'keyRegistry'>
  /** The relay's sponsor, used when the account cannot pay (as `register` does). */
  sponsor?: SponsorOption | undefined
  /** Pays the gas instead of the account. */
  submitter?: LocalAccount | undefined
  /** Asked with what will be authorized once every check passed; false declines (nothing is signed). */
  confirm?: ((shown: ParsedLinkRequest) => boolean | Promise<boolean>) | undefined
}

/**
 * On a device that holds the account key: checks the request ({@link parseLinkRequest}, against this deployment
 * and this account), refuses a device already registered (`LinkRequestReplayedError`), asks `confirm`, then signs
 * the EIP-712 AddDevice and submits it (directly, or through the relay's sponsor when the account cannot pay).
 *
 * @example
 * const { deviceId, txHash } = await approveLinkRequest({ request: uri, wallet, rpc, deployment, sponsor: { url } })
 */
export async function approveLinkRequest({
  request: text,
  wallet,
  rpc,
  deployment,
  sponsor,
  submitter,
  confirm,
  ...options
}: ApproveLinkRequestParameters): Promise<
  ParsedLinkRequest & { deviceId: Hex; txHash: Hex; gasUsed: bigint; blockNumber: bigint }
> {
  const parsed = parseLinkRequest(text, { ...options, deployment, account: wallet.address })
  const { request, fingerprints } = parsed
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
  if (await deviceActive(publicClient, deployment, request.account, fingerprints.deviceId))
    throw new LinkRequestReplayedError({ deviceId: fingerprints.deviceId })
  if (confirm && !(await confirm(parsed))) throw new LinkApprovalDeclinedError({ reason: 'declined' })
  const { p256X, p256Y, mlsKey, popR, popS, mlsPop } = request
  try {
    const result = await submitAddDevice(
      {
        wallet,
        submitter,
        publicClient,
        account: wallet.address,
        rpc,
        deployment: deployment as Deployment,
        chainId: deployment.chainId,
      },
      { p256X, p256Y, mlsKey, popR, popS, mlsPop },
      { sponsor },
    )
    return {
      ...parsed,
      deviceId: fingerprints.deviceId,
      txHash: result.hash,
      gasUsed: result.gasUsed,
      blockNumber: result.blockNumber,
    }
  } catch (err) {
    // Registered under any account in the meantime: the registry refuses a key twice.
    if (
      (err instanceof ContractRevertError || err instanceof SponsorRefusedError) &&
      err.errorName === 'DuplicateKey'
    )
      throw new LinkRequestReplayedError({ deviceId: fingerprints.deviceId })
    throw err
  }
}

async function deviceActive(
  publicClient: ReturnType<typeof createPublicClient>,
  deployment: Pick<Deployment, 'keyRegistry'>,
  account: Address,
  deviceId: Hex,
): Promise<{ block: bigint } | undefined> {
  const at = await withChainErrors(() => getBlockNumber(publicClient, { cacheTime: 0 }))
  const active = await isDeviceValidAt(publicClient, {
    registry: deployment.keyRegistry,
    account,
    deviceId,
    at,
  })
  return active ? { block: at } : undefined
}

/**
 * On the new device: polls the registry until `deviceId` is active for `account` (an approver submitted it), and
 * returns the block it was seen active at. `onPoll` hears every poll that found it not yet active; `signal` stops the wait.
 *
 * @example const { block } = await waitForLinkedDevice({ rpc, deployment, account, deviceId, onPoll: (n) => log(n) })
 */
export async function waitForLinkedDevice({
  rpc,
  deployment,
  account,
  deviceId,
  pollMs = 1000,
  onPoll,
  signal,
}: {
  rpc: string
  deployment: Pick<Deployment, 'keyRegistry'>
  account: Address
  deviceId: Hex
  pollMs?: number | undefined
  /** Called after each poll that did not find the device active yet, with the number of polls so far. */
  onPoll?: ((polls: number) => void) | undefined
  signal?: AbortSignal | undefined
}): Promise<{ block: bigint }> {
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
  for (let polls = 1; ; polls++) {
    signal?.throwIfAborted()
    const active = await deviceActive(publicClient, deployment, account, deviceId)
    if (active) return active
    onPoll?.(polls)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, pollMs)
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          reject(signal.reason)
        },
        { once: true },
      )
    })
  }
}
