"""An authoritative DNS server on loopback for tests: blocklists, SPF, DKIM keys, DMARC, MX.

    with DnsServer() as zone:
        zone.add("7.2.0.192.bl.test", "A", "127.0.0.2")
        zone.add("example.test", "TXT", "v=spf1 ip4:192.0.2.7 -all")
        Policy(..., network=True, resolver_nameservers=(zone.nameserver,))
        zone.queries                         # [(name, type), ...] asked so far

Built on dnspython's message handling over the standard library's socket servers, UDP and
TCP on the same port (a truncated UDP answer makes the client retry over TCP). Names not
added answer NXDOMAIN; a name with records of other types answers NOERROR with no data.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

TTL = 60
MAX_TXT_CHUNK = 255


def _txt(value: str) -> TXT:
    data = value.encode()
    chunks = [data[i : i + MAX_TXT_CHUNK] for i in range(0, len(data), MAX_TXT_CHUNK)] or [b""]
    return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


class _Records:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rrsets: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], dns.rrset.RRset] = {}
        self.queries: list[tuple[str, str]] = []

    def answer(self, wire: bytes, max_size: int | None) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = question.name
        with self.lock:
            self.queries.append(
                (name.to_text(omit_final_dot=True).lower(), dns.rdatatype.to_text(question.rdtype))
            )
            found = self.rrsets.get((name, question.rdtype))
            known = any(key[0] == name for key in self.rrsets)
        if found is not None:
            response.answer.append(found)
        elif not known:
            response.set_rcode(dns.rcode.NXDOMAIN)
        if max_size is None:  # UDP: the client's EDNS payload, or 512 bytes
            max_size = query.payload if query.edns >= 0 else 512
            try:
                return response.to_wire(max_size=max_size)
            except dns.exception.TooBig:
                response.answer.clear()
                response.flags |= dns.flags.TC
        return response.to_wire()


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        assert isinstance(self.server, _Udp)
        reply = self.server.records.answer(data, None)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        while True:
            head = conn.recv(2)
            if len(head) < 2:
                return
            size = int.from_bytes(head, "big")
            wire = b""
            while len(wire) < size:
                chunk = conn.recv(size - len(wire))
                if not chunk:
                    return
                wire += chunk
            assert isinstance(self.server, _Tcp)
            reply = self.server.records.answer(wire, 65535)
            if reply is None:
                return
            conn.sendall(len(reply).to_bytes(2, "big") + reply)


class _Udp(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True
    records: _Records


class _Tcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    records: _Records


class DnsServer:
    """A throwaway authoritative server on 127.0.0.1, UDP and TCP on one free port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.records = _Records()
        self.udp, self.tcp = self._bind()
        self.port = int(self.udp.server_address[1])
        self._threads: list[threading.Thread] = []

    def _bind(self) -> tuple[_Udp, _Tcp]:
        for _attempt in range(20):
            udp = _Udp((self.host, 0), _UdpHandler)
            try:
                tcp = _Tcp((self.host, udp.server_address[1]), _TcpHandler)
            except OSError:  # the TCP side of that port is taken: another port
                udp.server_close()
                continue
            udp.records = tcp.records = self.records
            return udp, tcp
        raise RuntimeError("no free port for both UDP and TCP on loopback")

    @property
    def nameserver(self) -> str:
        """'127.0.0.1:PORT', as ``Policy.resolver_nameservers`` takes it."""
        return f"{self.host}:{self.port}"

    @property
    def queries(self) -> list[tuple[str, str]]:
        with self.records.lock:
            return list(self.records.queries)

    def add(self, name: str, rdtype: str, *values: str, ttl: int = TTL) -> None:
        """Publish records; TXT values are plain text (split into 255-byte strings)."""
        owner = dns.name.from_text(name)
        kind = dns.rdatatype.from_text(rdtype)
        rdatas = [
            _txt(v) if kind == dns.rdatatype.TXT else dns.rdata.from_text("IN", rdtype, v)
            for v in values
        ]
        with self.records.lock:
            rrset = self.records.rrsets.get((owner, kind))
            if rrset is None:
                rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, kind)
                self.records.rrsets[(owner, kind)] = rrset
            for rdata in rdatas:
                rrset.add(rdata, ttl)

    def start(self) -> DnsServer:
        for server in (self.udp, self.tcp):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
