/** Differential test: the off-chain verifier and StatementVerifier on anvil give the same verdict for the same evidence. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Address,
  bytesToHex,
  getAddress,
  type Hex,
  hexToBytes,
  keccak256,
  parseEventLogs,
  toHex,
} from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { statementVerifierAbi } from '../contracts/artifacts/StatementVerifier.js'
import { batchTree } from '../src/anchor/batchTree.js'
import { getBlockHeaderRlp } from '../src/chain/blockHeader.js'
import { getRegistryNonce, revokeDevice } from '../src/chain/keyRegistry.js'
import { anchorRoot } from '../src/chain/messageAnchor.js'
import { signRevokeDevice } from '../src/chain/registryAuthorizations.js'
import { callVerify, type VerifyCallInput } from '../src/chain/statementVerifier.js'
import { createContext } from '../src/cli/context.js'
import type { Output } from '../src/cli/output.js'
import { verifyCommand } from '../src/cli/verify.js'
import { writeDeployment } from '../src/client/deployment.js'
import { verifyAuthorship } from '../src/client/verifyAuthorship.js'
import { type DeviceSigningKey, P256_N } from '../src/crypto/p256.js'
import { signStatement } from '../src/crypto/statementSignature.js'
import { inclusionProof } from '../src/protocol/merkle.js'
import { type Receipt, receiptToJson } from '../src/protocol/receipt.js'
import { type SignedStatement, statementLeaf } from '../src/protocol/statement.js'
import { type ChainContext, setupChain } from './utils/anvil.js'
import { registerTestDevice, type TestDeviceKeys, testDeviceKeys } from './utils/devices.js'

/** One piece of evidence as both verifiers take it: the contract's arguments plus the full receipt. */
type Evidence = VerifyCallInput & { fullReceipt: Receipt }
type Case = { name: string; evidence: Evidence; expected: string }

let ctx: ChainContext
const cases: Case[] = []

const rand32 = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)))
const flip = (hex: Hex, byte: number): Hex => {
  const b = hexToBytes(hex)
  b[byte] = (b[byte] ?? 0) ^ 0x01
  return bytesToHex(b)
}
const setBytes = (hex: Hex, offset: number, value: Uint8Array): Hex => {
  const b = hexToBytes(hex)
  b.set(value, offset)
  return bytesToHex(b)
}
const u64 = (n: bigint) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}

