#!/usr/bin/python3
"""A Thrift peer for interop tests, on Debian's python3-thrift with code generated from
flume.thrift by Debian's thrift-compiler (the test passes the generated package's
directory with --gen). Framed transport, compact protocol unless --binary.

  client HOST PORT --gen DIR [--binary] [--count N] [--batch B] [--body-size N] [--ssl CAFILE]
      sends N rounds of appendBatch (B events) + append; prints one JSON line per call
  server PORT --gen DIR [--binary] [--status OK|FAILED|ERROR|UNKNOWN] [--ssl CERT KEY]
      prints {"listening": port}, then one JSON line per received event

Run it with /usr/bin/python3.
"""

import argparse
import base64
import json
import sys
import threading

OUT_LOCK = threading.Lock()


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()


def protocol_factory(args):
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    return TBinaryProtocol.TBinaryProtocolFactory() if args.binary else TCompactProtocol.TCompactProtocolFactory()


def make_events(ttypes, i, batch, body_size):
    evs = []
    for j in range(batch):
        body = ("event-%d-%d" % (i, j)).encode() + bytes((i + j + k) % 256 for k in range(body_size))
        evs.append(ttypes.ThriftFlumeEvent(headers={"seq": str(i), "idx": str(j), "uni": "h\u00e9llo \u2713"}, body=body))
    return evs


def run_client(args):
    from thrift.transport import TSocket, TTransport, TSSLSocket
    from flume import ThriftSourceProtocol, ttypes
    if args.ssl:
        sock = TSSLSocket.TSSLSocket(args.host, args.port, ca_certs=args.ssl[0], validate=False)
    else:
        sock = TSocket.TSocket(args.host, args.port)
    transport = TTransport.TFramedTransport(sock)
    client = ThriftSourceProtocol.Client(protocol_factory(args).getProtocol(transport))
    transport.open()
    names = {v: k for k, v in ttypes.Status._VALUES_TO_NAMES.items()}
    for i in range(args.count):
        st = client.appendBatch(make_events(ttypes, i, args.batch, args.body_size))
        emit({"call": "appendBatch", "status": ttypes.Status._VALUES_TO_NAMES[st]})
        st = client.append(ttypes.ThriftFlumeEvent(headers={"seq": str(i), "single": "1"}, body=("single-%d" % i).encode()))
        emit({"call": "append", "status": ttypes.Status._VALUES_TO_NAMES[st]})
    transport.close()


class Handler:
    def __init__(self, ttypes, status):
        self.ttypes = ttypes
        self.status = getattr(ttypes.Status, status)

    def _record(self, kind, events):
        for ev in events:
            emit({"kind": kind, "headers": ev.headers, "body_b64": base64.b64encode(ev.body).decode()})
        return self.status

    def append(self, event):
        return self._record("append", [event])

    def appendBatch(self, events):
        return self._record("appendBatch", events)


def run_server(args):
    from thrift.transport import TSocket, TTransport, TSSLSocket
    from thrift.server import TServer
    from flume import ThriftSourceProtocol, ttypes
    if args.ssl:
        sock = TSSLSocket.TSSLServerSocket(host="127.0.0.1", port=args.port, certfile=args.ssl[0], keyfile=args.ssl[1])
    else:
        sock = TSocket.TServerSocket(host="127.0.0.1", port=args.port)
    processor = ThriftSourceProtocol.Processor(Handler(ttypes, args.status))
    server = TServer.TThreadedServer(processor, sock, TTransport.TFramedTransportFactory(), protocol_factory(args), daemon=True)
    sock.listen()
    sock.listen = lambda: None  # serve() would listen again, on a new port
    port = sock.handle.getsockname()[1]
    emit({"listening": port})
    server.serve()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--gen", required=True)
    c.add_argument("--binary", action="store_true")
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--batch", type=int, default=3)
    c.add_argument("--body-size", type=int, default=0)
    c.add_argument("--ssl", nargs=1, default=None)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--gen", required=True)
    s.add_argument("--binary", action="store_true")
    s.add_argument("--status", choices=["OK", "FAILED", "ERROR", "UNKNOWN"], default="OK")
    s.add_argument("--ssl", nargs=2, default=None)
    args = p.parse_args()
    sys.path.insert(0, args.gen)
    if args.mode == "client":
        run_client(args)
    else:
        run_server(args)


if __name__ == "__main__":
    main()
