package io.keyrotor.server.audit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code audit.sink.syslog}: each event as one RFC 5424 message in one UDP datagram to a loopback
 * address (a local syslog agent relays it on): facility 13 (log audit), severity informational for
 * a call that succeeded and warning for one that did not, HOSTNAME the node id, APP-NAME {@code
 * keyrotor}, MSGID the stream ({@code data} or {@code replicated}), no structured data, the event's
 * JSON as MSG, the event's time as TIMESTAMP. A message is cut at {@value #MAX_BYTES} bytes.
 */
public final class SyslogSink implements AuditSinks.Sink {
  static final int MAX_BYTES = 8_192;

  private static final int FACILITY_LOG_AUDIT = 13;
  private static final int SEVERITY_WARNING = 4;
  private static final int SEVERITY_INFO = 6;

  private final DatagramSocket socket;
  private final InetSocketAddress target;
  private final String host;

  public SyslogSink(InetSocketAddress target, String nodeId) throws IOException {
    this.socket = new DatagramSocket();
    this.target = target;
    this.host = nodeId.isEmpty() ? "-" : nodeId.replaceAll("[^\\x21-\\x7e]", "_");
  }

  /** The RFC 5424 message of {@code event}. */
  String format(AuditEvent event) {
    boolean ok = "OK".equals(event.string("outcome"));
    int pri = FACILITY_LOG_AUDIT * 8 + (ok ? SEVERITY_INFO : SEVERITY_WARNING);
    return "<"
        + pri
        + ">1 "
        + event.string("time")
        + " "
        + host
        + " keyrotor - "
        + event.string("stream")
        + " - "
        + event;
  }

  @Override
  public void send(AuditEvent event) throws IOException {
    byte[] bytes = format(event).getBytes(StandardCharsets.UTF_8);
    int length = Math.min(bytes.length, MAX_BYTES);
    socket.send(new DatagramPacket(bytes, length, target));
  }

  @Override
  public void close() {
    socket.close();
  }
}