beforeAll(async () => {
  ctx = await setupChain()
  const alice = ctx.walletClients[1]!
  const account = alice.account.address
  const { keyRegistry: registry, messageAnchor } = ctx.contracts
  const chainId = ctx.anvil.chainId
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
  const revoke = async (deviceId: Hex) => {
    const nonce = await getRegistryNonce(ctx.publicClient, { registry, account })
    const signature = await signRevokeDevice(alice, { registry, chainId, deviceId, nonce, deadline })
    return revokeDevice(ctx.walletClient, { registry, account, deviceId, nonce, deadline, signature })
  }
  const [main, revokedEarly, revokedLater] = [
    await registerTestDevice(ctx, alice),
    await registerTestDevice(ctx, alice),
    await registerTestDevice(ctx, alice),
  ]
  await revoke(revokedEarly.deviceId)
  const lateKeys = testDeviceKeys({ chainId, registry, account })

  const head = await ctx.publicClient.getBlock()
  const sign = (key: DeviceSigningKey, seq: bigint, block = head): SignedStatement =>
    signStatement({
      key,
      statement: {
        version: 2,
        chainId,
        registry,
        from: account,
        device: keccak256(`${key.p256X}${key.p256Y.slice(2)}` as Hex),
        conversation: rand32(),
        epoch: 3n,
        recipientsRoot: rand32(),
        seq,
        sentAt: Date.now(),
        block: { number: block.number, hash: block.hash },
        bodyHash: rand32(),
        salt: rand32(),
      },
    })
  const valid = sign(main.keys.signingKey, 1n)
  const notYetValid = sign(lateKeys.signingKey, 2n)
  const keyRevoked = sign(revokedEarly.keys.signingKey, 3n)
  const revokedBeforeAnchor = sign(revokedLater.keys.signingKey, 4n)
  await registerTestDevice(ctx, alice, { keys: lateKeys })
  await revoke(revokedLater.deviceId)

  const anchor = async (signed: SignedStatement[], extra: number) => {
    const leaves = [
      ...signed.map((s) => statementLeaf(s.bytes, s.signature)),
      ...Array.from({ length: extra }, rand32),
    ]
    const tree = batchTree(leaves)
    const done = await anchorRoot(ctx.walletClient, {
      contract: messageAnchor,
      root: tree.root,
      leafCount: tree.size,
    })
    const block = await ctx.publicClient.getBlock({ blockNumber: done.blockNumber })
    return signed.map(
      (_, index): Receipt => ({
        chainId,
        contract: messageAnchor,
        submitter: ctx.walletClient.account.address,
        root: tree.root,
        leaf: leaves[index]!,
        index,
        treeSize: tree.size,
        path: inclusionProof(tree, index),
        txHash: done.hash,
        blockNumber: done.blockNumber,
        blockTimestamp: block.timestamp,
      }),
    )
  }
  const receipts = await anchor([valid, notYetValid, keyRevoked, revokedBeforeAnchor], 7) // 11 leaves

  // A statement anchored more than W_anchor (1 h) after the block following its referenced one.
  await ctx.mine()
  const laterHead = await ctx.publicClient.getBlock()
  const late = sign(main.keys.signingKey, 5n, laterHead)
  await ctx.mine()
  await ctx.publicClient.request({ method: 'evm_increaseTime', params: [3700] } as never)
  const [lateReceipt] = await anchor([late], 2)
  await ctx.mine() // the anchor block's hash is then reachable, like any block a verification reads

  const header = (await getBlockHeaderRlp(ctx.publicClient, head.number + 1n))!
  const evidence = (
    signed: SignedStatement,
    keys: TestDeviceKeys | { p256X: Hex; p256Y: Hex },
    receipt: Receipt,
    successorHeader = header,
  ): Evidence => ({
    statement: bytesToHex(signed.bytes),
    signature: signed.signature,
    deviceId: signed.statement.device,
    key: { p256X: keys.p256X, p256Y: keys.p256Y },
    successorHeader,
    receipt: {
      submitter: receipt.submitter!,
      root: receipt.root,
      index: receipt.index,
      treeSize: receipt.treeSize,
      path: receipt.path,
    },
    fullReceipt: receipt,
  })
  const base = evidence(valid, main.keys, receipts[0]!)
  const add = (name: string, expected: string, change: Partial<Evidence> | ((e: Evidence) => Evidence)) =>
    cases.push({
      name,
      expected,
      evidence: typeof change === 'function' ? change(structuredClone(base)) : { ...base, ...change },
    })
  const withReceipt =
    (r: Partial<Receipt>) =>
    (e: Evidence): Evidence => {
      const fullReceipt = { ...e.fullReceipt, ...r }
      return { ...e, fullReceipt, receipt: { ...e.receipt, ...r, submitter: fullReceipt.submitter! } }
    }
  const statementAt = (offset: number, value: Uint8Array) => ({
    statement: setBytes(base.statement, offset, value),
  })
  const sigScalar = (offset: 0 | 32, value: bigint) => ({
    signature: setBytes(base.signature, offset, hexToBytes(toHex(value, { size: 32 }))),
  })

  add('valid statement and receipt', 'ok', {})
  // signature bytes: r and s, first and last byte, high-S, out-of-range scalars, length
  for (const byte of [0, 31, 32, 63])
    add(`signature byte ${byte} flipped`, 'signature', { signature: flip(base.signature, byte) })
  const s = BigInt(`0x${base.signature.slice(66)}`)
  add('high-S twin of the signature', 'signature', sigScalar(32, P256_N - s))
  add('r = 0', 'signature', sigScalar(0, 0n))
  add('r = n', 'signature', sigScalar(0, P256_N))
  add('s = 0', 'signature', sigScalar(32, 0n))
  add('signature of 63 bytes', 'statement', { signature: base.signature.slice(0, -2) as Hex })
  // key and device id
  add('key x flipped', 'device-registered', { key: { ...base.key, p256X: flip(base.key.p256X, 31) } })
  add('key y flipped', 'device-registered', { key: { ...base.key, p256Y: flip(base.key.p256Y, 0) } })
  add('another registered device key', 'device-registered', {
    key: { p256X: revokedEarly.keys.p256X, p256Y: revokedEarly.keys.p256Y },
  })
  add('device id flipped', 'sender-binding', { deviceId: flip(base.deviceId, 5) })
  // statement fields (v2 offsets)
  add('version byte 1', 'statement', statementAt(0, Uint8Array.of(1)))
  add('type byte 2', 'statement', statementAt(1, Uint8Array.of(2)))
  add('statement truncated', 'statement', { statement: base.statement.slice(0, -2) as Hex })
  add('chainId 1', 'chain', statementAt(2, u64(1n)))
  add('registry flipped', 'chain', { statement: flip(base.statement, 29) })
  add(
    'from: another account',
    'device-registered',
    statementAt(30, hexToBytes(ctx.walletClients[2]!.account.address)),
  )
  add('device field flipped', 'sender-binding', { statement: flip(base.statement, 81) })
  for (const [field, offset] of [
    ['conversation', 82],
    ['epoch', 121],
    ['recipientsRoot', 122],
    ['seq', 161],
    ['sentAt', 169],
    ['bodyHash', 210],
    ['salt', 273],
  ] as const)
    add(`${field} flipped`, 'signature', { statement: flip(base.statement, offset) })
  add('referenced block - 1', 'block-reference', statementAt(170, u64(head.number - 1n)))
  add('referenced block + 1000 (not mined)', 'block-reference', statementAt(170, u64(head.number + 1000n)))
  add('referenced block hash flipped', 'block-reference', { statement: flip(base.statement, 200) })
  add('header of another block', 'block-reference', {
    successorHeader: (await getBlockHeaderRlp(ctx.publicClient, head.number + 2n))!,
  })
  add('header byte flipped', 'block-reference', { successorHeader: flip(header, 40) })
  // receipt fields
  add('leaf index + 1', 'inclusion', withReceipt({ index: 1 }))
  add('leaf index = tree size', 'inclusion', withReceipt({ index: 11 }))
  add('tree size + 1 (same root for leaf 0)', 'anchored', withReceipt({ treeSize: 12 }))
  add('tree size - 1 (same root for leaf 0)', 'anchored', withReceipt({ treeSize: 10 }))
  add('first path entry flipped', 'inclusion', (e) =>
    withReceipt({ path: e.fullReceipt.path.map((p, i) => (i === 0 ? flip(p, 3) : p)) })(e),
  )
  add('last path entry flipped', 'inclusion', (e) =>
    withReceipt({ path: e.fullReceipt.path.map((p, i, a) => (i === a.length - 1 ? flip(p, 30) : p)) })(e),
  )
  add('path entry missing', 'inclusion', (e) => withReceipt({ path: e.fullReceipt.path.slice(1) })(e))
  add('path entry added', 'inclusion', (e) => withReceipt({ path: [...e.fullReceipt.path, rand32()] })(e))
  add('root flipped', 'inclusion', (e) => withReceipt({ root: flip(e.fullReceipt.root, 0) })(e))
  add(
    'anchored by someone else',
    'anchored',
    withReceipt({ submitter: ctx.walletClients[3]!.account.address as Address }),
  )
  // key validity and time bounds
  cases.push({
    name: 'device added after the referenced block',
    expected: 'key-valid-at-block',
    evidence: evidence(notYetValid, lateKeys, receipts[1]!),
  })
  cases.push({
    name: 'device revoked before the referenced block',
    expected: 'key-valid-at-block',
    evidence: evidence(keyRevoked, revokedEarly.keys, receipts[2]!),
  })
  cases.push({
    name: 'device revoked before the anchor',
    expected: 'time-bounds',
    evidence: evidence(revokedBeforeAnchor, revokedLater.keys, receipts[3]!),
  })
  const lateHeader = (await getBlockHeaderRlp(ctx.publicClient, laterHead.number + 1n))!
  cases.push({
    name: 'anchored after the window',
    expected: 'time-bounds',
    evidence: evidence(late, main.keys, lateReceipt!, lateHeader),
  })
}, 120_000)

