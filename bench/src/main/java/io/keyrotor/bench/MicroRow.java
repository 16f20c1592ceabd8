package io.keyrotor.bench;

import com.google.gson.JsonObject;

/**
 * One JMH result as the report reads it.
 *
 * @param benchmark the benchmark's simple name, e.g. "DecryptBenchmark.leaderDecrypt"
 * @param params its parameters, e.g. "hsm=softhsm2" ("" if none)
 * @param mode JMH mode ("avgt", "thrpt")
 * @param threads benchmark threads
 * @param score the score
 * @param error the 99.9 % confidence half-width (NaN when JMH could not compute it)
 * @param unit e.g. "us/op", "ops/s"
 */
public record MicroRow(
    String benchmark,
    String params,
    String mode,
    int threads,
    double score,
    double error,
    String unit) {

  JsonObject toJson() {
    JsonObject out = new JsonObject();
    out.addProperty("benchmark", benchmark);
    out.addProperty("params", params);
    out.addProperty("mode", mode);
    out.addProperty("threads", threads);
    out.addProperty("score", Stats.round(score, 4));
    out.addProperty("error", Double.isFinite(error) ? Stats.round(error, 4) : null);
    out.addProperty("unit", unit);
    return out;
  }

  static MicroRow fromJson(JsonObject o) {
    return new MicroRow(
        o.get("benchmark").getAsString(),
        o.get("params").getAsString(),
        o.get("mode").getAsString(),
        o.get("threads").getAsInt(),
        o.get("score").getAsDouble(),
        !o.has("error") || o.get("error").isJsonNull() ? Double.NaN : o.get("error").getAsDouble(),
        o.get("unit").getAsString());
  }
}
