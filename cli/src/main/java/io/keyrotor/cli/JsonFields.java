package io.keyrotor.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * Strict reading of the members of a JSON object the CLI reads back ({@link AuditJson}, {@link
 * ReceiptJson}): an absent or null member is the proto default, a member of the wrong type or an
 * unknown member is an {@link IllegalArgumentException} naming it.
 */
final class JsonFields {
  private static final HexFormat HEX = HexFormat.of();

  private JsonFields() {}

  /** Refuses a member of {@code json} not in {@code known}; {@code what} names the object. */
  static void strict(JsonObject json, Set<String> known, String what) {
    for (String name : json.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(what + " has an unknown field \"" + name + "\"");
      }
    }
  }

  /** A string member; empty when absent. */
  static String string(JsonObject json, String name) {
    JsonElement e = json.get(name);
    if (e == null || e.isJsonNull()) {
      return "";
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("\"" + name + "\" is not a string");
    }
    return e.getAsString();
  }

  /** A whole-number member; 0 when absent. */
  static long number(JsonObject json, String name) {
    JsonElement e = json.get(name);
    if (e == null || e.isJsonNull()) {
      return 0;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException("\"" + name + "\" is not a number");
    }
    try {
      return e.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
    } catch (ArithmeticException ex) {
      throw new IllegalArgumentException("\"" + name + "\" is not a whole number");
    }
  }

  /** A string member holding hex; empty when absent. */
  static ByteString hex(JsonObject json, String name) {
    try {
      return ByteString.copyFrom(HEX.parseHex(string(json, name)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + name + "\" is not hex");
    }
  }

  /** A string member holding base64; empty when absent. */
  static ByteString base64(JsonObject json, String name) {
    try {
      return ByteString.copyFrom(Base64.getDecoder().decode(string(json, name)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + name + "\" is not base64");
    }
  }

  /** A string member holding an ISO-8601 time. */
  static Timestamp time(JsonObject json, String name) {
    String text = string(json, name);
    try {
      Instant instant = Instant.parse(text);
      return Timestamp.newBuilder()
          .setSeconds(instant.getEpochSecond())
          .setNanos(instant.getNano())
          .build();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("\"" + name + "\" is not an ISO-8601 time: " + text);
    }
  }
}