afterAll(async () => {
  await ctx?.stop()
})

describe('StatementVerifier and the off-chain verifier agree', () => {
  test('every case: same verdict, the expected one', async () => {
    const deployment = { chainId: ctx.anvil.chainId, ...ctx.contracts }
    const now = Date.now()
    const results = await Promise.all(
      cases.map(async ({ name, evidence, expected }) => {
        const [offChain, onChain] = await Promise.all([
          verifyAuthorship(ctx.publicClient, {
            deployment,
            statement: evidence.statement,
            signature: evidence.signature,
            receipt: evidence.fullReceipt,
            deviceId: evidence.deviceId,
            key: evidence.key,
            successorHeader: evidence.successorHeader,
            now,
          }),
          callVerify(ctx.publicClient, ctx.contracts.statementVerifier, evidence),
        ])
        return {
          name,
          expected,
          offChain: offChain.ok ? 'ok' : offChain.failedStep,
          onChain: onChain.ok ? 'ok' : onChain.step,
          onChainError: onChain.ok ? undefined : onChain.errorName,
        }
      }),
    )
    expect(results.length).toBeGreaterThanOrEqual(40)
    for (const r of results) {
      expect({ name: r.name, offChain: r.offChain, onChain: r.onChain }).toEqual({
        name: r.name,
        offChain: r.expected,
        onChain: r.expected,
      })
    }
    const errors = new Set(results.map((r) => r.onChainError).filter(Boolean))
    // Every refusal class the contract has that honest chain data can reach is exercised.
    for (const name of [
      'NonCanonicalSignature',
      'StatementSignatureInvalid',
      'KeyMismatch',
      'DeviceNotRegistered',
      'DeviceMismatch',
      'WrongChain',
      'WrongRegistry',
      'MalformedStatement',
      'MalformedSignature',
      'BlockReferenceMismatch',
      'BlockUnavailable',
      'NotIncluded',
      'NotAnchored',
      'TreeSizeMismatch',
      'KeyNotYetValid',
      'KeyRevoked',
      'RevokedBeforeAnchor',
      'AnchorWindowExceeded',
    ])
      expect(errors, name).toContain(name)
  }, 60_000)

  test('the verdict of a valid statement names its signer, device and anchor', async () => {
    const valid = cases[0]!.evidence
    const v = await callVerify(ctx.publicClient, ctx.contracts.statementVerifier, valid)
    expect(v.ok).toBe(true)
    if (!v.ok) return
    expect(v.verdict.account).toBe(ctx.walletClients[1]!.account.address)
    expect(v.verdict.deviceId).toBe(valid.deviceId)
    expect(v.verdict.leaf).toBe(valid.fullReceipt.leaf)
    expect(v.verdict.anchorBlock).toBe(valid.fullReceipt.blockNumber)
    expect(v.verdict.anchorTimestamp).toBe(valid.fullReceipt.blockTimestamp)
  })
})

