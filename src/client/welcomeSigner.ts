/** Who signed a Welcome's GroupInfo: the committer that invited this device (ts-mls checks the signature but drops the signer). */
import type { CiphersuiteImpl, KeyPackage, PrivateKeyPackage, RatchetTree, Welcome } from 'ts-mls'
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js'
import { decryptGroupInfo, decryptGroupSecrets } from 'ts-mls/welcome.js'
import type { DeviceIdentity } from '../protocol/credential.js'
import { identityOf } from './mls.js'

/**
 * The identity in the leaf of the member that signed the Welcome's GroupInfo (the committer of the commit that added
 * this device), from `tree`, the joined group's ratchet tree (which `joinGroup` verified with that signature). Opens
 * the group secrets and GroupInfo once more for it. Undefined when they do not open or use pre-shared keys
 * (Sealpost uses none), or when the signer's leaf carries no Sealpost credential.
 *
 * @example const inviter = await welcomeSigner({ welcome, keyPackage, privatePackage, impl, tree: state.ratchetTree })
 */
export async function welcomeSigner({
  welcome,
  keyPackage,
  privatePackage,
  impl,
  tree,
}: {
  welcome: Welcome
  keyPackage: KeyPackage
  privatePackage: PrivateKeyPackage
  impl: CiphersuiteImpl
  tree: RatchetTree
}): Promise<DeviceIdentity | undefined> {
  const ref = await makeKeyPackageRef(keyPackage, impl.hash)
  const key = await impl.hpke.importPrivateKey(privatePackage.initPrivateKey)
  const secrets = await decryptGroupSecrets(key, ref, welcome, impl.hpke)
  if (!secrets || secrets.psks.length > 0) return undefined
  const info = await decryptGroupInfo(welcome, secrets.joinerSecret, new Uint8Array(impl.kdf.size), impl)
  secrets.joinerSecret.fill(0)
  secrets.pathSecret?.fill(0)
  const node = info && tree[2 * info.signer]
  return node?.nodeType === 'leaf' ? identityOf(node.leaf.credential) : undefined
}
