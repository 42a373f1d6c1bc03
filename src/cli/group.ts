/** `sealpost group create|add|remove|leave|rename|admins|list|show`: group conversations from the command line. */
import type { Client } from '../client/Client.js'
import type { Group } from '../client/group.js'
import { configuredChains } from './address.js'
import type { CliContext } from './context.js'
import { ArgumentError } from './errors.js'
import { parseAccountList, resolveGroup } from './groupArgs.js'
import {
  groupAddSpec,
  groupAdminsSpec,
  groupCreateSpec,
  groupLeaveSpec,
  groupListSpec,
  groupRemoveSpec,
  groupRenameSpec,
  groupShowSpec,
} from './groupSpecs.js'
import { type CommandSpec, parseCommandArgs } from './options.js'
import { openLiveClient, resolveRelays } from './session.js'

/**
 * Runs one `sealpost group` subcommand (argv starts with its name).
 *
 * @example await groupCommand(ctx, ['create', 'ops', '--members', '0xBob…,0xCarol…'])
 */
export async function groupCommand(ctx: CliContext, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'create':
      return create(ctx, rest)
    case 'add':
    case 'remove':
    case 'admins':
      return change(ctx, sub, rest)
    case 'leave':
      return leave(ctx, rest)
    case 'rename':
      return rename(ctx, rest)
    case 'list':
      return list(ctx, rest)
    case 'show':
      return show(ctx, rest)
    default:
      throw new ArgumentError(`Unknown command "group ${sub}".`, {
        metaMessages: ['Run `sealpost group --help` for its commands.'],
      })
  }
}

/** Opens the device live on --relay, catches up (Welcomes and commits), runs `fn`, closes. */
async function withClient(
  ctx: CliContext,
  values: { relay?: string | undefined; device: string },
  fn: (client: Client) => Promise<void>,
): Promise<void> {
  const client = await openLiveClient(ctx, { device: values.device, relay: resolveRelays(values.relay) })
  try {
    const done = ctx.out.step('Catching up with the relay')
    await client.sync()
    done()
    await fn(client)
  } finally {
    await client.close()
  }
}

/** Exactly `count` positionals, or an ArgumentError with the usage line. */
function expectArgs(spec: CommandSpec, positionals: string[], count: number): string[] {
  if (positionals.length !== count)
    throw new ArgumentError(`\`sealpost ${spec.name}\` takes ${spec.args}.`, {
      metaMessages: [`Usage: sealpost ${spec.name} ${spec.args}`],
    })
  return positionals
}

/** The JSON and human summary of a group after a change. */
function summary(group: Group) {
  const { id, name, epoch, members, admins, active } = group.info()
  return { id, name, epoch, members, admins, active }
}

function printSummary(ctx: CliContext, group: Group): void {
  const s = summary(group)
  ctx.out.info(`group    ${s.name}`)
  ctx.out.info(`id       ${s.id}`)
  ctx.out.info(`epoch    ${s.epoch}`)
  ctx.out.info(`members  ${s.members.length} (admins: ${s.admins.join(', ')})`)
}

async function create(ctx: CliContext, argv: string[]): Promise<void> {
  const spec = groupCreateSpec
  const { values, positionals } = parseCommandArgs(spec, argv)
  const [name] = expectArgs(spec, positionals, 1) as [string]
  if (values.members === undefined)
    throw new ArgumentError('Name the other members with --members 0xA,0xB.', {
      metaMessages: [`Usage: sealpost ${spec.name} NAME --members 0xA,0xB [--admins 0xC]`],
    })
  const members = parseAccountList([values.members], 'MEMBER', configuredChains(ctx))
  const admins =
    values.admins === undefined
      ? undefined
      : parseAccountList([values.admins], 'ADMIN', configuredChains(ctx))
  await withClient(ctx, values, async (client) => {
    const step = ctx.out.step(`Creating the group "${name}" with ${members.length} other accounts`)
    const group = await client.groups.create({ name, members, admins })
    step(`epoch ${group.info().epoch}`)
    printSummary(ctx, group)
    ctx.out.result({ ok: true, ...summary(group) })
  })
}

