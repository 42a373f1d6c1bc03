// Issue 9, attack 3: `sealpost verify` trusted the contract addresses written inside the evidence. A look-alike
// KeyRegistry mapping a forger's key to Alice made a forged transcript verify. Verification now runs against a pinned
// deployment only, in the SDK and in the CLI, for transcripts and receipts.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { type Address, bytesToHex, getAddress, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { deploySealpost } from '../../src/chain/deploy.js'
import { anchorRoot } from '../../src/chain/messageAnchor.js'
import { writeDeployment } from '../../src/client/deployment.js'
import { exportTranscript, type Transcript, verifyTranscript } from '../../src/client/transcript.js'
import { DeploymentMismatchError } from '../../src/client/verificationErrors.js'
import { verifyReceipt } from '../../src/client/verifyReceipt.js'
import { DeviceSigningKey } from '../../src/crypto/p256.js'
import { signStatement } from '../../src/crypto/statementSignature.js'
import { buildMerkleTree, inclusionProof } from '../../src/protocol/merkle.js'
import { type Receipt, receiptFromJson, receiptToJson } from '../../src/protocol/receipt.js'
import { recipientProof } from '../../src/protocol/recipients.js'
import { decodeStatement } from '../../src/protocol/statement.js'
import { AuditLog, messageLogData } from '../../src/store/auditLog.js'
import { compileTestContracts, deployTestContract } from '../utils/testContracts.js'
import { type TranscriptFixture, transcriptFixture } from './transcript-fixture.js'

const run = promisify(execFile)
const bin = join(import.meta.dirname, '..', '..', 'bin', 'sealpost.js')
type RunResult = { code: number; stdout: string; stderr: string }
async function sealpost(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, SEALPOST_DEPLOYMENT: '', ...env },
      timeout: 120_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

let fx: TranscriptFixture
let dir: string
let home: string
let lookalike: Address
let forged: Transcript
const rand32 = (): Hex => bytesToHex(randomBytes(32))

/** Mallory's forgery: "Alice's" log, signed by Mallory's key, which only the look-alike registry maps to Alice. */
async function forge(): Promise<Transcript> {
  const { LookAlike } = {
    LookAlike: compileTestContracts('KeyRegistryLookAlike.sol').KeyRegistryLookAlike!,
  }
  const mallory = fx.ctx.walletClients[5]!
  lookalike = getAddress(await deployTestContract(mallory, fx.ctx.publicClient, LookAlike))
  const key = DeviceSigningKey.generate()
  const forgedDevice = rand32()
  const hash = await mallory.writeContract({
    address: lookalike,
    abi: LookAlike.abi,
    functionName: 'set',
    args: [forgedDevice, fx.alice.account, key.p256X, key.p256Y],
  })
  await fx.ctx.publicClient.waitForTransactionReceipt({ hash })
  // Alice's real statement (from Bob's log), re-attributed to the forged device and signed with Mallory's key.
  const real = fx.transcript.entries.find((e) => e.kind === 'received')!
  const original = decodeStatement(Buffer.from(String(real.data.statement).slice(2), 'hex'))
  const statement = {
    ...original,
    device: forgedDevice,
    ...('registry' in original && original.registry !== undefined ? { registry: lookalike } : {}),
  }
  const signed = signStatement({ statement, key })
  const db = new Database(':memory:')
  const log = new AuditLog({ db })
  log.append({
    kind: 'sent',
    data: messageLogData({
      envelopeId: rand32(),
      signed,
      body: typeof real.data.body === 'string' ? real.data.body : undefined,
      // Alice is among the statement's recipients (the conversation is Alice and Bob).
      recipients: recipientProof(fx.trusted.chainId, [fx.alice.account, fx.bob.account], fx.alice.account),
    }),
  })
  const transcript = exportTranscript({
    log,
    chainId: fx.trusted.chainId,
    keyRegistry: lookalike,
    messageAnchor: fx.trusted.messageAnchor,
    account: fx.alice.account,
    deviceId: forgedDevice,
    signingKey: key,
    block: await fx.ctx.publicClient.getBlock(),
  })
  db.close()
  return transcript
}

