import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes } from 'viem'
import { describe, expect, test } from 'vitest'
import { CodecError } from '../errors.js'
import {
  type ConversationContext,
  ConversationContextCodecError,
  contextGroupId,
  decodeConversationContext,
  directContext,
  directGroupId,
  encodeConversationContext,
  groupContext,
  groupGroupId,
  sortAccounts,
} from './conversationContext.js'

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/conversation-context-v1.json', import.meta.url), 'utf8'),
) as {
  extensionType: number
  valid: { name: string; context: ConversationContext; hex: Hex; directGroupId?: Hex; groupId?: Hex }[]
  invalid: { name: string; hex: Hex; reason: string }[]
}

const addressArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(bytesToHex(b)))
const registry: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const nonce: Hex = `0x${'07'.repeat(32)}`

function malformed(bytes: Uint8Array): ConversationContextCodecError {
  try {
    decodeConversationContext(bytes)
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError)
    expect((err as ConversationContextCodecError).code).toBe('SEALPOST_CONVERSATION_CONTEXT_MALFORMED')
    return err as ConversationContextCodecError
  }
  throw new Error('expected a throw')
}

describe('conversation context', () => {
  test('frozen vectors test/vectors/conversation-context-v1.json: encode, decode and the direct group id', () => {
    expect(vectors.extensionType).toBe(0xff53)
    for (const v of vectors.valid) {
      expect(bytesToHex(encodeConversationContext(v.context)), v.name).toBe(v.hex)
      expect(decodeConversationContext(hexToBytes(v.hex)), v.name).toEqual(v.context)
      if (v.directGroupId) {
        const [a, b] = v.context.members as [Address, Address]
        const p = { chainId: v.context.chainId, registry: v.context.registry, nonce: v.context.nonce }
        expect(directGroupId({ ...p, a, b })).toBe(v.directGroupId)
        expect(directGroupId({ ...p, a: b, b: a })).toBe(v.directGroupId)
      }
      if (v.groupId) expect(groupGroupId(v.context)).toBe(v.groupId)
    }
    for (const v of vectors.invalid)
      expect(malformed(hexToBytes(v.hex)).metaMessages, v.name).toEqual([`Reason: ${v.reason}`])
  })

  test('a direct context is 146 bytes and lists both accounts sorted as members and admins', () => {
    const [a, b] = [
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    ] as const
    const ctx = directContext({ chainId: 31337, registry, a, b, nonce })
    expect(ctx.members).toEqual([b, a])
    expect(ctx.admins).toEqual([b, a])
    expect(encodeConversationContext(ctx)).toHaveLength(146)
  })

  test('the direct group id depends on the deployment, both accounts and the nonce', () => {
    const base = {
      chainId: 31337,
      registry,
      a: getAddress(`0x${'11'.repeat(20)}`),
      b: getAddress(`0x${'22'.repeat(20)}`),
      nonce,
    }
    const id = directGroupId(base)
    expect(directGroupId({ ...base, chainId: 1 })).not.toBe(id)
    expect(directGroupId({ ...base, registry: getAddress(`0x${'33'.repeat(20)}`) })).not.toBe(id)
    expect(directGroupId({ ...base, b: getAddress(`0x${'44'.repeat(20)}`) })).not.toBe(id)
    expect(directGroupId({ ...base, nonce: `0x${'08'.repeat(32)}` })).not.toBe(id)
  })

  test('the encoder refuses what the decoder would refuse', () => {
    const ctx = directContext({
      chainId: 31337,
      registry,
      a: `0x${'11'.repeat(20)}`,
      b: `0x${'22'.repeat(20)}`,
      nonce,
    })
    for (const bad of [
      { ...ctx, members: [...ctx.members].reverse() },
      { ...ctx, admins: [ctx.members[0] as Address] },
      { ...ctx, members: [ctx.members[0] as Address, ctx.members[0] as Address] },
      { ...ctx, chainId: 0 },
      { ...ctx, nonce: '0x01' as Hex },
      { ...ctx, kind: 'channel' as 'group' },
      { ...ctx, kind: 'group' as const, admins: [getAddress(`0x${'99'.repeat(20)}`)], name: 'ops' },
      { ...ctx, kind: 'group' as const },
      { ...ctx, kind: 'group' as const, name: '' },
      { ...ctx, kind: 'group' as const, name: 'x'.repeat(65) },
      { ...ctx, kind: 'group' as const, name: 'line\nbreak' },
      { ...ctx, name: 'a direct conversation has no name' },
    ])
      expect(() => encodeConversationContext(bad)).toThrow(ConversationContextCodecError)
  })

  test('property: every valid group context round-trips to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(addressArb, { minLength: 1, maxLength: 12, selector: (a) => a.toLowerCase() }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 16 })
          .filter((s) => !/\p{Cc}/u.test(s) && new TextEncoder().encode(s).length <= 64),
        (accounts, chainId, n, name) => {
          const members = sortAccounts(accounts)
          const ctx: ConversationContext = {
            kind: 'group',
            chainId,
            registry,
            nonce: bytesToHex(n),
            members,
            admins: members.slice(0, 1),
            name,
          }
          const bytes = encodeConversationContext(ctx)
          expect(decodeConversationContext(bytes)).toEqual(ctx)
          expect(encodeConversationContext(decodeConversationContext(bytes))).toEqual(bytes)
        },
      ),
    )
  })

  test('a group context: creator is member and admin, lists sorted and deduplicated; its group id binds the deployment and nonce', () => {
    const [a, b, c] = [`0x${'33'.repeat(20)}`, `0x${'11'.repeat(20)}`, `0x${'22'.repeat(20)}`].map((x) =>
      getAddress(x),
    ) as [Address, Address, Address]
    const ctx = groupContext({
      chainId: 31337,
      registry,
      nonce,
      name: 'ops ✓',
      creator: a,
      members: [b, c, b],
      admins: [c],
    })
    expect(ctx.members).toEqual([b, c, a])
    expect(ctx.admins).toEqual([c, a])
    const bytes = encodeConversationContext(ctx)
    expect(bytes.length).toBe(66 + 60 + 40 + 1 + new TextEncoder().encode('ops ✓').length)
    expect(decodeConversationContext(bytes)).toEqual(ctx)
    expect(contextGroupId(ctx)).toBe(groupGroupId(ctx))
    expect(groupGroupId({ ...ctx, nonce: `0x${'ab'.repeat(32)}` })).not.toBe(groupGroupId(ctx))
    expect(groupGroupId({ ...ctx, chainId: 1 })).not.toBe(groupGroupId(ctx))
    // A name that is not UTF-8 is refused by the decoder.
    const broken = bytes.slice()
    broken[broken.length - 1] = 0xff
    expect(() => decodeConversationContext(broken)).toThrow(ConversationContextCodecError)
  })

  test('property: random bytes either decode to a context that re-encodes to them, or fail with the typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        let ctx: ConversationContext
        try {
          ctx = decodeConversationContext(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(ConversationContextCodecError)
          return
        }
        expect(encodeConversationContext(ctx)).toEqual(bytes)
      }),
    )
  })
})
