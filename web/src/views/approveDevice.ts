/** Keys tab, "approve a device": paste a link request, see its name and fingerprints, approve with a browser wallet. */

import type { App } from '../app.ts'
import { h } from '../dom.ts'
import type { Eip1193Provider, InspectedRequest } from '../linkApproval.ts'

/** The checks and the wallet flow, loaded on first use so the dashboard's first load stays small. */
const linkApproval = () => import('../linkApproval.ts')

function provider(): Eip1193Provider | undefined {
  return (window as unknown as { ethereum?: Eip1193Provider }).ethereum
}

/**
 * The "approve a device" card of the Keys tab.
 *
 * @example el.append(approveDeviceCard(app))
 */
export function approveDeviceCard(app: App): HTMLElement {
  const input = h('input', {
    type: 'text',
    class: 'mono',
    placeholder: 'sealpost:link?v=1&r=… (printed by `sealpost id link` on the new device)',
    'aria-label': 'Link request',
    spellcheck: 'false',
    autocomplete: 'off',
    'data-testid': 'link-request-input',
  })
  const form = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Check a link request' },
    input,
    h('button', { type: 'submit', class: 'btn', 'data-testid': 'link-check' }, 'Check'),
  )
  const details = h('div', { 'data-testid': 'link-details' })
  const status = h('p', { class: 'muted', 'data-testid': 'link-status', 'aria-live': 'polite' })
  const approveButton = h(
    'button',
    { type: 'button', class: 'btn', disabled: true, 'data-testid': 'link-approve' },
    'Approve with wallet',
  )
  let current: InspectedRequest | undefined

  const setStatus = (state: string, text: string) => {
    status.setAttribute('data-state', state)
    status.textContent = text
  }
  const row = (label: string, value: string, testid: string) =>
    h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'mono', 'data-testid': testid }, value))

  async function check(text: string): Promise<void> {
    current = undefined
    approveButton.disabled = true
    details.replaceChildren()
    const { inspectLinkRequest } = await linkApproval()
    let inspected: InspectedRequest
    try {
      inspected = inspectLinkRequest(text, app.model.hello)
    } catch (err) {
      setStatus('refused', `Not a link request: ${(err as Error).message.split('\n').slice(0, 2).join(' ')}`)
      return
    }
    const { request, fingerprints, problems } = inspected
    details.replaceChildren(
      h(
        'table',
        { class: 'table' },
        h(
          'tbody',
          {},
          row('Device', request.name, 'link-name'),
          row('Account', request.account, 'link-account'),
          row('Device id', fingerprints.deviceId, 'link-device-id'),
          row('P-256 fingerprint', fingerprints.p256, 'link-fp-p256'),
          row('MLS fingerprint', fingerprints.mls, 'link-fp-mls'),
          row('Expires', new Date(request.expiresAt * 1000).toLocaleTimeString(), 'link-expires'),
        ),
      ),
    )
    if (problems.length) return setStatus('refused', problems.join(' '))
    current = inspected
    const wallet = provider()
    approveButton.disabled = !wallet
    setStatus(
      'checked',
      wallet
        ? 'Compare both fingerprints with the new device, then approve.'
        : 'No browser wallet found (window.ethereum is missing).',
    )
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    check(input.value).catch((err: unknown) => setStatus('failed', String(err)))
  })
  approveButton.addEventListener('click', () => {
    const wallet = provider()
    if (!current || !wallet) return
    const { request } = current
    approveButton.disabled = true
    const token = sessionStorage.getItem('sealpost-dashboard-token') ?? ''
    linkApproval()
      .then(({ approveWithWallet }) =>
        approveWithWallet(request, wallet, token, (text) => setStatus('working', text)),
      )
      .then(
        ({ hash, blockNumber }) =>
          setStatus(
            'approved',
            `Approved: "${request.name}" is active since block ${blockNumber} (tx ${hash}).`,
          ),
        (err: unknown) => {
          setStatus('failed', err instanceof Error ? err.message : String(err))
          approveButton.disabled = false
        },
      )
  })

  return h(
    'div',
    { class: 'card', 'data-testid': 'approve-device' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', {}, 'Approve a device'),
      h('span', { class: 'muted' }, 'link request → wallet (EIP-712) → relay sponsor'),
    ),
    form,
    details,
    status,
    h('div', { class: 'toolbar' }, approveButton),
  )
}