const failures = (r: { checks: { ok: boolean; entry: number | null; check: string }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => [c.entry, c.check])

beforeAll(async () => {
  fx = await transcriptFixture()
  dir = mkdtempSync(join(tmpdir(), 'sealpost-attack3-'))
  home = join(dir, 'home')
  writeDeployment(home, { ...fx.net.deployment, rpcUrl: fx.ctx.anvil.rpcUrl })
  forged = await forge()
  writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged, null, 2))
  writeFileSync(join(dir, 'honest.json'), JSON.stringify(fx.transcript, null, 2))
}, 240_000)
afterAll(async () => {
  await fx?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('attack 3: evidence naming a look-alike deployment', () => {
  test('SDK: the forged transcript is self-consistent with the look-alike, and fails against the pinned deployment', async () => {
    const publicClient = fx.ctx.publicClient
    // What the old verifier did (trust the addresses in the file): the forgery verifies.
    const trustingTheFile = await verifyTranscript({
      transcript: forged,
      publicClient,
      deployment: {
        chainId: forged.chainId,
        keyRegistry: forged.keyRegistry,
        messageAnchor: forged.messageAnchor,
      },
    })
    expect(failures(trustingTheFile)).toEqual([])

    const pinned = await verifyTranscript({ transcript: forged, publicClient, deployment: fx.trusted })
    expect(pinned.ok).toBe(false)
    expect(failures(pinned)).toEqual([[null, 'contracts']])
    expect(pinned.error).toBeInstanceOf(DeploymentMismatchError)
    expect(pinned.error).toMatchObject({ code: 'SEALPOST_DEPLOYMENT_MISMATCH', field: 'keyRegistry' })
    expect(pinned.checks.find((c) => c.check === 'contracts')?.detail).toBe(
      `transcript names KeyRegistry ${lookalike}, the trusted deployment's is ${fx.trusted.keyRegistry}`,
    )
    // Naming the real registry instead does not help: the forged device is nobody's there, and the v2 statement (like
    // the export) is signed for the look-alike registry.
    const renamed = await verifyTranscript({
      transcript: { ...forged, keyRegistry: fx.trusted.keyRegistry },
      publicClient,
      deployment: fx.trusted,
    })
    expect(failures(renamed)).toEqual([
      [null, 'device'],
      [null, 'export'],
      [0, 'statement'],
    ])
    // The honest transcript verifies against the pinned deployment.
    const honest = await verifyTranscript({ transcript: fx.transcript, publicClient, deployment: fx.trusted })
    expect(failures(honest)).toEqual([])
  })

  test('SDK: a receipt from another MessageAnchor fails its chain step against the pinned one', async () => {
    const other = await deploySealpost(fx.ctx.walletClients[5]!, fx.ctx.publicClient)
    const receipt = await anchorElsewhere(other.messageAnchor)
    const pinned = await verifyReceipt(fx.ctx.publicClient, {
      receipt,
      messageAnchor: fx.trusted.messageAnchor,
      chainId: fx.trusted.chainId,
    })
    expect(pinned.ok).toBe(false)
    expect(pinned.error).toMatchObject({ code: 'SEALPOST_RECEIPT_INVALID', step: 'chain' })
    writeFileSync(join(dir, 'foreign-receipt.json'), JSON.stringify(receiptToJson(receipt)))
  })

  test('CLI: --home holding the real deployment refuses the forgery and names the deployment it trusted', async () => {
    const trustedLine = `Trusted deployment: chain ${fx.trusted.chainId}, KeyRegistry ${fx.trusted.keyRegistry}, MessageAnchor ${fx.trusted.messageAnchor} (from ${join(home, 'deployment.json')})`
    const refused = await sealpost(['--home', home, 'verify', join(dir, 'forged.json')])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(trustedLine)
    expect(refused.stdout).toContain(`✗ transcript contracts: transcript names KeyRegistry ${lookalike}`)
    expect(refused.stdout.trim().split('\n').at(-1)).toMatch(
      /^✗ transcript does not verify \(1 of \d+ checks failed\)$/,
    )

    const honest = await sealpost(['--home', home, 'verify', join(dir, 'honest.json')])
    expect(honest.stdout).toContain(trustedLine)
    expect(honest.code).toBe(0)

    // --json: the typed error and the trusted deployment in the result.
    const json = await sealpost(['--home', home, '--json', 'verify', join(dir, 'forged.json')])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      error: { name: 'DeploymentMismatchError', code: 'SEALPOST_DEPLOYMENT_MISMATCH' },
      trustedDeployment: { keyRegistry: fx.trusted.keyRegistry, source: join(home, 'deployment.json') },
    })
  }, 180_000)

  test('CLI: --deployment FILE, SEALPOST_DEPLOYMENT and explicit addresses pin too; nothing pinned is refused', async () => {
    const empty = join(dir, 'empty-home')
    const file = join(home, 'deployment.json')
    const forgedFile = join(dir, 'forged.json')
    const rpc = ['--rpc', fx.ctx.anvil.rpcUrl]
    for (const [args, env] of [
      [['--home', empty, ...rpc, '--deployment', file, 'verify', forgedFile], {}],
      [['--home', empty, ...rpc, 'verify', forgedFile], { SEALPOST_DEPLOYMENT: file }],
      [
        [
          '--home',
          empty,
          ...rpc,
          'verify',
          forgedFile,
          '--registry',
          fx.trusted.keyRegistry,
          '--anchor',
          fx.trusted.messageAnchor,
        ],
        {},
      ],
    ] as const) {
      const r = await sealpost([...args], env)
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/^Trusted deployment: chain \d+, KeyRegistry 0x/)
      expect(r.stdout).toContain('✗ transcript contracts')
    }
    const none = await sealpost(['--home', empty, ...rpc, 'verify', forgedFile])
    expect(none.code).toBe(1)
    expect(none.stderr.trim().split('\n')).toHaveLength(1)
    expect(none.stderr).toMatch(
      /^DeploymentRequiredError \[SEALPOST_DEPLOYMENT_REQUIRED\]: Verification needs a pinned deployment\. \(Looked for .*empty-home\/deployment\.json; Pass --deployment FILE/,
    )
    const missing = await sealpost([
      '--home',
      empty,
      ...rpc,
      '--deployment',
      join(dir, 'nope.json'),
      'verify',
      forgedFile,
    ])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^DeploymentNotFoundError \[SEALPOST_NO_DEPLOYMENT\]/)
  }, 300_000)

  test('CLI: a receipt naming another MessageAnchor fails; the honest receipt from the log verifies', async () => {
    const foreign = await sealpost(['--home', home, 'verify', join(dir, 'foreign-receipt.json')])
    expect(foreign.code).toBe(1)
    expect(foreign.stdout).toContain('Trusted deployment: ')
    expect(foreign.stdout).toMatch(/✗ chain: receipt names contract 0x[0-9a-fA-F]{40}, expected /)
    const entry = fx.transcript.entries.find((e) => e.kind === 'receipt')!
    const honest = receiptFromJson(entry.data.receipt)
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receiptToJson(honest)))
    const ok = await sealpost(['--home', home, 'verify', join(dir, 'receipt.json')])
    expect(ok.stdout).toContain('✓ receipt verified')
    expect(ok.code).toBe(0)
  }, 180_000)
})

/** A genuine anchor in another (real) MessageAnchor, and a well-formed receipt for it. */
async function anchorElsewhere(messageAnchor: Address): Promise<Receipt> {
  const leaves = [rand32(), rand32()]
  const tree = buildMerkleTree(leaves)
  const wallet = fx.ctx.walletClients[5]!
  const { hash, blockNumber } = await anchorRoot(wallet, {
    contract: messageAnchor,
    root: tree.root,
    leafCount: 2,
  })
  const block = await fx.ctx.publicClient.getBlock({ blockNumber })
  return {
    chainId: fx.trusted.chainId,
    contract: messageAnchor,
    submitter: wallet.account.address,
    root: tree.root,
    leaf: leaves[0]!,
    index: 0,
    treeSize: 2,
    path: inclusionProof(tree, 0),
    txHash: hash,
    blockNumber,
    blockTimestamp: block.timestamp,
  }
}
