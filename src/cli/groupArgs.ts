/** Groups and account lists typed on the command line: a group by name or id, accounts comma-separated. */
import type { Address } from 'viem'
import type { Client } from '../client/Client.js'
import type { Group } from '../client/group.js'
import { parseAddressArg } from './address.js'
import { ArgumentError, UnknownGroupError } from './errors.js'

/**
 * The group `arg` names (its id, or its exact name among this device's groups); UnknownGroupError when there is
 * none or several share the name.
 *
 * @example const team = resolveGroup(client, 'ops')
 */
export function resolveGroup(client: Client, arg: string): Group {
  const group = client.groups.get(arg)
  if (group) return group
  const all = client.groups.list()
  const named = all.filter((g) => g.info().name === arg)
  throw new UnknownGroupError({
    group: arg,
    known: all.map((g) => g.info().name),
    ambiguous: named.length > 1 ? named.map((g) => g.id) : [],
  })
}

/**
 * Accounts from arguments that each hold one or more comma-separated addresses (`0xA,0xB 0xC`; CAIP-10 ids of
 * `chains` too); at least one.
 *
 * @example parseAccountList(['0xA…,0xB…'], 'MEMBER') // ['0xA…', '0xB…']
 */
export function parseAccountList(
  args: readonly string[],
  what: string,
  chains: readonly number[] = [],
): Address[] {
  const accounts = args
    .flatMap((a) => a.split(','))
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
    .map((a) => parseAddressArg(a, what, chains))
  if (accounts.length === 0) throw new ArgumentError(`Name at least one ${what.toLowerCase()} account.`)
  return accounts
}
