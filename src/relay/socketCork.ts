/** Socket corking: the frames a connection is sent in one event-loop tick leave in one `writev`, not one syscall each. */

/** The TCP socket under a `ws` socket (`ws` keeps it in `_socket`; `rateShaping.ts` pauses it there too). */
type TcpSocket = { cork(): void; uncork(): void; destroyed: boolean }

const corked = new WeakSet<object>()

/**
 * Corks the TCP socket under `ws` until the end of the current tick (Node's `cork()` then
 * `process.nextTick(uncork)` idiom), so a group commit's OK and DELIVER frames to one connection are written
 * together. Nothing is delayed past the tick; a socket without a TCP socket under it (a test stand-in) is left alone.
 *
 * @example corkForTick(conn.ws); conn.ws.send(frame)
 */
export function corkForTick(ws: object): void {
  const socket = (ws as { _socket?: Partial<TcpSocket> | null })._socket
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return
  if (socket.destroyed || corked.has(socket)) return
  const tcp = socket as TcpSocket
  corked.add(tcp)
  tcp.cork()
  process.nextTick(() => {
    corked.delete(tcp)
    tcp.uncork()
  })
}
