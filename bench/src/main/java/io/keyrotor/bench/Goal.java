package io.keyrotor.bench;

import com.google.gson.JsonObject;

/**
 * One stated target and where this run stands against it.
 *
 * @param id a stable short name (BENCHMARKS.md rows use it)
 * @param what the scenario, in words
 * @param target the target, in words (e.g. ">= 1.5x etcd linearizable get ops/s")
 * @param value the figure compared with the target (a ratio, a time, a rate); NaN if not measured
 * @param shown the figure as printed (with its unit)
 * @param met whether the target is met; null when it records a figure only, or was not measured
 * @param note how the figure was obtained (medians of paired rounds, projections)
 */
public record Goal(
    String id, String what, String target, double value, String shown, Boolean met, String note) {

  String status() {
    if (Double.isNaN(value)) {
      return "not run";
    }
    return met == null ? "recorded" : met ? "MET" : "MISSED";
  }

  JsonObject toJson() {
    JsonObject out = new JsonObject();
    out.addProperty("id", id);
    out.addProperty("what", what);
    out.addProperty("target", target);
    out.addProperty("value", Double.isFinite(value) ? Stats.round(value, 4) : null);
    out.addProperty("shown", shown);
    out.addProperty("status", status());
    out.addProperty("note", note);
    return out;
  }
}
