package io.keyrotor.server.hsm;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.server.metrics.NodeMetrics;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;

/**
 * An {@link Hsm} that times every call that reaches the device (wrap, unwrap, random bytes, key
 * check values, audit key generation and signatures, the health probe) and counts the failed ones,
 * by operation name only: never a zone's key, a KEK or its owner. Everything else passes straight
 * through. Inside a traced call (a span is current, as on the write path's HSM executor) each call
 * is also a span {@code hsm.<operation>} with the operation name only.
 */
public final class MeasuredHsm extends ForwardingHsm {
  private final NodeMetrics metrics;

  private final Tracer tracer;

  public MeasuredHsm(Hsm delegate, NodeMetrics metrics) {
    this(delegate, metrics, OpenTelemetry.noop().getTracer("io.keyrotor.server"));
  }

  /** Also a span per call that runs inside a traced one, from {@code tracer}. */
  public MeasuredHsm(Hsm delegate, NodeMetrics metrics, Tracer tracer) {
    super(delegate);
    this.metrics = metrics;
    this.tracer = tracer;
  }

  /** One HSM call; its result or its exception, measured either way. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws HsmException;
  }

  @SuppressWarnings("try") // the Scope is held only to be closed
  private <T> T measured(String operation, Call<T> call) throws HsmException {
    Span span =
        Span.current().getSpanContext().isValid()
            ? tracer
                .spanBuilder("hsm." + operation)
                .setAttribute(HSM_OPERATION, operation)
                .startSpan()
            : Span.getInvalid();
    long start = System.nanoTime();
    boolean failed = true;
    try (Scope unused = span.makeCurrent()) {
      T result = call.run();
      failed = false;
      return result;
    } finally {
      metrics.hsmCall(operation, System.nanoTime() - start, failed);
      if (failed) {
        span.setStatus(StatusCode.ERROR);
      }
      span.end();
    }
  }

  private static final AttributeKey<String> HSM_OPERATION =
      AttributeKey.stringKey("keyrotor.hsm.operation");

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    return measured("wrap", () -> delegate.wrap(zone, key));
  }

  @Override
  public WrappedKey wrap(String zone, int zoneMasterKeyVersion, SecretKeyBytes key)
      throws HsmException {
    return measured("wrap", () -> delegate.wrap(zone, zoneMasterKeyVersion, key));
  }

  @Override
  public java.util.SortedMap<String, java.util.SortedSet<Integer>> zoneMasterKeyVersions()
      throws HsmException {
    return delegate.zoneMasterKeyVersions();
  }

  @Override
  public boolean checkHealth() {
    long start = System.nanoTime();
    boolean healthy = delegate.checkHealth();
    metrics.hsmCall("health-check", System.nanoTime() - start, !healthy);
    return healthy;
  }

  @Override
  public SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException {
    return measured("unwrap", () -> delegate.unwrap(wrapped));
  }

  @Override
  public String keyCheckValue(String zone, int version) throws HsmException {
    return measured("key-check-value", () -> delegate.keyCheckValue(zone, version));
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    return measured("random", () -> delegate.randomBytes(count));
  }

  @Override
  public java.util.SortedSet<Integer> auditKeyVersions() throws HsmException {
    return delegate.auditKeyVersions();
  }

  @Override
  public int generateAuditKey() throws HsmException {
    return measured("generate-audit-key", delegate::generateAuditKey);
  }

  @Override
  public byte[] auditPublicKey(int version) throws HsmException {
    return delegate.auditPublicKey(version);
  }

  @Override
  public byte[] signAudit(int version, byte[] message) throws HsmException {
    return measured("sign-audit", () -> delegate.signAudit(version, message));
  }
}
