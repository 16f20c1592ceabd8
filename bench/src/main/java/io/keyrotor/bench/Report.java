package io.keyrotor.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a result file (load generator and JMH results), evaluates the targets, prints the table,
 * the targets and rows ready for BENCHMARKS.md, and stores the evaluated targets in the file.
 */
final class Report {
  private Report() {}

  static void print(Path file, PrintStream out) throws IOException {
    JsonObject root = ResultFile.read(file);
    List<Row> rows = new ArrayList<>();
    array(root, "measurements").forEach(e -> rows.add(Row.fromJson(e.getAsJsonObject())));
    List<Observation> observations = new ArrayList<>();
    array(root, "observations")
        .forEach(e -> observations.add(Observation.fromJson(e.getAsJsonObject())));
    List<MicroRow> micro = new ArrayList<>();
    array(root, "micro").forEach(e -> micro.add(MicroRow.fromJson(e.getAsJsonObject())));
    List<Goal> goals = new Goals(rows, observations, micro).evaluate();

    String date = text(root, "date");
    int cores =
        root.has("cores")
            ? root.get("cores").getAsInt()
            : Runtime.getRuntime().availableProcessors();
    boolean quick = root.has("quick") && root.get("quick").getAsBoolean();
    out.printf(
        "%nkeyrotor bench %s, %s run, %d cores, load average %s at start / %s at end%n",
        date,
        root.has("run") ? root.get("run").getAsString() : quick ? "quick" : "full",
        cores,
        text(root, "load_average_start"),
        text(root, "load_average_end"));
    if (root.has("settings")) {
      out.println();
      out.println(root.get("settings").getAsString().trim());
    }
    if (root.has("notes")) {
      out.println();
      root.getAsJsonArray("notes").forEach(n -> out.println("note: " + n.getAsString()));
    }
    out.printf(
        "%n%-16s %-20s %-6s %7s %5s %10s %9s %9s %9s  %s%n",
        "scenario",
        "target",
        "mode",
        "load",
        "round",
        "ops/s",
        "p50 us",
        "p99 us",
        "p99.9 us",
        "errors");
    for (Row r : rows) {
      out.printf(
          "%-16s %-20s %-6s %7d %5d %,10.0f %,9.0f %,9.0f %,9.0f  %s%n",
          r.scenario(),
          r.target(),
          r.mode(),
          r.load(),
          r.round(),
          r.opsPerSecond(),
          r.p50Micros(),
          r.p99Micros(),
          r.p999Micros(),
          r.errors().isEmpty() ? "0" : r.errors().toString());
    }
    if (!observations.isEmpty()) {
      out.printf(
          "%n%-18s %-12s %-32s %5s %14s %-6s %s%n",
          "scenario", "target", "figure", "round", "value", "unit", "detail");
      for (Observation o : observations) {
        out.printf(
            "%-18s %-12s %-32s %5d %,14.2f %-6s %s%n",
            o.scenario(), o.target(), o.name(), o.round(), o.value(), o.unit(), o.detail());
      }
    }
    if (!micro.isEmpty()) {
      out.printf(
          "%n%-42s %-14s %-6s %7s %14s %12s  %s%n",
          "JMH benchmark", "params", "mode", "threads", "score", "error", "unit");
      for (MicroRow m : micro) {
        out.printf(
            "%-42s %-14s %-6s %7d %,14.3f %12s  %s%n",
            m.benchmark(),
            m.params(),
            m.mode(),
            m.threads(),
            m.score(),
            Double.isNaN(m.error()) ? "-" : String.format("±%,.3f", m.error()),
            m.unit());
      }
    }
    out.printf("%n%-34s %-8s %-44s %s%n", "target", "status", "result", "target / note");
    for (Goal g : goals) {
      out.printf("%-34s %-8s %-44s %s; %s%n", g.id(), g.status(), g.shown(), g.target(), g.note());
    }
    out.println();
    out.println(
        "docs/benchmarks-history.md rows (| date | cores | run | target | result | status |):");
    String run =
        (root.has("run") ? root.get("run").getAsString() : quick ? "quick" : "full")
            + ", load avg "
            + text(root, "load_average_start");
    for (Goal g : goals) {
      if (Double.isNaN(g.value())) {
        continue;
      }
      out.printf(
          "| %s | %d | %s | %s | %s | %s |%n",
          date.length() >= 10 ? date.substring(0, 10) : date,
          cores,
          run,
          g.id(),
          g.shown(),
          g.status());
    }
    JsonArray goalsJson = new JsonArray();
    goals.forEach(g -> goalsJson.add(g.toJson()));
    root.add("targets", goalsJson);
    ResultFile.write(file, root);
  }

  private static JsonArray array(JsonObject root, String name) {
    JsonElement e = root.get(name);
    return e == null || !e.isJsonArray() ? new JsonArray() : e.getAsJsonArray();
  }

  private static String text(JsonObject root, String name) {
    return root.has(name) && !root.get(name).isJsonNull() ? root.get(name).getAsString() : "?";
  }
}
