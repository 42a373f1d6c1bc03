/**
 * Approving a linked device from the browser (loaded on first use): the link request's checks (protocol §2.4), and
 * the EIP-712 AddDevice signed by an EIP-1193 wallet and submitted through the dashboard's forward to the sponsor.
 */
import type { HelloEvent } from '../../src/dashboard/events.ts'
import {
  checkLinkRequest,
  type LinkRequest,
  linkRequestFingerprints,
  linkRequestFromText,
} from '../../src/protocol/linkRequest.ts'

/** The part of an EIP-1193 provider used here. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>
}

/** How long the wallet's authorization stays valid, in seconds (as the SDK's `register`). */
const AUTHORIZATION_LIFETIME_S = 3600n

/** EIP-712 types of KeyRegistry v2's AddDevice (protocol §2.2), in eth_signTypedData_v4's JSON form. */
const ADD_DEVICE_TYPES = {
  EIP712Domain: [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'verifyingContract', type: 'address' },
  ],
  AddDevice: [
    { name: 'account', type: 'address' },
    { name: 'p256X', type: 'bytes32' },
    { name: 'p256Y', type: 'bytes32' },
    { name: 'mlsKey', type: 'bytes' },
    { name: 'mlsPop', type: 'bytes' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
}

/** Calldata of `nonces(address)`: selector keccak256("nonces(address)")[0..4] = 0x7ecebe00, then the address. */
const noncesCall = (account: string) => `0x7ecebe00${account.slice(2).toLowerCase().padStart(64, '0')}`

/** A decoded request, what to show of it, and why it may not be approved (empty when it may). */
export interface InspectedRequest {
  request: LinkRequest
  fingerprints: { p256: string; mls: string; deviceId: string }
  problems: string[]
}

/**
 * Decodes a pasted request and runs the browser's own checks: signature, both proofs of possession, this
 * dashboard's deployment, expiry. Throws on bytes that are no link request.
 *
 * @example const { request, fingerprints, problems } = inspectLinkRequest(text, model.hello)
 */
export function inspectLinkRequest(text: string, hello: HelloEvent | undefined): InspectedRequest {
  const request = linkRequestFromText(text)
  const checks = checkLinkRequest(request)
  const problems: string[] = []
  if (!checks.signature)
    problems.push(
      'Altered in transit: the signature does not match the keys the request carries. Do not approve.',
    )
  if (!checks.p256Pop || !checks.mlsPop) problems.push('A proof of possession does not verify.')
  if (
    hello &&
    (hello.chainId !== request.chainId || hello.keyRegistry.toLowerCase() !== request.registry.toLowerCase())
  )
    problems.push(`For another deployment: chain ${request.chainId}, registry ${request.registry}.`)
  if (request.expiresAt * 1000 <= Date.now())
    problems.push('Expired: ask the new device for a fresh request.')
  return { request, fingerprints: linkRequestFingerprints(request), problems }
}

/**
 * Asks the wallet for the request's account, signs AddDevice (nonce read through the wallet's RPC, deadline an hour
 * ahead of the later of chain and local time) and posts it to the dashboard's `/sponsor` with this run's token.
 * Resolves with the transaction once mined; throws with a message for people otherwise.
 *
 * @example const { hash, blockNumber } = await approveWithWallet(request, window.ethereum, token, (s) => show(s))
 */
export async function approveWithWallet(
  request: LinkRequest,
  wallet: Eip1193Provider,
  token: string,
  progress: (status: string) => void,
): Promise<{ hash: string; blockNumber: string }> {
  const accounts = (await wallet.request({ method: 'eth_requestAccounts' })) as string[]
  const signer = accounts.find((a) => a.toLowerCase() === request.account.toLowerCase())
  if (!signer)
    throw new Error(`The wallet does not hold the account ${request.account} this device asks to join.`)
  const chainId = Number.parseInt((await wallet.request({ method: 'eth_chainId' })) as string, 16)
  if (chainId !== request.chainId)
    throw new Error(`The wallet is on chain ${chainId}, the request on ${request.chainId}.`)
  progress('Reading the account nonce…')
  const nonce = BigInt(
    (await wallet.request({
      method: 'eth_call',
      params: [{ to: request.registry, data: noncesCall(request.account) }, 'latest'],
    })) as string,
  )
  const block = (await wallet.request({ method: 'eth_getBlockByNumber', params: ['latest', false] })) as {
    timestamp: string
  }
  const chainTime = BigInt(block.timestamp)
  const local = BigInt(Math.floor(Date.now() / 1000))
  const deadline = (chainTime > local ? chainTime : local) + AUTHORIZATION_LIFETIME_S
  const { p256X, p256Y, mlsKey, popR, popS, mlsPop } = request
  const typedData = {
    types: ADD_DEVICE_TYPES,
    primaryType: 'AddDevice',
    domain: {
      name: 'Sealpost KeyRegistry',
      version: '2',
      chainId: request.chainId,
      verifyingContract: request.registry,
    },
    message: {
      account: request.account,
      p256X,
      p256Y,
      mlsKey,
      mlsPop,
      nonce: nonce.toString(),
      deadline: deadline.toString(),
    },
  }
  progress('Waiting for the wallet to sign the AddDevice authorization…')
  const signature = (await wallet.request({
    method: 'eth_signTypedData_v4',
    params: [signer, JSON.stringify(typedData)],
  })) as string
  progress("Submitting through the relay's sponsor…")
  const response = await fetch('/sponsor', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      operation: 'addDevice',
      chainId: request.chainId,
      registry: request.registry,
      account: request.account,
      p256X,
      p256Y,
      mlsKey,
      popR,
      popS,
      mlsPop,
      nonce: nonce.toString(),
      deadline: deadline.toString(),
      signature,
    }),
  })
  const body = (await response.json().catch(() => undefined)) as
    | { ok: true; hash: string; blockNumber: string }
    | { ok: false; error: { reason: string; errorName?: string } }
    | undefined
  if (body?.ok) return { hash: body.hash, blockNumber: body.blockNumber }
  const error = body?.error
  if (error?.errorName === 'DuplicateKey')
    throw new Error('Already approved: this device is registered (a replayed request).')
  throw new Error(
    `The sponsor refused: ${error?.reason ?? `HTTP ${response.status}`}${error?.errorName ? ` (${error.errorName})` : ''}.`,
  )
}
