#!/usr/bin/python3
"""Feeds and drains an ActiveMQ broker over STOMP with stomp.py (Debian python3-stomp),
a client not written by us.

  peer.py send  PORT DEST COUNT [--from N] [--bytes] [--size N]   messages "msg-<i>" with properties seq=<i>, color=red|blue
  peer.py drain PORT DEST [--idle S]                              prints a JSON list of {body, headers} until idle
"""
import json
import sys
import threading
import time

import stomp

USER, PASSWORD = 'flume', 'amq-test-pass'


def connect(port, auto_content_length=True):
    c = stomp.Connection([('127.0.0.1', port)], auto_content_length=auto_content_length, heartbeats=(0, 0))
    c.connect(USER, PASSWORD, wait=True)
    return c


def send(port, dest, count, start, as_bytes, size):
    c = connect(port, auto_content_length=as_bytes)
    for i in range(start, start + count):
        body = ('msg-%d' % i)
        if size:
            body = body + '-' + 'x' * max(0, size - len(body) - 1)
        headers = {'seq': str(i), 'color': 'red' if i % 2 == 0 else 'blue', 'persistent': 'true'}
        c.send(destination=dest, body=body.encode('utf-8') if as_bytes else body, headers=headers)
    # A receipt on the last frame: every message before it reached the broker.
    done = threading.Event()

    class L(stomp.ConnectionListener):
        def on_receipt(self, frame):
            done.set()
    c.set_listener('r', L())
    c.send(destination='/queue/peer.receipts', body='end', headers={'receipt': 'end'})
    done.wait(30)
    c.disconnect()


def drain(port, dest, idle):
    got = []
    last = [time.time()]

    class L(stomp.ConnectionListener):
        def on_message(self, frame):
            got.append({'body': frame.body if isinstance(frame.body, str) else frame.body.decode('utf-8', 'replace'), 'headers': dict(frame.headers)})
            last[0] = time.time()
    c = connect(port)
    c.set_listener('d', L())
    c.subscribe(destination=dest, id='1', ack='auto')
    while time.time() - last[0] < idle:
        time.sleep(0.1)
    c.disconnect()
    print(json.dumps(got))


def main(argv):
    cmd, port, dest = argv[1], int(argv[2]), argv[3]
    if cmd == 'send':
        count = int(argv[4])
        start = int(argv[argv.index('--from') + 1]) if '--from' in argv else 0
        size = int(argv[argv.index('--size') + 1]) if '--size' in argv else 0
        send(port, dest, count, start, '--bytes' in argv, size)
    elif cmd == 'drain':
        idle = float(argv[argv.index('--idle') + 1]) if '--idle' in argv else 2.0
        drain(port, dest, idle)
    else:
        raise SystemExit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
