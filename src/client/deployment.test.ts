import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import {
  DeploymentFormatError,
  DeploymentNotFoundError,
  deploymentPath,
  readDeployment,
  writeDeployment,
} from './deployment.js'

const home = () => mkdtempSync(join(tmpdir(), 'sealpost-deployment-'))
const deployment = {
  chainId: 31337,
  keyRegistry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  messageAnchor: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  deployBlock: 1n,
  rpcUrl: undefined,
} as const

test('a written deployment reads back', () => {
  const dir = home()
  writeDeployment(dir, deployment)
  expect(readDeployment(dir)).toEqual(deployment)
})

test('no deployment.json: DeploymentNotFoundError', () => {
  expect(() => readDeployment(home())).toThrow(DeploymentNotFoundError)
})

test('malformed deployment.json: DeploymentFormatError with a stable code, for bad JSON and a bad shape', () => {
  for (const text of ['{ not json', JSON.stringify({ chainId: 'one' })]) {
    const dir = home()
    writeFileSync(deploymentPath(dir), text)
    const err = (() => {
      try {
        readDeployment(dir)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(DeploymentFormatError)
    expect((err as DeploymentFormatError).code).toBe('SEALPOST_BAD_DEPLOYMENT')
  }
})
