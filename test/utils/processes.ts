/** Test helper: the processes a command started (Linux /proc), to check that nothing outlives it. */
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Pids of every live descendant of `pid` (Linux /proc).
 *
 * @example const children = descendants(up.child.pid as number)
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (state === 'Z') continue
      const list = children.get(Number(ppid)) ?? []
      list.push(Number(entry))
      children.set(Number(ppid), list)
    } catch {}
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

/**
 * Whether process `pid` runs (exists and is not a zombie).
 *
 * @example expect(children.filter(alive)).toEqual([])
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}
