package io.keyrotor.chaos.checker;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.Operation;
import java.util.List;

/**
 * {@code anomalies.json}: for every check its verdict, counts and doubts, and for every anomaly the
 * kind, key, explanation, the operations (with node, process, times, rev) and the nemesis events
 * (as history lines).
 */
public final class AnomaliesJson {
  private AnomaliesJson() {}

  /** The checks as pretty-printed JSON. */
  public static String render(List<CheckResult> checks) {
    JsonArray array = new JsonArray();
    for (CheckResult check : checks) {
      JsonObject json = new JsonObject();
      json.addProperty("check", check.name());
      json.addProperty("verdict", check.verdict().name());
      JsonObject counts = new JsonObject();
      check.counts().forEach(counts::addProperty);
      json.add("counts", counts);
      JsonArray unknown = new JsonArray();
      check.unknownReasons().forEach(unknown::add);
      json.add("unknown", unknown);
      JsonArray anomalies = new JsonArray();
      for (Anomaly anomaly : check.anomalies()) {
        JsonObject a = new JsonObject();
        a.addProperty("kind", anomaly.kind());
        a.addProperty("key", anomaly.keyOrNull());
        a.addProperty("explanation", anomaly.explanation());
        JsonArray operations = new JsonArray();
        for (Operation op : anomaly.operations()) {
          operations.add(operation(op));
        }
        a.add("operations", operations);
        a.addProperty("omittedOperations", anomaly.omittedOperations());
        JsonArray nemesis = new JsonArray();
        for (Event event : anomaly.nemesisEvents()) {
          nemesis.add(JsonParser.parseString(event.toString()));
        }
        a.add("nemesis", nemesis);
        anomalies.add(a);
      }
      json.add("anomalies", anomalies);
      array.add(json);
    }
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(array);
  }

  private static JsonObject operation(Operation op) {
    JsonObject json = new JsonObject();
    json.addProperty("id", op.id());
    json.addProperty("process", op.process().toString());
    json.addProperty("node", op.nodeOrNull());
    json.addProperty("f", op.f());
    json.addProperty("key", op.keyOrNull());
    json.add("input", op.inputOrNull());
    json.addProperty("outcome", op.outcome().name().toLowerCase(java.util.Locale.ROOT));
    json.add("output", op.outputOrNull());
    json.addProperty("rev", op.revOrNull());
    json.addProperty("error", op.errorOrNull());
    json.addProperty("invokeT", op.invokeNanos());
    json.addProperty("completeT", op.isIndeterminate() ? null : op.completeNanos());
    json.addProperty("invokeIndex", op.invokeIndex());
    json.addProperty("completeIndex", op.completeIndex());
    return json;
  }
}
