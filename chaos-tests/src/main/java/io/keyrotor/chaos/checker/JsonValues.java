package io.keyrotor.chaos.checker;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Lenient reading of operation values: absent or mistyped fields read as null. */
final class JsonValues {
  private JsonValues() {}

  /** {@code value.field} as a long, or {@code value} itself if it is a number; else null. */
  static Long longOrNull(JsonElement valueOrNull, String field) {
    if (valueOrNull == null) {
      return null;
    }
    if (valueOrNull.isJsonPrimitive() && valueOrNull.getAsJsonPrimitive().isNumber()) {
      return valueOrNull.getAsLong();
    }
    JsonElement element = fieldOrNull(valueOrNull, field);
    if (element != null && element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber()) {
      return element.getAsLong();
    }
    return null;
  }

  /** {@code value.field} as a string (numbers are rendered), or null. */
  static String stringOrNull(JsonElement valueOrNull, String field) {
    JsonElement element = fieldOrNull(valueOrNull, field);
    if (element != null && element.isJsonPrimitive()) {
      return element.getAsString();
    }
    return null;
  }

  /** {@code value.field}, or null if value is not an object or has no such non-null field. */
  static JsonElement fieldOrNull(JsonElement valueOrNull, String field) {
    if (valueOrNull == null || !valueOrNull.isJsonObject()) {
      return null;
    }
    JsonObject object = valueOrNull.getAsJsonObject();
    JsonElement element = object.get(field);
    return element == null || element.isJsonNull() ? null : element;
  }

  /**
   * The numbers of a JSON array ({@code value} itself, or {@code value.field}); null if there is no
   * array or an element is not a number.
   */
  static List<Long> longListOrNull(JsonElement valueOrNull, String field) {
    JsonElement array = valueOrNull;
    if (array != null && array.isJsonObject()) {
      array = fieldOrNull(array, field);
    }
    if (array == null || !array.isJsonArray()) {
      return null;
    }
    List<Long> values = new ArrayList<>();
    for (JsonElement element : array.getAsJsonArray()) {
      if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber()) {
        values.add(element.getAsLong());
      } else if (element.isJsonObject() && longOrNull(element, "version") != null) {
        values.add(longOrNull(element, "version"));
      } else {
        return null;
      }
    }
    return values;
  }

  /** The objects of {@code value} if it is an array, or {@code value} alone if it is an object. */
  static List<JsonElement> objects(JsonElement valueOrNull) {
    List<JsonElement> objects = new ArrayList<>();
    if (valueOrNull == null) {
      return objects;
    }
    if (valueOrNull.isJsonArray()) {
      for (JsonElement element : valueOrNull.getAsJsonArray()) {
        if (element.isJsonObject()) {
          objects.add(element);
        }
      }
    } else if (valueOrNull.isJsonObject()) {
      objects.add(valueOrNull);
    }
    return objects;
  }
}
