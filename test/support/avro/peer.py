#!/usr/bin/python3
"""An Avro RPC peer for interop tests, built on Apache Avro's Python implementation
(Debian python3-avro). Handshake records, protocol parsing and call/response
encoding come from avro.ipc / avro.protocol / avro.io; this file adds only what the
Python library lacks: the Netty data-pack framing, the stateful (once per
connection) handshake, and the optional zlib stream.

  client HOST PORT [--deflate] [--count N] [--batch B] [--pipeline] [--split N]
                   [--body-size N] [--hash flume|python]
      sends N rounds of appendBatch (B events) + append, prints one JSON line per call
  server PORT [--deflate] [--status OK|FAILED|UNKNOWN] [--error TEXT]
              [--hash flume|python] [--know-flume] [--jitter MS]
      prints {"listening": port}, then one JSON line per received event, answers the status

Run it with /usr/bin/python3 (Debian's avro lives there).
"""

import argparse
import base64
import io
import json
import random
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

import avro.errors
import avro.io
import avro.ipc
import avro.protocol

# The AvroSourceProtocol schemas (Flume's flume.avdl), without the doc comment: Python
# would hash its own rendering anyway, so the Flume hash is set explicitly below.
PROTOCOL_JSON = json.dumps({
    "protocol": "AvroSourceProtocol",
    "namespace": "org.apache.flume.source.avro",
    "types": [
        {"type": "enum", "name": "Status", "symbols": ["OK", "FAILED", "UNKNOWN"]},
        {"type": "record", "name": "AvroFlumeEvent", "fields": [
            {"name": "headers", "type": {"type": "map", "values": "string"}},
            {"name": "body", "type": "bytes"}]},
    ],
    "messages": {
        "append": {"request": [{"name": "event", "type": "AvroFlumeEvent"}], "response": "Status"},
        "appendBatch": {"request": [{"name": "events", "type": {"type": "array", "items": "AvroFlumeEvent"}}],
                        "response": "Status"},
    },
})
# MD5 of the protocol text released Flume jars carry (Java's Protocol.toString()).
FLUME_HASH = bytes.fromhex("86aadae2c45474c0fe93ffd0f2350a65")

OUT_LOCK = threading.Lock()


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()


def make_protocol(hash_mode):
    proto = avro.protocol.parse(PROTOCOL_JSON)
    if hash_mode == "flume":
        proto._md5 = FLUME_HASH  # pretend to be the Java-built protocol
    return proto