describe('block hashes beyond BLOCKHASH', () => {
  test('EIP-2935 serves blocks older than 256; rememberBlock stores a hash once, and refuses one not mined', async () => {
    const valid = cases[0]!.evidence
    const verifier = ctx.contracts.statementVerifier
    const succ = BigInt(`0x${valid.statement.slice(2 + 340, 2 + 356)}`) + 1n
    await ctx.mine(300) // past BLOCKHASH's 256 blocks: the history contract answers
    expect((await callVerify(ctx.publicClient, verifier, valid)).ok).toBe(true)
    const remember = (n: bigint) =>
      ctx.walletClient.writeContract({
        address: verifier,
        abi: statementVerifierAbi,
        functionName: 'rememberBlock',
        args: [n],
      })
    const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash: await remember(succ) })
    const logs = parseEventLogs({
      abi: statementVerifierAbi,
      logs: receipt.logs,
      eventName: 'BlockRemembered',
    })
    const { hash } = await ctx.publicClient.getBlock({ blockNumber: succ })
    expect(logs.map((l) => [l.args.blockNumber, l.args.blockHash])).toEqual([[succ, hash]])
    const again = await ctx.publicClient.waitForTransactionReceipt({ hash: await remember(succ) })
    expect(parseEventLogs({ abi: statementVerifierAbi, logs: again.logs })).toEqual([])
    const future = (await ctx.publicClient.getBlockNumber()) + 10n
    await expect(
      ctx.publicClient.simulateContract({
        address: verifier,
        abi: statementVerifierAbi,
        functionName: 'rememberBlock',
        args: [future],
      }),
    ).rejects.toThrow(/BlockUnavailable/)
  }, 60_000)
})

