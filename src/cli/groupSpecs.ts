/** The option tables of `sealpost group` and its subcommands (kept apart so `commands.ts` stays one table of tables). */
import { device, relay } from './commonOptions.js'
import type { CommandSpec, OptionSpec } from './options.js'

const groupOptions = { relay, device } as const satisfies Record<string, OptionSpec>

/** `sealpost group create`. @example parseCommandArgs(groupCreateSpec, ['ops', '--members', '0xBob…,0xCarol…']) */
export const groupCreateSpec = {
  name: 'group create',
  args: 'NAME',
  summary: 'create a group of this account and --members (every active device of each)',
  details: [
    'This account is an admin; --admins adds others. Members must have been online once (their key packages).',
  ],
  options: {
    members: {
      type: 'string',
      value: '0xA,0xB',
      description: 'the other member accounts, comma-separated (required)',
    },
    admins: {
      type: 'string',
      value: '0xA,…',
      description: 'more admins among the members, comma-separated',
      defaultText: 'default only this account',
    },
    ...groupOptions,
  },
} as const satisfies CommandSpec

/** `sealpost group add`. @example parseCommandArgs(groupAddSpec, ['ops', '0xDave…']) */
export const groupAddSpec = {
  name: 'group add',
  args: 'NAME|ID 0xA[,0xB…]',
  summary: 'add accounts (and all their active devices) to a group (admins only)',
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group remove`. @example parseCommandArgs(groupRemoveSpec, ['ops', '0xDave…']) */
export const groupRemoveSpec = {
  name: 'group remove',
  args: 'NAME|ID 0xA[,0xB…]',
  summary: 'remove accounts and all their devices from a group (admins only)',
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group leave`. @example parseCommandArgs(groupLeaveSpec, ['ops']) */
export const groupLeaveSpec = {
  name: 'group leave',
  args: 'NAME|ID',
  summary: "leave a group (anyone may; the group's committer removes this account's devices)",
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group rename`. @example parseCommandArgs(groupRenameSpec, ['ops', 'ops-emea']) */
export const groupRenameSpec = {
  name: 'group rename',
  args: 'NAME|ID NEWNAME',
  summary: 'rename a group (admins only)',
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group admins`. @example parseCommandArgs(groupAdminsSpec, ['ops', '0xAlice…,0xBob…']) */
export const groupAdminsSpec = {
  name: 'group admins',
  args: 'NAME|ID 0xA[,0xB…]',
  summary: "replace a group's admins (admins only; each must be a member)",
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group list`. @example parseCommandArgs(groupListSpec, []) */
export const groupListSpec = {
  name: 'group list',
  summary: 'the groups this device holds: id, name, epoch, members',
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group show`. @example parseCommandArgs(groupShowSpec, ['ops']) */
export const groupShowSpec = {
  name: 'group show',
  args: 'NAME|ID',
  summary: 'a group: epoch, members (admin or not), their devices, registry status and whether in the group',
  options: groupOptions,
} as const satisfies CommandSpec

/** `sealpost group`. @example formatCommandHelp(groupSpec) */
export const groupSpec = {
  name: 'group',
  summary: 'group conversations: members and admins in the MLS group context',
  options: {},
  subcommands: [
    groupCreateSpec,
    groupAddSpec,
    groupRemoveSpec,
    groupLeaveSpec,
    groupRenameSpec,
    groupAdminsSpec,
    groupListSpec,
    groupShowSpec,
  ],
} as const satisfies CommandSpec