class Framed:
    """Netty data packs over a socket, optionally inside one zlib stream per direction."""

    def __init__(self, sock, deflate):
        self.sock = sock
        self.buf = bytearray()
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, 15) if deflate else None
        self.inflater = zlib.decompressobj(15) if deflate else None
        self.write_lock = threading.Lock()

    def _fill(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("peer closed (%d of %d bytes buffered)" % (len(self.buf), n))
            if self.inflater is not None:
                data = self.inflater.decompress(data)
            self.buf += data

    def _take(self, n):
        self._fill(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_pack(self):
        serial, count = struct.unpack("!ii", self._take(8))
        parts = []
        for _ in range(count):
            (length,) = struct.unpack("!i", self._take(4))
            parts.append(self._take(length))
        return serial, b"".join(parts)

    def write_pack(self, serial, buffers):
        out = bytearray(struct.pack("!ii", serial, len(buffers)))
        for b in buffers:
            out += struct.pack("!i", len(b)) + b
        data = bytes(out)
        with self.write_lock:
            if self.deflater is not None:
                data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
            self.sock.sendall(data)

    def finish(self):
        if self.deflater is not None:
            with self.write_lock:
                self.sock.sendall(self.deflater.flush(zlib.Z_FINISH))


def split(payload, size):
    """Java cuts at 8 KiB; --split N cuts finer and puts an empty buffer between pieces."""
    if size is None:
        return [payload[i:i + 8192] for i in range(0, len(payload), 8192)] or [b""]
    out = []
    for i in range(0, len(payload), size):
        out.append(payload[i:i + size])
        out.append(b"")
    return out or [b""]


# ----------------------------------------------------------------------------------
# client


class StatefulRequestor(avro.ipc.BaseRequestor):
    """avro.ipc's requestor, with the handshake sent only until it succeeds."""

    def __init__(self, proto, framed, remote_name, split_size):
        self.remote_name = remote_name
        super().__init__(proto, self)
        self.framed = framed
        self.split_size = split_size
        self.established = False
        self.serial = 0

    def encode(self, message_name, datum):
        buf = io.BytesIO()
        enc = avro.io.BinaryEncoder(buf)
        with_handshake = not self.established
        if with_handshake:
            self.write_handshake_request(enc)
        self.write_call_request(message_name, datum, enc)
        return with_handshake, buf.getvalue()

    def send(self, message_name, datum):
        self.serial += 1
        with_handshake, payload = self.encode(message_name, datum)
        self.framed.write_pack(self.serial, split(payload, self.split_size))
        return self.serial, with_handshake

    def read(self, message_name, with_handshake, payload):
        """Returns (status or error text, resend?)."""
        dec = avro.io.BinaryDecoder(io.BytesIO(payload))
        if with_handshake:
            peek = avro.ipc.HANDSHAKE_REQUESTOR_READER.read(avro.io.BinaryDecoder(io.BytesIO(payload)))
            emit({"handshake": peek["match"]})
            if not self.read_handshake_response(dec):
                return None, True
            self.established = True
        try:
            return {"status": self.read_call_response(message_name, dec)}, False
        except avro.errors.AvroRemoteException as e:
            return {"error": str(e)}, False

    def call(self, message_name, datum):
        while True:
            serial, with_handshake = self.send(message_name, datum)
            rserial, payload = self.framed.read_pack()
            if rserial != serial:
                raise RuntimeError("response serial %d for request %d" % (rserial, serial))
            result, resend = self.read(message_name, with_handshake, payload)
            if not resend:
                return serial, result


def make_events(i, batch, body_size):
    evs = []
    for j in range(batch):
        body = ("event-%d-%d" % (i, j)).encode() + bytes((i + j + k) % 256 for k in range(body_size))
        evs.append({"headers": {"seq": str(i), "idx": str(j), "uni": "h\u00e9llo \u2713"}, "body": body})
    return evs


def run_client(args):
    proto = make_protocol(args.hash)
    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    framed = Framed(sock, args.deflate)
    req = StatefulRequestor(proto, framed, "%s:%d" % (args.host, args.port), args.split)
    calls = []
    for i in range(args.count):
        calls.append(("appendBatch", {"events": make_events(i, args.batch, args.body_size)}))
        calls.append(("append", {"event": {"headers": {"seq": str(i), "single": "1"}, "body": ("single-%d" % i).encode()}}))
    if not calls:
        return
    # The first call carries the handshake and completes before anything else is sent.
    serial, result = req.call(*calls[0])
    emit(dict(call=calls[0][0], serial=serial, **result))
    rest = calls[1:]
    if args.pipeline:
        sent = {}
        for name, datum in rest:
            serial, with_handshake = req.send(name, datum)
            sent[serial] = (name, with_handshake)
        order = []
        while sent:
            rserial, payload = framed.read_pack()
            name, with_handshake = sent.pop(rserial)
            order.append(rserial)
            result, _ = req.read(name, with_handshake, payload)
            emit(dict(call=name, serial=rserial, **result))
        emit({"response_order": order})
    else:
        for name, datum in rest:
            serial, result = req.call(name, datum)
            emit(dict(call=name, serial=serial, **result))
    framed.finish()
    sock.shutdown(socket.SHUT_WR)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


# ----------------------------------------------------------------------------------
# server


class StatefulResponder(avro.ipc.Responder):
    def __init__(self, proto, status, error):
        super().__init__(proto)
        self.status = status
        self.error = error


def serve_connection(handler):
    srv = handler.server
    responder = srv.responder
    framed = Framed(handler.request, srv.deflate)
    remote_protocol = None  # set once the handshake succeeded: no handshake after that
    threads = []
    try:
        while True:
            try:
                serial, payload = framed.read_pack()
            except EOFError:
                break
            dec = avro.io.BinaryDecoder(io.BytesIO(payload))
            hs_out = io.BytesIO()
            if remote_protocol is None:
                remote_protocol = responder.process_handshake(dec, avro.io.BinaryEncoder(hs_out))
                match = avro.ipc.HANDSHAKE_REQUESTOR_READER.read(avro.io.BinaryDecoder(io.BytesIO(hs_out.getvalue())))["match"]
                emit({"handshake": match})
                if remote_protocol is None:
                    framed.write_pack(serial, [hs_out.getvalue()])
                    continue
            avro.ipc.META_READER.read(dec)
            name = dec.read_utf8()
            if name == "":
                framed.write_pack(serial, [hs_out.getvalue()])
                continue
            remote_message = remote_protocol.messages.get(name)
            local_message = responder.local_protocol.messages.get(name)
            request = responder.read_request(remote_message.request, local_message.request, dec)
            events = request["events"] if name == "appendBatch" else [request["event"]]
            for ev in events:
                emit({"kind": name, "serial": serial, "headers": ev["headers"],
                      "body_b64": base64.b64encode(ev["body"]).decode()})
            meta = io.BytesIO()
            avro.ipc.META_WRITER.write({}, avro.io.BinaryEncoder(meta))
            body = io.BytesIO()
            enc = avro.io.BinaryEncoder(body)
            if responder.error is not None:
                enc.write_boolean(True)
                responder.write_error(local_message.errors, responder.error, enc)
            else:
                enc.write_boolean(False)
                responder.write_response(local_message.response, responder.status, enc)
            buffers = [hs_out.getvalue(), meta.getvalue(), body.getvalue()]
            if srv.jitter > 0:
                # Answer from another thread after a random pause, so pipelined calls come back out of order.
                def later(s=serial, b=buffers, d=random.random() * srv.jitter / 1000.0):
                    time.sleep(d)
                    framed.write_pack(s, b)
                t = threading.Thread(target=later)
                t.start()
                threads.append(t)
            else:
                framed.write_pack(serial, buffers)
    finally:
        for t in threads:
            t.join()
        try:
            framed.finish()
        except OSError:
            pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            serve_connection(self)
        except Exception as e:  # one bad connection must not stop the peer
            emit({"connection_error": "%s: %s" % (type(e).__name__, e)})


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def run_server(args):
    proto = make_protocol(args.hash)
    responder = StatefulResponder(proto, args.status, args.error)
    if args.know_flume:
        responder.set_protocol_cache(FLUME_HASH, proto)
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.responder = responder
    srv.deflate = args.deflate
    srv.jitter = args.jitter
    emit({"listening": srv.server_address[1]})
    srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--deflate", action="store_true")
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--batch", type=int, default=3)
    c.add_argument("--body-size", type=int, default=0)
    c.add_argument("--pipeline", action="store_true")
    c.add_argument("--split", type=int, default=None)
    c.add_argument("--hash", choices=["flume", "python"], default="flume")
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--deflate", action="store_true")
    s.add_argument("--status", choices=["OK", "FAILED", "UNKNOWN"], default="OK")
    s.add_argument("--error", default=None)
    s.add_argument("--hash", choices=["flume", "python"], default="flume")
    s.add_argument("--know-flume", action="store_true")
    s.add_argument("--jitter", type=float, default=0)
    args = p.parse_args()
    if args.mode == "client":
        run_client(args)
    else:
        run_server(args)


if __name__ == "__main__":
    main()
