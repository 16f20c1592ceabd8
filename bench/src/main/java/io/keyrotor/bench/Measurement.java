package io.keyrotor.bench;

import com.google.gson.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The outcome of one measured block of one scenario against one target.
 *
 * @param scenario what was measured (e.g. "GetKey")
 * @param target whom (e.g. "keyrotor", "etcd", "echo")
 * @param mode "closed" (fixed concurrency) or "open" (fixed arrival rate)
 * @param load the concurrency (closed) or the rate in ops/s (open)
 * @param round the A/B round this block belongs to (0-based)
 * @param seconds the measured time
 * @param histogram latencies in microseconds of successful operations (for open loops measured from
 *     the intended start, so queueing is not hidden)
 * @param errors failed operations by gRPC status code
 */
public record Measurement(
    String scenario,
    String target,
    String mode,
    long load,
    int round,
    double seconds,
    Histogram histogram,
    Map<String, Long> errors) {

  public long successes() {
    return histogram.getTotalCount();
  }

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  public double throughput() {
    return seconds <= 0 ? 0 : successes() / seconds;
  }

  public double percentileMicros(double percentile) {
    return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile);
  }

  /** The JSON form, which {@link Row#fromJson} reads back for the report. */
  JsonObject toJson() {
    JsonObject out = new JsonObject();
    out.addProperty("scenario", scenario);
    out.addProperty("target", target);
    out.addProperty("mode", mode);
    out.addProperty("load", load);
    out.addProperty("round", round);
    out.addProperty("seconds", Math.round(seconds * 1000) / 1000.0);
    out.addProperty("ops", successes());
    out.addProperty("ops_per_second", Math.round(throughput() * 10) / 10.0);
    out.addProperty("p50_us", percentileMicros(50));
    out.addProperty("p99_us", percentileMicros(99));
    out.addProperty("p999_us", percentileMicros(99.9));
    out.addProperty("max_us", histogram.getTotalCount() == 0 ? 0 : histogram.getMaxValue());
    JsonObject errorsJson = new JsonObject();
    new TreeMap<>(errors).forEach(errorsJson::addProperty);
    out.add("errors", errorsJson);
    return out;
  }

  Row toRow() {
    return Row.fromJson(toJson());
  }
}
