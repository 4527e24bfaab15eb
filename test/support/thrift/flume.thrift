# Flume's Thrift RPC interface, as in flume-ng-sdk/src/main/thrift/flume.thrift
# (Apache Flume). The tests compile it with Debian's thrift-compiler for the Python peer.

namespace java org.apache.flume.thrift

struct ThriftFlumeEvent {
  1: required map <string, string> headers,
  2: required binary body,
}

enum Status {
  OK,
  FAILED,
  ERROR,
  UNKNOWN
}

service ThriftSourceProtocol {
  Status append(1: ThriftFlumeEvent event),
  Status appendBatch(1: list<ThriftFlumeEvent> events),
}
