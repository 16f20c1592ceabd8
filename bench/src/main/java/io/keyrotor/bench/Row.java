package io.keyrotor.bench;

import com.google.gson.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * One measured block as the report sees it (read back from the JSON result file).
 *
 * @param scenario what was measured
 * @param target whom
 * @param mode "closed" or "open"
 * @param load concurrency (closed) or rate (open)
 * @param round the A/B round
 * @param opsPerSecond successful operations per second
 * @param p50Micros median latency
 * @param p99Micros 99th percentile
 * @param p999Micros 99.9th percentile
 * @param errors failed operations by status code
 */
public record Row(
    String scenario,
    String target,
    String mode,
    long load,
    int round,
    double opsPerSecond,
    double p50Micros,
    double p99Micros,
    double p999Micros,
    Map<String, Long> errors) {

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  static Row fromJson(JsonObject o) {
    Map<String, Long> errors = new TreeMap<>();
    if (o.has("errors")) {
      o.getAsJsonObject("errors")
          .entrySet()
          .forEach(e -> errors.put(e.getKey(), e.getValue().getAsLong()));
    }
    return new Row(
        o.get("scenario").getAsString(),
        o.get("target").getAsString(),
        o.get("mode").getAsString(),
        o.get("load").getAsLong(),
        o.has("round") ? o.get("round").getAsInt() : 0,
        o.get("ops_per_second").getAsDouble(),
        number(o, "p50_us"),
        number(o, "p99_us"),
        number(o, "p999_us"),
        errors);
  }

  private static double number(JsonObject o, String field) {
    return o.has(field) && !o.get(field).isJsonNull() ? o.get(field).getAsDouble() : Double.NaN;
  }
}
