package io.keyrotor.bench;

import com.google.gson.JsonObject;

/**
 * A figure that is not a throughput block: a recovery time after a leader kill, the duration of a
 * rewrap or an incident rotation, a count of failed calls.
 *
 * @param scenario the scenario it belongs to (e.g. "leader-kill")
 * @param target whom (e.g. "keyrotor", "etcd", "raw-aes-gcm")
 * @param name what (e.g. "first_write_ms")
 * @param value the figure
 * @param unit its unit ("ms", "s", "ops/s", "calls", ...)
 * @param round the round it was taken in (0-based)
 * @param detail free text: counts, the conditions it was taken under
 */
public record Observation(
    String scenario,
    String target,
    String name,
    double value,
    String unit,
    int round,
    String detail) {

  JsonObject toJson() {
    JsonObject out = new JsonObject();
    out.addProperty("scenario", scenario);
    out.addProperty("target", target);
    out.addProperty("name", name);
    out.addProperty("value", Double.isFinite(value) ? Math.round(value * 1000) / 1000.0 : null);
    out.addProperty("unit", unit);
    out.addProperty("round", round);
    out.addProperty("detail", detail);
    return out;
  }

  static Observation fromJson(JsonObject o) {
    return new Observation(
        o.get("scenario").getAsString(),
        o.get("target").getAsString(),
        o.get("name").getAsString(),
        !o.has("value") || o.get("value").isJsonNull() ? Double.NaN : o.get("value").getAsDouble(),
        o.get("unit").getAsString(),
        o.get("round").getAsInt(),
        o.has("detail") && !o.get("detail").isJsonNull() ? o.get("detail").getAsString() : "");
  }
}
