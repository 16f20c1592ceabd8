package io.keyrotor.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JSON result file ({@code target/bench/results-<time>.json}) that the load generator writes,
 * the JMH pass adds its results to and the report adds the evaluated targets to: read and written
 * whole, pretty-printed, with NaN and infinities kept.
 */
public final class ResultFile {
  private ResultFile() {}

  /** The file's JSON object. */
  public static JsonObject read(Path file) throws IOException {
    return JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
  }

  /** Writes {@code root} as the whole file, creating its directory if needed. */
  public static void write(Path file, JsonObject root) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(
        file,
        new GsonBuilder()
            .setPrettyPrinting()
            .serializeSpecialFloatingPointValues()
            .create()
            .toJson(root),
        StandardCharsets.UTF_8);
  }

  /** The 1-minute load average, as /proc/loadavg gives it (or "?"). */
  public static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ", -1)[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
