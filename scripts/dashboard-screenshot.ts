/**
 * Screenshots of the dashboard. Two modes:
 *   tsx scripts/dashboard-screenshot.ts --readme
 *     refreshes docs/img/dashboard.png, the README's picture: runs the Chromium test (a real chain, relay, anchorer
 *     and demo parties) with SEALPOST_SCREENSHOT set. This is the only way that file changes; `npm test` never
 *     writes it.
 *   npm run build:web && tsx scripts/dashboard-screenshot.ts [outDir] [--theme=dark] [--n=400] [--phone]
 *     serves web/dist with a tiny static server, opens the dashboard with the dev fixture in headless Chromium and
 *     writes a screenshot of every view into outDir (default .tmp/dashboard); --phone uses a 390×844 viewport.
 */
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { chromium } from 'playwright-core'

const args = process.argv.slice(2)
if (args.includes('--readme')) {
  const target = join(import.meta.dirname, '..', 'docs', 'img', 'dashboard.png')
  const run = spawnSync('npx', ['vitest', 'run', 'test/dashboard.browser.test.ts'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
    env: { ...process.env, SEALPOST_SCREENSHOT: target },
  })
  if (run.status === 0) console.log(`wrote ${target}`)
  process.exit(run.status ?? 1)
}
const outDir = args.find((a) => !a.startsWith('--')) ?? '.tmp/dashboard'
const theme = args.find((a) => a.startsWith('--theme='))?.slice(8) ?? 'light'
const n = args.find((a) => a.startsWith('--n='))?.slice(4) ?? '400'
const phone = args.includes('--phone')
const suffix = `${theme}${phone ? '-phone' : ''}`
const root = join(import.meta.dirname, '..', 'web', 'dist')
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  const path = normalize(url.pathname === '/' ? '/index.html' : url.pathname)
  try {
    const body = await readFile(join(root, path))
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' })
    res.end(body)
  } catch {
    res.writeHead(404).end()
  }
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as AddressInfo).port

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
})
try {
  const page = await browser.newPage({
    viewport: phone ? { width: 390, height: 844 } : { width: 1440, height: 900 },
    colorScheme: theme === 'dark' ? 'dark' : 'light',
  })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  await page.goto(`http://127.0.0.1:${port}/?fixture=1&n=${n}`)
  await page.waitForSelector('[data-testid="message-row"]')
  await page.waitForTimeout(2500)
  for (const tab of ['flow', 'inspector', 'logs', 'metrics', 'keys', 'alerts']) {
    if (tab === 'inspector') {
      // Inspect a rejected message when there is one (bad actors), else the newest message.
      await page.click('[data-testid="tab-flow"]')
      await page.selectOption('[data-testid="message-state-filter"]', 'rejected')
      await page.waitForTimeout(400)
      if ((await page.locator('[data-testid="message-row"]').count()) === 0)
        await page.selectOption('[data-testid="message-state-filter"]', '')
      await page.locator('[data-testid="message-row"]').first().click()
      await page.waitForTimeout(300)
      await page.click('[data-testid="tab-flow"]')
      await page.selectOption('[data-testid="message-state-filter"]', '')
      await page.click('[data-testid="tab-inspector"]')
    } else await page.click(`[data-testid="tab-${tab}"]`)
    await page.waitForTimeout(tab === 'metrics' ? 1200 : 500)
    await page.screenshot({ path: join(outDir, `${tab}-${suffix}.png`) })
  }
  // An honest, anchored message: verification, key, MLS and receipt (re-checked in the browser).
  await page.click('[data-testid="tab-flow"]')
  await page.selectOption('[data-testid="message-state-filter"]', 'final')
  await page.waitForTimeout(400)
  if ((await page.locator('[data-testid="message-row"]').count()) > 0) {
    await page.locator('[data-testid="message-row"]').first().click()
    await page.waitForTimeout(600)
    await page.screenshot({ path: join(outDir, `inspector-final-${suffix}.png`), fullPage: true })
  }
  console.log(`screenshots in ${outDir}`, errors.length ? `\npage errors:\n${errors.join('\n')}` : '')
} finally {
  await browser.close()
  server.close()
}