async function change(ctx: CliContext, sub: 'add' | 'remove' | 'admins', argv: string[]): Promise<void> {
  const spec = { add: groupAddSpec, remove: groupRemoveSpec, admins: groupAdminsSpec }[sub]
  const { values, positionals } = parseCommandArgs(spec, argv)
  const [groupArg, ...accountArgs] = positionals
  if (groupArg === undefined || accountArgs.length === 0) expectArgs(spec, positionals, 2)
  const accounts = parseAccountList(accountArgs, 'ACCOUNT', configuredChains(ctx))
  await withClient(ctx, values, async (client) => {
    const group = resolveGroup(client, groupArg as string)
    const counted = `${accounts.length} account${accounts.length === 1 ? '' : 's'}`
    const step = ctx.out.step(
      `${{ add: 'Adding', remove: 'Removing', admins: 'Making the admins' }[sub]} ${counted} (one MLS commit)`,
    )
    const epoch =
      sub === 'add'
        ? await group.add(accounts)
        : sub === 'remove'
          ? await group.remove(accounts)
          : await group.setAdmins(accounts)
    step(`epoch ${epoch}`)
    printSummary(ctx, group)
    ctx.out.result({ ok: true, ...summary(group) })
  })
}

async function leave(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(groupLeaveSpec, argv)
  const [groupArg] = expectArgs(groupLeaveSpec, positionals, 1) as [string]
  await withClient(ctx, values, async (client) => {
    const group = resolveGroup(client, groupArg)
    const step = ctx.out.step(`Leaving "${group.info().name}"`)
    await group.leave()
    step("proposed; the group's committer removes this account's devices")
    ctx.out.info(`left     ${group.id}`)
    ctx.out.result({ ok: true, id: group.id, name: group.info().name })
  })
}

async function rename(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(groupRenameSpec, argv)
  const [groupArg, newName] = expectArgs(groupRenameSpec, positionals, 2) as [string, string]
  await withClient(ctx, values, async (client) => {
    const group = resolveGroup(client, groupArg)
    const step = ctx.out.step(`Renaming "${group.info().name}" to "${newName}"`)
    const epoch = await group.rename(newName)
    step(`epoch ${epoch}`)
    printSummary(ctx, group)
    ctx.out.result({ ok: true, ...summary(group) })
  })
}

async function list(ctx: CliContext, argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(groupListSpec, argv)
  await withClient(ctx, values, async (client) => {
    const groups = client.groups.list().map(summary)
    for (const g of groups)
      ctx.out.info(
        `${g.id}  ${g.name}  epoch ${g.epoch}  ${g.members.length} members${g.active ? '' : '  (left)'}`,
      )
    if (groups.length === 0) ctx.out.info('No groups on this device.')
    ctx.out.result({ ok: true, groups })
  })
}

async function show(ctx: CliContext, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(groupShowSpec, argv)
  const [groupArg] = expectArgs(groupShowSpec, positionals, 1) as [string]
  await withClient(ctx, values, async (client) => {
    const group = resolveGroup(client, groupArg)
    const s = summary(group)
    const { block, members } = group.members()
    ctx.out.info(`group    ${s.name}`)
    ctx.out.info(`id       ${s.id}`)
    ctx.out.info(`epoch    ${s.epoch}${s.active ? '' : ' (this device left)'}`)
    ctx.out.info(`block    ${block} (registry status)`)
    for (const m of members) {
      ctx.out.info(`member   ${m.account}${m.admin ? '  admin' : ''}`)
      for (const d of m.devices)
        ctx.out.info(
          `  device ${d.deviceId} ${d.status}${d.revokedAt !== undefined ? ` at block ${d.revokedAt}` : ''}, ${d.inGroup ? 'in the group' : 'not in the group'}`,
        )
    }
    ctx.out.result({ ok: true, ...s, block, members })
  })
}
