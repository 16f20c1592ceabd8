package io.keyrotor.server.audit;

import com.codahale.metrics.MetricRegistry;
import io.keyrotor.server.config.DataAuditSettings;
import io.keyrotor.server.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data audit log ({@code audit.data.*}) and the sinks both audit streams go to ({@code
 * audit.sink.*}), opened together at start and closed together at shutdown (the log first, so its
 * last records still reach the sinks).
 */
public record DataAudit(DataAuditLog log, AuditSinks sinks) implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DataAudit.class);

  /**
   * Opens the log and the sinks {@code config} names and registers their gauges. A log that cannot
   * be opened does not stop the node: it refuses every record, so with {@code
   * audit.data.failure-mode=closed} the data plane fails AUDIT_UNAVAILABLE and says why. A sink
   * that cannot be opened does (the IOException): it was asked for and would silently receive
   * nothing.
   */
  public static DataAudit open(NodeConfig config, MetricRegistry metrics) throws IOException {
    DataAuditSettings settings = config.dataAudit();
    if (!settings.enabled()) {
      LOG.warn(
          "audit.data.enabled=false: this node writes NO data audit record (a benchmark setting,"
              + " allowed only on loopback addresses)");
    }
    List<AuditSinks.Sink> sinks = new ArrayList<>();
    try {
      if (settings.sinkFile().isPresent()) {
        sinks.add(new FileSink(settings.sinkFile().get()));
      }
      if (settings.syslog().isPresent()) {
        sinks.add(new SyslogSink(settings.syslog().get(), config.nodeId()));
      }
    } catch (IOException e) {
      sinks.forEach(AuditSinks.Sink::close);
      throw new IOException(
          "cannot open the audit sink (audit.sink.file, audit.sink.syslog): " + e.getMessage(), e);
    }
    AuditSinks auditSinks = new AuditSinks(sinks);
    Path file = settings.directory(config.dataDirectory()).resolve("data-audit.log");
    DataAuditLog log;
    try {
      log =
          DataAuditLog.open(
              file,
              config.nodeId(),
              new DataAuditLog.Options(
                  settings.queueCapacity(), settings.preallocateBytes(), settings.syncThreads()),
              auditSinks::data);
    } catch (IOException e) {
      LOG.error(
          "Cannot open the data audit log {} ({}); every data-plane call {}",
          file,
          e.toString(),
          settings.failClosed()
              ? "fails AUDIT_UNAVAILABLE (audit.data.failure-mode=closed)"
              : "goes unaudited (audit.data.failure-mode=open)");
      log = DataAuditLog.unopened(file, config.nodeId(), e);
    }
    DataAuditLog opened = log;
    metrics.gauge("audit.data.sequence", () -> () -> opened.head().sequence());
    metrics.gauge("audit.data.failures", () -> opened::failures);
    metrics.gauge("audit.data.queue-full", () -> opened::refusedFull);
    metrics.gauge("audit.data.queued", () -> opened::queued);
    metrics.gauge("audit.data.syncs", () -> opened::syncs);
    metrics.gauge("audit.sink.dropped", () -> auditSinks::dropped);
    metrics.gauge("audit.sink.failures", () -> auditSinks::failures);
    return new DataAudit(log, auditSinks);
  }

  @Override
  public void close() {
    log.close();
    sinks.close();
  }
}
