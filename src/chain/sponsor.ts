/** Sponsored registry operations: the JSON a user posts to a relay's `/v1/sponsor`, its answer, and the poster. */
import { type Address, getAddress, type Hex } from 'viem'
import { z } from 'zod'
import {
  type SponsorRefusalReason,
  SponsorRefusedError,
  SponsorUnreachableError,
  sponsorRefusalCodes,
} from './errors.js'
import type { NewDeviceKeys } from './keyRegistry.js'

/**
 * The path of the sponsor endpoint on a relay's HTTP port.
 *
 * @example `${base}${SPONSOR_PATH}` // 'http://127.0.0.1:8787/v1/sponsor'
 */
export const SPONSOR_PATH = '/v1/sponsor'

/**
 * A signed KeyRegistry operation the account asks a relay to submit (the EIP-712 signature authorises it; the
 * relay only pays the gas).
 *
 * @example
 * const request: SponsorRequest = { operation: 'revokeDevice', chainId, registry, account, deviceId, nonce, deadline, signature }
 */
export type SponsorRequest = {
  chainId: number
  registry: Address
  account: Address
  nonce: bigint
  deadline: bigint
  signature: Hex
} & (
  | ({ operation: 'addDevice' } & NewDeviceKeys)
  | { operation: 'revokeDevice'; deviceId: Hex }
  | ({ operation: 'rotateDevice'; oldDeviceId: Hex } & NewDeviceKeys)
)

/**
 * What a relay answers when it submitted the operation and the transaction is mined.
 *
 * @example const { hash, blockNumber }: SponsorResult = await postSponsorRequest(url, request)
 */
export type SponsorResult = { hash: Hex; blockNumber: bigint; gasUsed: bigint }

const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/)
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const base = {
  chainId: z.number().int().positive(),
  registry: address,
  account: address,
  nonce: uint,
  deadline: uint,
  signature: hex,
}
const keys = { p256X: bytes32, p256Y: bytes32, mlsKey: hex, popR: bytes32, popS: bytes32, mlsPop: hex }
const requestSchema = z.discriminatedUnion('operation', [
  z.strictObject({ operation: z.literal('addDevice'), ...base, ...keys }),
  z.strictObject({ operation: z.literal('revokeDevice'), ...base, deviceId: bytes32 }),
  z.strictObject({ operation: z.literal('rotateDevice'), ...base, oldDeviceId: bytes32, ...keys }),
])

/**
 * The JSON form of a request: bigints as decimal strings, everything else as is.
 *
 * @example await fetch(url, { method: 'POST', body: JSON.stringify(sponsorRequestToJson(request)) })
 */
export function sponsorRequestToJson(request: SponsorRequest): Record<string, unknown> {
  return { ...request, nonce: request.nonce.toString(), deadline: request.deadline.toString() }
}

/**
 * Parses a request body strictly (unknown fields refused); throws `SponsorRefusedError` 'bad-request'.
 *
 * @example const request = parseSponsorRequest(JSON.parse(body))
 */
export function parseSponsorRequest(value: unknown): SponsorRequest {
  const parsed = requestSchema.safeParse(value)
  if (!parsed.success)
    throw new SponsorRefusedError({ reason: 'bad-request', detail: parsed.error.issues[0]?.message })
  const v = parsed.data
  return {
    ...v,
    registry: getAddress(v.registry),
    account: getAddress(v.account),
    nonce: BigInt(v.nonce),
    deadline: BigInt(v.deadline),
  } as SponsorRequest
}

/**
 * The KeyRegistry call a request stands for.
 *
 * @example await simulateContract(client, { address: request.registry, abi: keyRegistryAbi, ...sponsorCall(request) })
 */
export function sponsorCall(request: SponsorRequest): { functionName: string; args: readonly unknown[] } {
  const { account, nonce, deadline, signature } = request
  if (request.operation === 'revokeDevice')
    return { functionName: 'revokeDevice', args: [account, request.deviceId, nonce, deadline, signature] }
  const device = {
    p256X: request.p256X,
    p256Y: request.p256Y,
    mlsKey: request.mlsKey,
    popR: request.popR,
    popS: request.popS,
    mlsPop: request.mlsPop,
  }
  if (request.operation === 'addDevice')
    return { functionName: 'addDevice', args: [account, device, nonce, deadline, signature] }
  return {
    functionName: 'rotateDevice',
    args: [account, request.oldDeviceId, device, nonce, deadline, signature],
  }
}

/**
 * The sponsor endpoint of a relay: its WebSocket URL with ws(s) turned into http(s), and {@link SPONSOR_PATH}.
 *
 * @example sponsorUrlOf('ws://127.0.0.1:8787') // 'http://127.0.0.1:8787/v1/sponsor'
 */
export function sponsorUrlOf(relayUrl: string): string {
  const url = new URL(relayUrl)
  if (url.protocol === 'ws:') url.protocol = 'http:'
  else if (url.protocol === 'wss:') url.protocol = 'https:'
  url.pathname = SPONSOR_PATH
  url.search = ''
  url.hash = ''
  return url.toString()
}

const refusalSchema = z.object({
  ok: z.literal(false),
  error: z.object({
    reason: z.enum(Object.keys(sponsorRefusalCodes) as [SponsorRefusalReason, ...SponsorRefusalReason[]]),
    detail: z.string().optional(),
    errorName: z.string().optional(),
    retryAfterMs: z.number().optional(),
  }),
})
const resultSchema = z.object({ ok: z.literal(true), hash: bytes32, blockNumber: uint, gasUsed: uint })

/**
 * Posts a signed operation to a relay's sponsor endpoint and waits until the relay has it mined (it answers after
 * one confirmation). Throws `SponsorRefusedError` when the relay refuses (rate limited, budget spent, simulation
 * reverted, …) and `SponsorUnreachableError` when it does not answer.
 *
 * @example const { hash } = await postSponsorRequest(sponsorUrlOf(relay), request)
 */
export async function postSponsorRequest(
  url: string,
  request: SponsorRequest,
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<SponsorResult> {
  let status: number
  let body: unknown
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sponsorRequestToJson(request)),
      signal: AbortSignal.timeout(timeoutMs),
    })
    status = response.status
    body = await response.json().catch(() => undefined)
  } catch (cause) {
    throw new SponsorUnreachableError({ url, cause })
  }
  const result = resultSchema.safeParse(body)
  if (result.success)
    return {
      hash: result.data.hash as Hex,
      blockNumber: BigInt(result.data.blockNumber),
      gasUsed: BigInt(result.data.gasUsed),
    }
  const refusal = refusalSchema.safeParse(body)
  if (refusal.success) throw new SponsorRefusedError(refusal.data.error)
  if (status === 404) throw new SponsorRefusedError({ reason: 'not-offered', detail: `HTTP 404 from ${url}` })
  throw new SponsorUnreachableError({ url, cause: new Error(`HTTP ${status}: not a sponsor response`) })
}
