/** Test helper: Debian's Chromium, headless, driven by playwright-core (no browser download here). */
import { type Browser, chromium } from 'playwright-core'

/** The Chromium binary (`CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Starts headless Chromium without a sandbox and without background traffic (updates, sync, first-run pages).
 *
 * @example const browser = await launchChromium(); const page = await browser.newPage()
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
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
}