describe('sealpost verify --on-chain', () => {
  test('prints both verdicts: a valid proof passes both, a forged signature fails both at the signature step', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sealpost-verify-onchain-'))
    try {
      writeDeployment(home, { chainId: ctx.anvil.chainId, ...ctx.contracts, deployBlock: ctx.deployBlock })
      const write = (name: string, e: Evidence) => {
        const path = join(home, name)
        const proof = {
          statement: e.statement,
          signature: e.signature,
          receipt: receiptToJson(e.fullReceipt),
        }
        writeFileSync(path, JSON.stringify(proof))
        return path
      }
      const valid = cases[0]!.evidence
      const forged = cases.find((c) => c.name === 'signature byte 0 flipped')!.evidence
      // The command in-process (a spawned CLI costs seconds of module loading on a loaded machine).
      const run = async (file: string) => {
        const lines: string[] = []
        const out: Output = {
          json: false,
          debug: false,
          info: (l) => lines.push(l),
          step: () => () => {},
          result: () => {},
        }
        const ctx2 = createContext({ home, rpc: ctx.anvil.rpcUrl, out })
        const ok = await verifyCommand(ctx2, ['--on-chain', file])
        return { ok, stdout: lines.join('\n') }
      }
      const [ok, bad] = await Promise.all([
        run(write('valid.json', valid)),
        run(write('forged.json', forged)),
      ])
      expect(ok.ok, ok.stdout).toBe(true)
      expect(ok.stdout).toContain(
        `On chain (StatementVerifier ${getAddress(ctx.contracts.statementVerifier)}):`,
      )
      expect(ok.stdout).toContain(`✓ signed by ${ctx.walletClients[1]!.account.address}`)
      expect(ok.stdout).toMatch(/✓ time-bounds: anchored in block/)
      expect(ok.stdout).toContain('✓ off chain: verified')
      expect(ok.stdout).toContain('✓ on chain: verified')
      expect(bad.ok).toBe(false)
      expect(bad.stdout).toContain(
        '✗ signature: StatementSignatureInvalid() [SEALPOST_VERIFIER_INVALID_SIGNATURE]',
      )
      expect(bad.stdout).toContain('✗ off chain: refused (step signature')
      expect(bad.stdout).toContain('✗ on chain: refused (step signature)')
      expect(bad.stdout).not.toContain('differ')
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }, 60_000)
})
