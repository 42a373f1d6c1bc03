/**
 * Records the IDS event stream of a real `sealpost up --demo` run into test/fixtures/ids/up-demo.events.jsonl, the
 * fixture `src/ids/demoReplay.test.ts` replays (docs/ids.md §7). Runs the stack on free ports in a temporary home for
 * `--seconds` (default 170: every scripted attack runs at least twice), stops it with Ctrl-C, copies the relay's
 * `ids-events.jsonl`. About three minutes; not part of `npm test`.
 *
 *   npm run build:web   # once: `up --demo` serves the dashboard
 *   tsx scripts/record-ids-demo.ts [--seconds 170]
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'test', 'fixtures', 'ids', 'up-demo.events.jsonl')
const at = process.argv.indexOf('--seconds')
const seconds = at > 0 ? Number(process.argv[at + 1]) : 170

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => done(port))
    })
    s.on('error', fail)
  })
}

const home = mkdtempSync(join(tmpdir(), 'sealpost-record-demo-'))
const [relay, chain, dashboard] = [await freePort(), await freePort(), await freePort()]
const args = ['tsx', 'src/cli/main.ts', '--home', home, 'up', '--demo']
args.push('--port', `${relay}`, '--chain-port', `${chain}`, '--dashboard-port', `${dashboard}`)
const child = spawn('npx', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true })
await new Promise((r) => setTimeout(r, seconds * 1000))
process.kill(-(child.pid as number), 'SIGINT') // the whole group: npx, tsx and the CLI
await new Promise((r) => child.once('exit', r))
copyFileSync(join(home, 'relay', 'ids-events.jsonl'), out)
rmSync(home, { recursive: true, force: true })
console.log(`${readFileSync(out, 'utf8').trim().split('\n').length} events written to ${out}`)
