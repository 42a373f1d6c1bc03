/** The inbox pair a client sends through (`hyperlane-inbox.json`): both chains' RPC, inbox and Hyperlane addresses. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { type Client, getAddress } from 'viem'
import { getCode, readContract } from 'viem/actions'
import { z } from 'zod'
import { sealpostInboxAbi } from '../../contracts/artifacts/SealpostInbox.js'
import { withChainErrors } from '../chain/errors.js'
import { InboxDeploymentFormatError, InboxDeploymentMissingError } from './inboxErrors.js'
import { addressToBytes32 } from './message.js'

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'not an address')
  .transform((a) => getAddress(a))
const end = z.object({
  domain: z.number().int().positive(),
  rpcUrl: z.string().min(1),
  inbox: address,
  mailbox: address,
})
const schema = z.object({
  origin: end.extend({ merkleTreeHook: address }),
  destination: end,
  /** Directories of the validators' checkpoint stores (to show signatures arriving); may be empty. */
  validatorStores: z.array(z.string()),
  threshold: z.number().int().positive(),
})

/**
 * One direction of `send --via hyperlane`: the origin chain's inbox (and the MerkleTreeHook its validators follow),
 * the destination chain's inbox, the validators' store directories and the ISM threshold.
 *
 * @example
 * const route: InboxRoute = readInboxRoute('/home/me/.sealpost/hyperlane-inbox.json')
 */
export type InboxRoute = z.infer<typeof schema>

/**
 * Reads an inbox route record. Throws {@link InboxDeploymentMissingError} when the file does not exist and
 * {@link InboxDeploymentFormatError} when it is not the expected JSON.
 *
 * @example
 * const route = readInboxRoute(join(home, 'hyperlane-inbox.json'))
 */
export function readInboxRoute(path: string): InboxRoute {
  if (!existsSync(path)) throw new InboxDeploymentMissingError({ path, reason: 'no such file' })
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    throw new InboxDeploymentFormatError({ path, reason: 'not valid JSON' })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InboxDeploymentFormatError({
      path,
      reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    })
  }
  return parsed.data
}

/**
 * Writes an inbox route record (public data).
 *
 * @example
 * writeInboxRoute(join(home, 'hyperlane-inbox.json'), route)
 */
export function writeInboxRoute(path: string, route: InboxRoute): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(route, null, 2)}\n`)
}

/**
 * Checks on both chains that the route's inboxes exist and enroll each other (origin → destination and back), so a
 * send cannot be dispatched towards an inbox that is not there. Throws {@link InboxDeploymentMissingError}.
 *
 * @example
 * await checkInboxRoute(route, { origin: clientA, destination: clientB }, path)
 */
export async function checkInboxRoute(
  route: InboxRoute,
  clients: { origin: Client; destination: Client },
  path: string,
): Promise<void> {
  const ends = [
    { name: 'origin', client: clients.origin, here: route.origin, there: route.destination },
    { name: 'destination', client: clients.destination, here: route.destination, there: route.origin },
  ] as const
  // Both contracts first: a missing inbox on the second chain is the likelier mistake, and the clearer report.
  for (const { name, client, here } of ends) {
    const code = await withChainErrors(() => getCode(client, { address: here.inbox }))
    if (!code || code === '0x')
      throw new InboxDeploymentMissingError({
        path,
        reason: `no contract at the ${name} inbox ${here.inbox} on domain ${here.domain} (${here.rpcUrl})`,
      })
  }
  for (const { name, client, here, there } of ends) {
    const enrolled = await withChainErrors(() =>
      readContract(client, {
        address: here.inbox,
        abi: sealpostInboxAbi,
        functionName: 'remoteInbox',
        args: [there.domain],
      }),
    )
    if (enrolled.toLowerCase() !== addressToBytes32(there.inbox).toLowerCase())
      throw new InboxDeploymentMissingError({
        path,
        reason: `the ${name} inbox ${here.inbox} does not enroll ${there.inbox} of domain ${there.domain}`,
      })
  }
}

/** Default file name of the record, next to the deployment record. @example INBOX_ROUTE_FILE // 'hyperlane-inbox.json' */
export const INBOX_ROUTE_FILE = 'hyperlane-inbox.json'
