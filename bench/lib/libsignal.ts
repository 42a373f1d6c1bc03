/** An in-memory libsignal 1:1 session (PQXDH + double ratchet), loaded only if the optional package is installed. */

// biome-ignore lint/suspicious/noExplicitAny: the package is optional, so its types may be absent at compile time
type Any = any

/** Sends 1:1 messages from Alice to Bob. */
export type SignalPair = { send(plaintext: Uint8Array): Promise<Uint8Array> }

/** Loads `@signalapp/libsignal-client`, or returns undefined when it is not installed (or not loadable here). */
export async function loadLibsignal(): Promise<Any | undefined> {
  const name = '@signalapp/libsignal-client'
  try {
    return await import(name)
  } catch {
    return undefined
  }
}

/** Sets up Alice and Bob with a session from Bob's prekey bundle, and returns a sender that Bob decrypts. */
export async function signalPair(S: Any): Promise<SignalPair> {
  const party = (name: string, registrationId: number) => {
    const identity = S.IdentityKeyPair.generate()
    const sessions = new Map<string, Any>()
    const identities = new Map<string, Any>()
    const preKeys = new Map<number, Any>()
    const signedPreKeys = new Map<number, Any>()
    const kyberPreKeys = new Map<number, Any>()
    const address = S.ProtocolAddress.new(name, 1)
    const sessionStore = new (class extends S.SessionStore {
      async saveSession(a: Any, r: Any) {
        sessions.set(a.toString(), r)
      }
      async getSession(a: Any) {
        return sessions.get(a.toString()) ?? null
      }
      async getExistingSessions(list: Any[]) {
        return list.map((a) => sessions.get(a.toString()))
      }
    })()
    const identityStore = new (class extends S.IdentityKeyStore {
      async getIdentityKey() {
        return identity.privateKey
      }
      async getLocalRegistrationId() {
        return registrationId
      }
      async saveIdentity(a: Any, key: Any) {
        const had = identities.get(a.toString())
        identities.set(a.toString(), key)
        return had && !had.equals(key) ? 1 : 0
      }
      async isTrustedIdentity() {
        return true
      }
      async getIdentity(a: Any) {
        return identities.get(a.toString()) ?? null
      }
    })()
    const preKeyStore = new (class extends S.PreKeyStore {
      async savePreKey(id: number, r: Any) {
        preKeys.set(id, r)
      }
      async getPreKey(id: number) {
        return preKeys.get(id)
      }
      async removePreKey(id: number) {
        preKeys.delete(id)
      }
    })()
    const signedPreKeyStore = new (class extends S.SignedPreKeyStore {
      async saveSignedPreKey(id: number, r: Any) {
        signedPreKeys.set(id, r)
      }
      async getSignedPreKey(id: number) {
        return signedPreKeys.get(id)
      }
    })()
    const kyberPreKeyStore = new (class extends S.KyberPreKeyStore {
      async saveKyberPreKey(id: number, r: Any) {
        kyberPreKeys.set(id, r)
      }
      async getKyberPreKey(id: number) {
        return kyberPreKeys.get(id)
      }
      async markKyberPreKeyUsed() {}
    })()
    return {
      identity,
      address,
      registrationId,
      sessionStore,
      identityStore,
      preKeyStore,
      signedPreKeyStore,
      kyberPreKeyStore,
    }
  }
  const alice = party('alice', 1)
  const bob = party('bob', 2)
  const preKey = S.PrivateKey.generate()
  const signedPreKey = S.PrivateKey.generate()
  const signedSig = bob.identity.privateKey.sign(signedPreKey.getPublicKey().serialize())
  const kyber = S.KEMKeyPair.generate()
  const kyberSig = bob.identity.privateKey.sign(kyber.getPublicKey().serialize())
  await bob.preKeyStore.savePreKey(1, S.PreKeyRecord.new(1, preKey.getPublicKey(), preKey))
  await bob.signedPreKeyStore.saveSignedPreKey(
    2,
    S.SignedPreKeyRecord.new(2, Date.now(), signedPreKey.getPublicKey(), signedPreKey, signedSig),
  )
  await bob.kyberPreKeyStore.saveKyberPreKey(3, S.KyberPreKeyRecord.new(3, Date.now(), kyber, kyberSig))
  const bundle = S.PreKeyBundle.new(
    bob.registrationId,
    1,
    1,
    preKey.getPublicKey(),
    2,
    signedPreKey.getPublicKey(),
    signedSig,
    bob.identity.publicKey,
    3,
    kyber.getPublicKey(),
    kyberSig,
  )
  await S.processPreKeyBundle(bundle, bob.address, alice.address, alice.sessionStore, alice.identityStore)
  let first = true
  return {
    async send(plaintext) {
      const ct = await S.signalEncrypt(
        Uint8Array.from(plaintext),
        bob.address,
        alice.address,
        alice.sessionStore,
        alice.identityStore,
      )
      const bytes = ct.serialize()
      if (first) {
        first = false
        return S.signalDecryptPreKey(
          S.PreKeySignalMessage.deserialize(bytes),
          alice.address,
          bob.address,
          bob.sessionStore,
          bob.identityStore,
          bob.preKeyStore,
          bob.signedPreKeyStore,
          bob.kyberPreKeyStore,
        )
      }
      // After Bob's first decryption Alice keeps sending PreKey messages until she hears back; handle both.
      if (ct.type() === S.CiphertextMessageType.PreKey)
        return S.signalDecryptPreKey(
          S.PreKeySignalMessage.deserialize(bytes),
          alice.address,
          bob.address,
          bob.sessionStore,
          bob.identityStore,
          bob.preKeyStore,
          bob.signedPreKeyStore,
          bob.kyberPreKeyStore,
        )
      return S.signalDecrypt(
        S.SignalMessage.deserialize(bytes),
        alice.address,
        bob.address,
        bob.sessionStore,
        bob.identityStore,
      )
    },
  }
}
