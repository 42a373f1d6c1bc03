/**
 * Independent, in-browser check of a receipt's inclusion proof (RFC 6962 hashing, RFC 9162 §2.1.3.2
 * verification) with WebCrypto SHA-256, so the inspector does not only repeat the server's verdict.
 */

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '0x'
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const len = parts.reduce((n, p) => n + p.length, 0)
  const buf = new Uint8Array(len)
  let o = 0
  for (const p of parts) {
    buf.set(p, o)
    o += p.length
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf))
}

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

export const hashLeaf = (leaf: Uint8Array) => sha256(LEAF, leaf)
export const hashChildren = (l: Uint8Array, r: Uint8Array) => sha256(NODE, l, r)

/** Whether WebCrypto is available (it is not on plain-http non-localhost origins). */
export const canVerify = (): boolean => typeof crypto !== 'undefined' && crypto.subtle !== undefined

export interface InclusionInput {
  leaf: string
  index: number
  treeSize: number
  path: string[]
  root: string
}

export async function verifyInclusion(p: InclusionInput): Promise<boolean> {
  if (p.index >= p.treeSize) return false
  let fn = p.index
  let sn = p.treeSize - 1
  let r = await hashLeaf(hexToBytes(p.leaf))
  for (const hex of p.path) {
    if (sn === 0) return false
    const node = hexToBytes(hex)
    if (fn % 2 === 1 || fn === sn) {
      r = await hashChildren(node, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = await hashChildren(r, node)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && bytesToHex(r) === p.root.toLowerCase()
}

/** Builds an RFC 6962 tree (used by the dev fixture to produce real proofs). */
export async function buildTree(leaves: string[]): Promise<{ root: string; paths: string[][] }> {
  const hashes = await Promise.all(leaves.map((l) => hashLeaf(hexToBytes(l))))
  const mth = async (lo: number, hi: number): Promise<Uint8Array> => {
    if (hi - lo === 1) return hashes[lo] as Uint8Array
    const k = largestPow2Below(hi - lo)
    return hashChildren(await mth(lo, lo + k), await mth(lo + k, hi))
  }
  const path = async (m: number, lo: number, hi: number): Promise<string[]> => {
    if (hi - lo === 1) return []
    const k = largestPow2Below(hi - lo)
    if (m < k) return [...(await path(m, lo, lo + k)), bytesToHex(await mth(lo + k, hi))]
    return [...(await path(m - k, lo + k, hi)), bytesToHex(await mth(lo, lo + k))]
  }
  const root = bytesToHex(await mth(0, leaves.length))
  const paths = await Promise.all(leaves.map((_, i) => path(i, 0, leaves.length)))
  return { root, paths }
}

function largestPow2Below(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}
