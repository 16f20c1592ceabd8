package io.keyrotor.server.hsm;

import io.keyrotor.hsm.Hsm;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the HSM, every {@code interval}, whether it still answers ({@link Hsm#checkHealth()}: one
 * cheap call into the module or key file), so {@code HsmDescription.healthy} and NodeStatus stay
 * accurate even while no request uses the HSM. Logs each change once and reports it to a listener
 * (the node marks its {@code keyrotor.hsm} health service NOT_SERVING while the HSM is down).
 */
public final class HsmHealthProbe implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HsmHealthProbe.class);

  /** System property: milliseconds between two probes (default 5000). */
  public static final String INTERVAL_PROPERTY = "keyrotor.hsm.health-interval-millis";

  private final Hsm hsm;
  private final Duration interval;
  private final Consumer<Boolean> onChange;
  private volatile boolean healthy = true;
  private volatile ScheduledFuture<?> task;

  public HsmHealthProbe(Hsm hsm, Consumer<Boolean> onChange) {
    this(hsm, Duration.ofMillis(Long.getLong(INTERVAL_PROPERTY, 5_000)), onChange);
  }

  public HsmHealthProbe(Hsm hsm, Duration interval, Consumer<Boolean> onChange) {
    this.hsm = hsm;
    this.interval = interval;
    this.onChange = onChange;
  }

  /** Starts probing on {@code executor}. */
  public void start(ScheduledExecutorService executor) {
    long millis = Math.max(100, interval.toMillis());
    task = executor.scheduleWithFixedDelay(this::probe, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Probes once; returns whether the HSM answered. */
  public boolean probe() {
    boolean now;
    try {
      now = hsm.checkHealth();
    } catch (RuntimeException e) {
      now = false;
    }
    if (now != healthy) {
      healthy = now;
      if (now) {
        LOG.info(
            "HSM {} answers again",
            hsm.describe().tokenLabel().isEmpty() ? hsm : hsm.describe().tokenLabel());
      } else {
        LOG.warn(
            "HSM {} stopped answering: the node is degraded (cached KEKs keep working, uncached"
                + " ones are unavailable)",
            hsm.describe().tokenLabel().isEmpty() ? hsm : hsm.describe().tokenLabel());
      }
      onChange.accept(now);
    }
    return now;
  }

  @Override
  public void close() {
    ScheduledFuture<?> running = task;
    if (running != null) {
      running.cancel(false);
    }
  }
}
