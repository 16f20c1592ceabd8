package io.keyrotor.chaos.history;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.Set;

/**
 * The JSON Lines encoding of an {@link Event}: one compact object per line with the fields {@code
 * index, type, process, node, f, key, value, rev, error, t}, absent fields omitted.
 */
public final class HistoryCodec {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  private static final Set<String> FIELDS =
      Set.of("index", "type", "process", "node", "f", "key", "value", "rev", "error", "t");

  private HistoryCodec() {}

  /** The event as one line of JSON, without the line terminator. */
  public static String toJsonLine(Event event) {
    JsonObject json = new JsonObject();
    json.addProperty("index", event.index());
    json.addProperty("type", event.type().jsonName());
    if (event.process().isNemesis()) {
      json.addProperty("process", "nemesis");
    } else {
      json.addProperty("process", event.process().value());
    }
    if (event.nodeOrNull() != null) {
      json.addProperty("node", event.nodeOrNull());
    }
    json.addProperty("f", event.f());
    if (event.keyOrNull() != null) {
      json.addProperty("key", event.keyOrNull());
    }
    JsonElement value = event.valueOrNull();
    if (value != null) {
      json.add("value", value);
    }
    if (event.revOrNull() != null) {
      json.addProperty("rev", event.revOrNull());
    }
    if (event.errorOrNull() != null) {
      json.addProperty("error", event.errorOrNull());
    }
    json.addProperty("t", event.timeNanos());
    return GSON.toJson(json);
  }

  /**
   * Parses one line.
   *
   * @throws IllegalArgumentException if the line is not an event (unknown or missing field, wrong
   *     type)
   */
  public static Event fromJsonLine(String line) {
    JsonObject json;
    try {
      JsonElement parsed = JsonParser.parseString(line);
      if (!parsed.isJsonObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      json = parsed.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    for (String field : json.keySet()) {
      if (!FIELDS.contains(field)) {
        throw new IllegalArgumentException("unknown field: " + field);
      }
    }
    try {
      return new Event(
          requiredLong(json, "index"),
          EventType.fromJsonName(requiredString(json, "type")),
          process(json),
          optionalString(json, "node"),
          requiredString(json, "f"),
          optionalString(json, "key"),
          json.has("value") ? json.get("value") : null,
          json.has("rev") && !json.get("rev").isJsonNull() ? requiredLong(json, "rev") : null,
          optionalString(json, "error"),
          requiredLong(json, "t"));
    } catch (ClassCastException | IllegalStateException | NumberFormatException e) {
      throw new IllegalArgumentException("malformed field: " + e.getMessage(), e);
    }
  }

  private static ProcessId process(JsonObject json) {
    JsonElement process = json.get("process");
    if (process == null || !process.isJsonPrimitive()) {
      throw new IllegalArgumentException("missing field: process");
    }
    JsonPrimitive primitive = process.getAsJsonPrimitive();
    if (primitive.isString() && primitive.getAsString().equals("nemesis")) {
      return ProcessId.NEMESIS;
    }
    if (!primitive.isNumber()) {
      throw new IllegalArgumentException("process must be an integer or \"nemesis\": " + process);
    }
    return ProcessId.of(Math.toIntExact(primitive.getAsLong()));
  }

  private static long requiredLong(JsonObject json, String field) {
    JsonElement element = json.get(field);
    if (element == null || !element.isJsonPrimitive() || !element.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException("missing or non-numeric field: " + field);
    }
    return element.getAsLong();
  }

  private static String requiredString(JsonObject json, String field) {
    String value = optionalString(json, field);
    if (value == null) {
      throw new IllegalArgumentException("missing field: " + field);
    }
    return value;
  }

  private static String optionalString(JsonObject json, String field) {
    JsonElement element = json.get(field);
    if (element == null || element.isJsonNull()) {
      return null;
    }
    if (!element.isJsonPrimitive() || !element.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("field must be a string: " + field);
    }
    return element.getAsString();
  }
}
