/** The option table of `sealpost validator` (kept apart so the help loads no cross-chain code). */
import type { CommandSpec } from './options.js'

/** `sealpost validator`. @example parseCommandArgs(validatorSpec, ['--merkle-tree-hook', '0x…', '--key-env', 'V1']) */
export const validatorSpec = {
  name: 'validator',
  summary: "sign Hyperlane checkpoints of --rpc's MerkleTreeHook after N confirmations, until Ctrl-C",
  details: [
    'Signs one checkpoint per dispatched message (docs/cross-chain.md) into --store, one JSON file per message,',
    'for a relayer to collect. A message is signed only once its block has --confirmations confirmations.',
  ],
  options: {
    'merkle-tree-hook': {
      type: 'string',
      value: 'ADDR',
      description: "the origin Mailbox's MerkleTreeHook (required)",
    },
    'key-env': {
      type: 'string',
      value: 'VAR',
      description: "read the validator's key (0x + 64 hex) from env VAR (required)",
    },
    confirmations: { type: 'string', value: 'N', description: 'confirmations before signing', default: '3' },
    'from-block': { type: 'string', value: 'N', description: "the hook's deployment block", default: '0' },
    store: {
      type: 'string',
      value: 'DIR',
      description: 'where to write the signed checkpoints',
      defaultText: 'default <home>/validator/<address>',
    },
    'interval-ms': {
      type: 'string',
      value: 'MS',
      description: 'poll every MS milliseconds',
      default: '1000',
    },
    once: { type: 'boolean', description: 'one pass, then exit', default: false },
  },
} as const satisfies CommandSpec
