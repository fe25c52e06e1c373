"""A TCP proxy whose link a chaos scenario can cut: the broker or the database, unreachable.

    with FaultProxy(upstream=("127.0.0.1", 6379)) as proxy:
        broker_url = f"redis://127.0.0.1:{proxy.port}/2"
        proxy.cut()      # every open connection dropped, new ones refused
        proxy.restore()  # accepting again, on the same port

Not Toxiproxy, the usual tool: it is neither in Debian's archive nor on PyPI, and a clean cut is
all `make chaos` needs. Its asyncio loop runs on a thread of its own, so the scenario stays blocking code.
"""

from __future__ import annotations

import asyncio
import threading

from deploy.stack import free_port


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"fault-proxy-{self.port}", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    @property
    def is_cut(self) -> bool:
        return self._server is None

    def cut(self) -> None:
        """Drop every connection through the proxy and refuse new ones (as a dead host's port does)."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again and pass them to the upstream."""
        self._call(self._listen())

    def _call(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # a reset, not a polite close: what a vanished host leaves behind
        self._open.clear()

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        writers = {client_writer, upstream_writer}
        self._open |= writers
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer),
            self._pipe(upstream_reader, client_writer),
            return_exceptions=True,
        )
        self._open -= writers  # each pipe aborted its writer as it ended

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(64 * 1024):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()  # one side gone: the other goes too
